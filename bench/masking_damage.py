"""The damage-driven half of ``python -m bench.masking``: what masking adds to each wake-up.

The program's sessions on X11 capture damage-driven
(:class:`~supportdesk.applet.screen.damage_capture.DamageCaptureLoop`): a wake-up takes the
X server's damage, reads the masks, grabs the drawn areas (plus where a mask went or
came), reads the masks again, paints them over every grabbed piece and compares the
pieces with the kept copy. :func:`wake` is that wake-up, step for step as
``DamageCaptureLoop._watch`` runs it, with the masking steps timed on their own: the
two reads of the areas, turning them into rectangles and finding mask moves, and every
paint (of a grabbed piece and of the kept copy where a mask came after the grab), and
finding and handing on the copies of masks that moved keeping their size. It
calls the loop's own helpers (``drawn_pieces``, ``quiet_pieces``, ``grabs``, ``_note_masks``,
``copyable_masks`` and ``copy_masks``,
``_take_piece`` of a loop that is never started, and ``fewer_rects`` as ``_offer``
merges a wake's damage), so only the order of the steps is
copied here; tests/test_bench_masking.py checks that after the same drawing and mask
moves it holds the picture a started loop hands on (the screen, masks painted over it).

:func:`run` takes one damage watch on the reference workload and hands every wake's
damage to each mode in turn (the order rotating), so all modes see the same drawing;
each mode keeps its own copy and its own RFB engine, which encodes the changes
(Tight, as the program's viewer asks) -- the whole capture-to-encode time per wake-up --
and counts what the encoder got (CopyRects, pixels sent Tight, bytes) and its time.
"""

from __future__ import annotations

import os
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from bench import workload
from bench.__main__ import xvfb
from supportdesk.applet.screen.capture_loop import CopyOp, FrameOp
from supportdesk.applet.screen.damage_capture import DamageCaptureLoop
from supportdesk.applet.screen.damage_masks import copy_masks, copyable_masks, not_copied, outside
from supportdesk.applet.screen.damage_pieces import (
    drawn_pieces,
    fewer_rects,
    grabs,
    mask_moves,
    quiet_pieces,
    scroll_candidates,
)
from supportdesk.applet.screen.rfb_link import bgrx_as_rgb
from supportdesk.capture.mask import MaskArea, MaskKind, monitor_rects
from supportdesk.capture.screen_source import Frame, MssScreenSource
from supportdesk.capture.scroll_copies import MaskPlaces
from supportdesk.rfb import Rect, RFBServerConnection

FIELD = MaskArea(Rect(800, 520, 300, 32), MaskKind.SECRET_INPUT)
FIELD_BELOW = MaskArea(Rect(800, 600, 300, 32), MaskKind.SECRET_INPUT)
MOVING = "field moving"
"""The one mode whose mask moves: between two fields, every wake-up (the worst case)."""


class Masks:
    """A mask source that says the same areas (or, moving, two places in turn)."""

    def __init__(self, *places: Sequence[MaskArea]) -> None:
        self.places = [tuple(p) for p in places]
        self.now = self.places[0]

    def areas(self) -> Sequence[MaskArea]:
        return self.now

    def move(self) -> None:
        """On to the next place (each wake-up's mask move in the moving mode)."""
        self.places.append(self.places.pop(0))
        self.now = self.places[0]


@dataclass
class Lane:
    """One mode's capture state: the loop whose helpers run, its kept copy and engine."""

    loop: DamageCaptureLoop
    masks: Masks | None
    mirror: Frame
    conn: RFBServerConnection | None = None
    painted: list[Rect] = field(default_factory=list)
    mask_ms: list[float] = field(default_factory=list)
    total_ms: list[float] = field(default_factory=list)
    encode_ms: list[float] = field(default_factory=list)
    sent: int = 0  # bytes the engine sent
    copies: int = 0  # CopyRects handed on (scrolls)
    tight: int = 0  # pixels handed on as changed (sent Tight)


def start_lane(source: object, masks: Masks | None, conn: RFBServerConnection | None) -> Lane:
    """The first, whole grab (masked as the loop does), as the loop's start."""
    loop = DamageCaptureLoop(source, 0, polling_max_fps=30.0, masks=masks)
    before = list(masks.areas()) if masks is not None else []
    mirror = np.array(loop._damage_source.grab(0))
    lane = Lane(loop, masks, mirror, conn)
    if masks is not None:
        size = (mirror.shape[1], mirror.shape[0])
        lane.painted = loop._note_masks([*before, *masks.areas()], size)
        lane.mirror = loop._painter.paint(mirror, lane.painted)
    return lane


def wake(lane: Lane, drawn: list[Rect]) -> tuple[float, list[FrameOp]]:
    """One wake-up of ``DamageCaptureLoop._watch`` on ``drawn``: (masking seconds, ops).

    The ops are what the loop would hand on (the mirror is updated as the loop's is).
    """
    loop, masks, mirror = lane.loop, lane.masks, lane.mirror
    source = loop._damage_source
    origin = source.monitors()[loop.monitor]
    size = (mirror.shape[1], mirror.shape[0])
    t0 = time.perf_counter()
    before = list(masks.areas()) if masks is not None else []
    moved: list[Rect] = []
    now: list[Rect] = []
    if masks is not None:
        now = monitor_rects(dict.fromkeys(before), loop._origin, size)
        moved = [r.translate(origin.left, origin.top) for r in mask_moves(lane.painted, now)]
    spent = time.perf_counter() - t0
    if not drawn and not moved:
        return spent, []
    t0 = time.perf_counter()
    planned = copyable_masks(loop._painter, mirror, lane.painted, now) if moved else []
    apart = not_copied(moved, planned, origin.left, origin.top)
    spent += time.perf_counter() - t0
    pieces = drawn_pieces(drawn, origin.left, origin.top, *size, apart=apart)
    ops: list[FrameOp] = []
    patches: list[tuple[Rect, Frame]] = []
    scrollable = scroll_candidates(pieces) if loop._detect_scroll else set()
    quiet = quiet_pieces(pieces, drawn, moved, origin.left, origin.top) if moved else {}
    grabbed = [
        (grab, inside, source.grab_area(loop.monitor, (grab.x, grab.y, grab.width, grab.height)))
        for grab, inside in grabs(pieces)
    ]
    t0 = time.perf_counter()
    rects = loop._note_masks([*before, *masks.areas()], size) if masks is not None else []
    painter = loop._painter
    moves = copyable_masks(painter, mirror, lane.painted, rects)
    both = MaskPlaces(tuple(lane.painted), tuple(rects)).copied([c.dst for c in moves])
    spent += time.perf_counter() - t0
    for grab, inside, pixels in grabbed:
        if rects:
            t0 = time.perf_counter()
            pixels = painter.paint(pixels, rects, at=(grab.x, grab.y), size=size)
            spent += time.perf_counter() - t0
        for area in inside:
            new = pixels[
                area.y - grab.y : area.bottom - grab.y, area.x - grab.x : area.right - grab.x
            ]
            loop._take_piece(
                mirror, area, new, area in scrollable, ops, patches, masks=both,
                known=outside(quiet.get(area), moves),
            )  # fmt: skip
    copied = {c.dst for c in moves}
    skipped = {c.dst for c in planned} & set(rects)
    for r in ((set(rects) - set(lane.painted) - set(now)) | skipped) - copied:  # since the grab
        t0 = time.perf_counter()
        new = painter.paint(
            mirror[r.y : r.bottom, r.x : r.right].copy(), rects, at=(r.x, r.y), size=size
        )
        spent += time.perf_counter() - t0
        loop._take_piece(mirror, r, new, False, ops, patches)
    t0 = time.perf_counter()
    copy_masks(painter, moves, mirror, ops, patches)
    spent += time.perf_counter() - t0
    lane.painted = rects
    return spent, fewer_rects(ops, rects)  # as DamageCaptureLoop._offer


def timed_wake(lane: Lane, drawn: list[Rect]) -> None:
    """One wake-up of ``lane`` for ``drawn``, encoded, with its times and what it sent."""
    started = time.perf_counter()
    spent, ops = wake(lane, drawn)
    if ops and lane.conn is not None:
        t0 = time.perf_counter()
        lane.sent += encode(lane.conn, ops, lane.mirror)
        lane.encode_ms.append((time.perf_counter() - t0) * 1000)
        lane.copies += sum(isinstance(op, CopyOp) for op in ops)
        lane.tight += sum(op.area for op in ops if isinstance(op, Rect))
    lane.total_ms.append((time.perf_counter() - started) * 1000)
    lane.mask_ms.append(spent * 1000)


def encode(conn: RFBServerConnection, ops: list[FrameOp], mirror: Frame) -> int:
    """The ops into the engine (as rfb_link's ``_apply``), one Tight update: bytes sent."""
    for op in ops:
        if isinstance(op, CopyOp):
            conn.copy_rect(op.dst, op.src_x, op.src_y)
        else:
            conn.add_damage([op])
    conn.receive_data(struct.pack(">BBHHHH", 3, 1, 0, 0, conn.width, conn.height))
    conn.send_framebuffer_update(bgrx_as_rgb(mirror))
    return len(conn.data_to_send())


def run(
    modes: dict[str, tuple[MaskArea, ...]],
    seconds: float,
    engine: Callable[[int, int], RFBServerConnection],
) -> tuple[dict[str, Lane], dict[str, float]]:
    """Every mode's lane after ``seconds`` of wake-ups on the workload, and what was seen.

    ``engine(width, height)`` makes an RFB engine past its handshake. The second result
    holds the wake-ups, the drawn area per wake-up and the load averages before/after.
    """
    seen = {"load before": os.getloadavg()[0]}
    with xvfb() as display:
        procs = workload.start(display)
        source = MssScreenSource(display)
        watch = source.damage_watch()
        if watch is None:
            raise RuntimeError("this X server has no DAMAGE")
        try:
            time.sleep(3)  # the painter and the xterm are up
            mon = source.monitors()[0]
            lanes: dict[str, Lane] = {}
            places = {mode: [areas] for mode, areas in modes.items()}
            places[MOVING] = [(FIELD,), (FIELD_BELOW,)]
            for mode, where in places.items():
                masks = Masks(*where) if where[0] else None
                lanes[mode] = start_lane(source, masks, engine(mon.width, mon.height))
            watch.take(0.0)  # the damage so far is in every lane's first grab
            order = list(lanes)
            wakes, drawn_px = 0, 0
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                drawn = watch.take(1 / 30)
                wakes += 1
                drawn_px += sum(r.area for r in drawn)
                order.append(order.pop(0))  # each mode first in turn
                for mode in order:
                    lane = lanes[mode]
                    if lane.masks is not None:
                        lane.masks.move()  # a mask with one place stays
                    timed_wake(lane, drawn)
        finally:
            watch.close()
            source.close()
            for p in procs:
                p.terminate()
    seen.update(
        {"wakes": wakes, "drawn px": drawn_px / max(wakes, 1), "load after": os.getloadavg()[0]}
    )
    return lanes, seen
