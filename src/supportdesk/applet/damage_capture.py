"""Damage-driven capture: grab only what the X server says was drawn, as soon as it is drawn.

:class:`DamageCaptureLoop` has the interface of
:class:`~supportdesk.applet.capture_loop.CaptureLoop` but no polling tick: its thread
sleeps in ``select`` on the DAMAGE events of the display
(:class:`~supportdesk.capture.x11_damage.XDamageWatch`) while the consumer wants a
frame, and when something is drawn it grabs just those areas (merged onto a 32-pixel
grid, at most 32 pieces, grabbed through mss's XShm one by one if they are few, else in
one grab of their bounding box), compares each piece with the copy it keeps,
and hands the consumer the new pixels as patches with the changed rectangles (and a
vertical scroll as a copy), the small pieces of a wake (a clock, a cursor) before the
large ones are compared -- never a whole-screen grab or diff after the first. An idle
screen costs a wake-up every quarter second. ``max_fps`` only bounds a storm of
drawing; a single change goes out at once.

With a mask source (every session of the support program), the masks are read just
before and just after each wake's grabs and painted over every grabbed piece before it
is compared or kept (:meth:`MaskPainter.paint` places pattern and label by the picture,
so a piece gets what a whole paint would give it). A mask that appears, moves or goes
is damage: where it was and where it is are grabbed again and painted in the same
wake, and an area masked only after the grab is painted into the kept copy directly.
A scroll is looked for with the masks of the kept copy and of the grab left out, and
its copy goes around them (:func:`~supportdesk.capture.scroll_copies.frame_changes`);
a wake's damage is merged into fewer rectangles before it is handed over
(:func:`fewer_rects`: the engine pays for each one), never a mask's stripes with the
picture around them.
The thread also wakes to look at the masks without damage: once a frame interval
while things change, backing off to the idle rate while nothing does, and at once when
kicked (:meth:`DamageCaptureLoop.kick`: the Sichtschutz needs no drawing to show).

Where the source offers no damage watch (Windows, macOS, an X server without DAMAGE),
:func:`open_capture_loop` returns the polling loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from supportdesk.applet.capture_loop import (
    DEFAULT_IDLE_FPS,
    DEFAULT_MAX_FPS,
    CaptureLoop,
    FrameDelta,
    FrameOp,
    frame_ops,
)
from supportdesk.capture.damage import tiles_to_rects
from supportdesk.capture.damage_merge import merge_damage
from supportdesk.capture.mask import MaskKind, MaskPainter, monitor_rects
from supportdesk.capture.mask_sources import MaskSource
from supportdesk.capture.screen_source import Frame, ScreenSource
from supportdesk.capture.scroll_copies import MaskPlaces, frame_changes
from supportdesk.rfb.geometry import Rect

__all__ = [
    "DEFAULT_DAMAGE_MAX_FPS",
    "DamageCaptureLoop",
    "fewer_rects",
    "mask_moves",
    "open_capture_loop",
]

DEFAULT_DAMAGE_MAX_FPS = 100.0
"""At most this many grabs a second while drawing goes on without pause."""
GRID = 32
"""Damage rectangles are widened to this grid before grabbing (fewer, larger grabs)."""
MAX_PIECES = 32
"""Drawn areas are merged into at most this many rectangles, each compared on its own."""
SCROLL_MIN_ROWS = 128
SCROLL_MIN_AREA = 128 * 256
SCROLL_SAMPLES = 64
"""Pixels per row the scroll vote compares: a wrong vote costs only bandwidth (what
differs after the move is sent); with 256 the scroll detection took a third more time
on the reference workload (cProfile, 8 s: 0.54 s against 0.40 s)."""
MAX_PILED_OPS = 256
"""More changes than this not yet taken collapse into one whole picture."""
MAX_SEPARATE_GRABS = 4
"""More pieces than this are grabbed in one go (their bounding box)."""
SMALL_PIECE = 1 << 15
"""Pieces of at most this many pixels are handed over before the others of their wake."""
_IDLE_WAKE = 0.25  # s: how often an idle thread looks at stop/pause/want
_MASK_BACKOFF = 1.5  # with masks: the wake-up interval grows by this while nothing changes


class DamageWatch(Protocol):
    """What the loop needs of a damage watch (see :class:`~.x11_damage.XDamageWatch`)."""

    def take(self, timeout: float) -> list[Rect]: ...

    def interrupt(self) -> None: ...

    def close(self) -> None: ...


class DamageSource(ScreenSource, Protocol):
    """A screen source that can grab an area and tell what was drawn."""

    def grab_area(self, monitor: int, area: tuple[int, int, int, int]) -> Frame: ...

    def damage_watch(self) -> DamageWatch | None: ...


def open_capture_loop(
    source: ScreenSource,
    monitor: int = 0,
    *,
    max_fps: float = DEFAULT_MAX_FPS,
    idle_fps: float = DEFAULT_IDLE_FPS,
    damage_max_fps: float = DEFAULT_DAMAGE_MAX_FPS,
    detect_scroll: bool = True,
    on_delta: Callable[[], None] | None = None,
    masks: MaskSource | None = None,
    painter: MaskPainter | None = None,
    on_masks: Callable[[frozenset[MaskKind]], None] | None = None,
) -> CaptureLoop:
    """The damage-driven loop if ``source`` can grab areas and watch damage, else polling.

    Both paint ``masks`` over every pixel they grab before anything compares or keeps it.
    """
    if hasattr(source, "damage_watch") and hasattr(source, "grab_area"):
        return DamageCaptureLoop(
            source,
            monitor,
            max_fps=max(max_fps, damage_max_fps),
            idle_fps=idle_fps,
            detect_scroll=detect_scroll,
            on_delta=on_delta,
            polling_max_fps=max_fps,
            masks=masks,
            painter=painter,
            on_masks=on_masks,
        )
    return CaptureLoop(
        source,
        monitor,
        max_fps=max_fps,
        idle_fps=idle_fps,
        detect_scroll=detect_scroll,
        on_delta=on_delta,
        masks=masks,
        painter=painter,
        on_masks=on_masks,
    )


class DamageCaptureLoop(CaptureLoop):
    """A capture loop woken by DAMAGE events; falls back to polling if no watch opens."""

    def __init__(self, source: Any, monitor: int = 0, *, polling_max_fps: float, **kw: Any):
        super().__init__(source, monitor, **kw)
        self._damage_source: DamageSource = source
        self._polling_interval = 1.0 / polling_max_fps
        self.damage_driven = False
        self._open_watch: DamageWatch | None = None

    def kick(self) -> None:
        """As :meth:`CaptureLoop.kick`, and look at the masks at once (a Sichtschutz)."""
        super().kick()
        watch = self._open_watch
        if watch is not None:
            watch.interrupt()

    def _run(self) -> None:
        try:
            watch = self._damage_source.damage_watch()
        except BaseException as exc:  # reported like a failed grab
            self._fail(exc)
            return
        if watch is None:
            self._min_interval = self._interval = self._polling_interval
            super()._run()
            return
        self.damage_driven = True
        self._open_watch = watch
        try:
            self._watch(watch)
        except BaseException as exc:
            self._fail(exc)
        finally:
            self._open_watch = None
            watch.close()

    def _fail(self, exc: BaseException) -> None:
        self.error = exc
        if self._on_delta is not None:
            self._on_delta()

    def _watch(self, watch: DamageWatch) -> None:
        mirror: Frame | None = None  # what the consumer holds once it took every delta
        origin = self._source.monitors()[self.monitor]
        masks = self._masks
        # With masks the thread also wakes to look at them: once a frame while things
        # change, backing off to the idle rate while nothing does (as the polling loop),
        # so a mask that appears or moves without anything being drawn (a window rule
        # listed anew) shows within a frame interval; kick() (the Sichtschutz) at once.
        wake = _IDLE_WAKE if masks is None else self._polling_interval
        painted: list[Rect] = []  # the mask rectangles painted into the mirror
        while True:
            with self._cond:
                self._cond.wait_for(self._ready)
                if self._stopped:
                    return
                delay = self._last_grab + self._min_interval - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
            if mirror is None:
                self._last_grab = time.monotonic()
                before = list(masks.areas()) if masks is not None else []
                mirror = np.array(self._source.grab(self.monitor))  # a copy we may write to
                self.grabs += 1
                if masks is not None:
                    size = (mirror.shape[1], mirror.shape[0])
                    painted = self._note_masks([*before, *masks.areas()], size)
                    mirror = self._painter.paint(mirror, painted)
                self._offer(FrameDelta(mirror.copy(), full=True), mirror)
                continue
            drawn = watch.take(wake)
            size = (mirror.shape[1], mirror.shape[0])
            before = list(masks.areas()) if masks is not None else []
            moved: list[Rect] = []  # mask rectangles that went or came: grabbed again
            if masks is not None:
                now = monitor_rects(dict.fromkeys(before), self._origin, size)
                moved = [r.translate(origin.left, origin.top) for r in mask_moves(painted, now)]
            if not drawn and not moved:
                if masks is not None:
                    wake = min(wake * _MASK_BACKOFF, self._max_interval)
                continue
            if masks is not None:
                wake = self._polling_interval
            self._last_grab = time.monotonic()
            pieces = _drawn_pieces(drawn, origin.left, origin.top, *size, apart=moved)
            ops: list[FrameOp] = []
            patches: list[tuple[Rect, Frame]] = []
            scrollable = _scroll_candidates(pieces) if self._detect_scroll else set()
            grabbed = [
                (
                    grab,
                    inside,
                    self._damage_source.grab_area(
                        self.monitor, (grab.x, grab.y, grab.width, grab.height)
                    ),
                )
                for grab, inside in _grabs(pieces)
            ]
            self.grabs += len(grabbed)
            rects: list[Rect] = []
            if masks is not None:  # painted before anything compares or keeps a pixel
                rects = self._note_masks([*before, *masks.areas()], size)
            both = MaskPlaces(tuple(painted), tuple(rects))  # in the mirror, in the grab
            views: list[tuple[Rect, Frame]] = []
            for grab, inside, pixels in grabbed:
                if rects:
                    pixels = self._painter.paint(pixels, rects, at=(grab.x, grab.y), size=size)
                views.extend(
                    (
                        area,
                        pixels[
                            area.y - grab.y : area.bottom - grab.y,
                            area.x - grab.x : area.right - grab.x,
                        ],
                    )
                    for area in inside
                )
            small = [v for v in views if v[0].area <= SMALL_PIECE]
            if small and len(small) < len(views):
                # Small pieces (a clock, a cursor, a typed letter) are compared and handed
                # over first: they go out while the large ones are still being compared.
                for area, new in small:
                    self._take_piece(
                        mirror, area, new, area in scrollable, ops, patches, masks=both
                    )
                if ops:
                    self._offer(FrameDelta(mirror, ops, patches=patches), mirror)
                    ops, patches = [], []
                views = [v for v in views if v[0].area > SMALL_PIECE]
            for area, new in views:  # compared piece by piece: unchanged pixels stay out
                self._take_piece(mirror, area, new, area in scrollable, ops, patches, masks=both)
            for r in set(rects) - set(painted):  # masked since the grab: paint the mirror
                new = self._painter.paint(
                    mirror[r.y : r.bottom, r.x : r.right].copy(), rects, at=(r.x, r.y), size=size
                )
                self._take_piece(mirror, r, new, False, ops, patches)
            painted = rects
            if ops:
                self._offer(FrameDelta(mirror, ops, patches=patches), mirror)

    def _take_piece(
        self,
        mirror: Frame,
        area: Rect,
        new: Frame,
        scroll: bool,
        ops: list[FrameOp],
        patches: list[tuple[Rect, Frame]],
        *,
        masks: MaskPlaces | None = None,
    ) -> None:
        """Compare ``new`` pixels of ``area`` with the mirror; keep and list what changed.

        With ``scroll``, a vertical scroll inside the area is looked for too (copies
        around ``masks``, the mask rectangles of the mirror and of ``new``, in frame
        coordinates).
        """
        old = mirror[area.y : area.bottom, area.x : area.right]  # compared in place
        inside = masks.within(area) if masks is not None else ()
        copies, damage = frame_changes(
            old, new, scroll=scroll, masks=inside, samples=SCROLL_SAMPLES
        )
        if damage or copies:
            mirror[area.y : area.bottom, area.x : area.right] = new
            patches.append((area, new))
            ops.extend(frame_ops(copies, damage, area.x, area.y))

    def _offer(self, delta: FrameDelta, mirror: Frame) -> None:
        """Merge ``delta`` into the one-slot mailbox and wake the consumer.

        Its damage is merged first (:func:`fewer_rects`, the masks of the newest grab).
        """
        delta.ops = fewer_rects(delta.ops, self.mask_rects)
        with self._cond:
            if self._stopped:
                return
            pending = self._pending
            wake = pending is None  # else the consumer was woken and has not taken it yet
            if pending is None or delta.full:
                self._pending = delta
            elif pending.full:
                for area, pixels in delta.patches:  # not taken yet: still ours to write
                    pending.frame[area.y : area.bottom, area.x : area.right] = pixels
                pending.ops.extend(delta.ops)
            else:
                pending.patches.extend(delta.patches)
                pending.ops.extend(delta.ops)
            merged = self._pending
            assert merged is not None
            piled = sum(a.area for a, _ in merged.patches)
            pixels = mirror.shape[0] * mirror.shape[1]
            if not merged.full and (len(merged.ops) > MAX_PILED_OPS or piled > 2 * pixels):
                # The consumer fell far behind: one copy of the picture beats the pile (and
                # the consumer sends everything again, so only when the pile is this big).
                self._pending = FrameDelta(mirror.copy(), full=True)
        if wake and self._on_delta is not None:
            self._on_delta()


def fewer_rects(ops: list[FrameOp], masks: Sequence[Rect]) -> list[FrameOp]:
    """The copies of one wake's ``ops`` in their order, then its damage merged
    (:func:`~supportdesk.capture.damage_merge.merge_damage`, ``masks`` of the newest grab).

    Every damage rectangle may go after the copies: a wake's pieces do not overlap and each
    piece's copies come before its damage, so no damage lies in the source of a copy that
    followed it (which would have had to carry it along). A field moving over scrolling
    text on every wake-up had its new place sent in three rectangles and the text where
    it went in two (cut by a tile row and by the edge of a grab); with the copies of
    :class:`~supportdesk.capture.scroll_copies.MaskPlaces` and this merge, 200 of
    bench.masking's wake-ups replayed went from 18.8 to 12.3 Tight rectangles a
    wake-up ("off": 6.7, merged 6.6).
    """
    damage = [op for op in ops if isinstance(op, Rect)]
    if len(damage) < 2:
        return ops
    return [*(op for op in ops if not isinstance(op, Rect)), *merge_damage(damage, masks)]


def mask_moves(painted: list[Rect], now: list[Rect]) -> list[Rect]:
    """What to grab again when the masks changed: every rectangle painted and every new one.

    Nothing if the same rectangles are masked (a still mask costs no grab). Otherwise
    all of both: where a mask went the picture underneath must be grabbed, where one
    came it must be painted, and where they overlap the label moved.
    """
    if set(painted) == set(now):
        return []
    return list(dict.fromkeys([*painted, *now]))


def _drawn_pieces(
    drawn: list[Rect], left: int, top: int, width: int, height: int, apart: Sequence[Rect] = ()
) -> list[Rect]:
    """Root-window damage → at most MAX_PIECES grid-aligned areas inside the monitor.

    ``apart`` (where a mask went or came) becomes pieces of its own beside the drawn
    ones: merged with them, its rows would cut a scrolling window into bands, each
    looked at for a scroll alone and the seams sent as pixels (bench.masking, a field
    moving over the scrolling text: 5.5 copies and 65 kpx of pixels more a wake-up).
    """
    rows, cols = -(-height // GRID), -(-width // GRID)

    def grid_of(rects: Sequence[Rect]) -> npt.NDArray[np.bool_]:
        grid = np.zeros((rows, cols), dtype=np.bool_)
        for r in rects:
            x0, y0 = max(0, r.x - left), max(0, r.y - top)
            x1, y1 = min(width, r.x - left + r.width), min(height, r.y - top + r.height)
            if x0 < x1 and y0 < y1:
                grid[y0 // GRID : -(-y1 // GRID), x0 // GRID : -(-x1 // GRID)] = True
        return grid

    pieces = tiles_to_rects(grid_of(drawn), width, height, GRID, MAX_PIECES)
    if apart:
        rest = grid_of(apart)
        for p in pieces:
            y1, x1 = -(-(p.y + p.height) // GRID), -(-(p.x + p.width) // GRID)
            rest[p.y // GRID : y1, p.x // GRID : x1] = False
        extra = tiles_to_rects(rest, width, height, GRID, MAX_PIECES)
        if len(pieces) + len(extra) <= MAX_PIECES:
            pieces += extra
        else:  # too many: merged, as at most MAX_PIECES
            pieces = tiles_to_rects(grid_of([*drawn, *apart]), width, height, GRID, MAX_PIECES)
    return [Rect(r.x, r.y, r.width, r.height) for r in pieces]


def _scroll_candidates(pieces: list[Rect]) -> set[Rect]:
    """The pieces worth a look for a vertical scroll: the two largest of at least 128 rows.

    Scrolling that a CopyRect pays for moves a large area (a page, a list); looking in
    every piece of a busy screen cost more than all the rest of the capture (measured on
    the heavy workload: a thousand looks in 5 s).
    """
    tall = [p for p in pieces if p.height >= SCROLL_MIN_ROWS and p.area >= SCROLL_MIN_AREA]
    return set(sorted(tall, key=lambda p: p.area, reverse=True)[:2])


def _grabs(pieces: list[Rect]) -> list[tuple[Rect, list[Rect]]]:
    """Which areas to grab for ``pieces``, each with the pieces it holds.

    A few pieces are grabbed one by one; more, or pieces that cover two thirds of their
    bounding box or more, in one grab of that box: each grab is a round trip to a busy X
    server, which costs more than copying some unchanged pixels (measured on the heavy
    workload: 13 grabs a wake-up spent more time waiting for replies than all the rest),
    but not four times the pixels (the reference workload's clock and plasma, a screen
    apart, had been grabbed with the 1760x352 between them: 620,000 pixels for 160,000).
    """
    if not pieces:
        return []
    box = pieces[0]
    for r in pieces[1:]:
        box = box.union_bounds(r)
    if len(pieces) > MAX_SEPARATE_GRABS or sum(r.area for r in pieces) * 3 >= box.area * 2:
        return [(box, pieces)]
    return [(r, [r]) for r in pieces]
