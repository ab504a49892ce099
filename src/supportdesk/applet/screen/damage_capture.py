"""Damage-driven capture: grab only what the X server says was drawn, as soon as it is drawn.

:class:`DamageCaptureLoop` has the interface of
:class:`~supportdesk.applet.screen.capture_loop.CaptureLoop` but no polling tick: its thread
sleeps in ``select`` on the DAMAGE events of the display
(:class:`~supportdesk.capture.x11_damage.XDamageWatch`) while the consumer wants a
frame, and when something is drawn it grabs just those areas (merged onto a 32-pixel
grid, at most 32 pieces, grabbed through mss's XShm one by one if they are few, else in
one grab of their bounding box), compares each piece with the copy it keeps,
and hands the consumer the new pixels as patches with the changed rectangles (and a
vertical scroll as a copy), the small pieces of a wake (a clock, a cursor) before the
large ones are compared -- never a whole-screen grab or diff after the first. An idle
screen costs a wake-up every quarter second. ``max_fps`` only bounds a storm of
drawing; a single change goes out at once. While the consumer allows only small changes
(``want(True, large=False)``: the frame clock holds a large frame back), a wake takes
its small pieces alone and keeps the damage of the others, and of many small pieces
that add up to a large frame, for the large frame's tick.

With a mask source (every session of the support program), the masks are read just
before and just after each wake's grabs and painted over every grabbed piece before it
is compared or kept (:meth:`MaskPainter.paint` places pattern and label by each mask,
clipped to the picture, so a piece gets what a whole paint would give it). A mask that
appears, moves or goes is damage: where it was and where it is are grabbed again and
painted in the same wake, and an area masked only after the grab is painted into the
kept copy directly.
A scroll is looked for with the masks of the kept copy and of the grab left out, and
its copy goes around them (:func:`~supportdesk.capture.scroll_copies.frame_changes`);
a wake's damage is merged into fewer rectangles before it is handed over
(:func:`~supportdesk.applet.screen.damage_pieces.fewer_rects`: the engine pays for each one),
never a mask's stripes with the picture around them. A mask that moved keeping its size
is copied from where the viewer holds its picture, after the scroll's copies, instead of
being sent (:mod:`supportdesk.applet.screen.damage_masks`). The geometry of a wake (pieces,
grabs, scroll candidates, mask moves) is in :mod:`supportdesk.applet.screen.damage_pieces`.
The thread also wakes to look at the masks without damage: once a frame interval
while things change, backing off to the idle rate while nothing does, and at once when
kicked (:meth:`DamageCaptureLoop.kick`: the Sichtschutz needs no drawing to show).

Where the source offers no damage watch (Windows, macOS, an X server without DAMAGE),
:func:`open_capture_loop` returns the polling loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from supportdesk.applet.screen.capture_loop import (
    DEFAULT_IDLE_FPS,
    DEFAULT_MAX_FPS,
    CaptureLoop,
    FrameDelta,
    FrameOp,
    frame_ops,
)
from supportdesk.applet.screen.damage_masks import copy_masks, copyable_masks, not_copied, outside
from supportdesk.applet.screen.damage_pieces import (
    drawn_pieces,
    fewer_rects,
    grabs,
    mask_moves,
    quiet_pieces,
    scroll_candidates,
)
from supportdesk.capture.mask import MaskKind, MaskPainter, monitor_rects
from supportdesk.capture.mask_sources import MaskSource
from supportdesk.capture.screen_source import Frame, ScreenSource
from supportdesk.capture.scroll_copies import MaskPlaces, frame_changes
from supportdesk.rfb.frame_clock import LARGE_FRAME_AREA
from supportdesk.rfb.geometry import Rect

__all__ = ["DEFAULT_DAMAGE_MAX_FPS", "DamageCaptureLoop", "open_capture_loop"]

DEFAULT_DAMAGE_MAX_FPS = 100.0
"""At most this many grabs a second while drawing goes on without pause."""
SCROLL_SAMPLES = 64
"""Pixels per row the scroll vote compares: a wrong vote costs only bandwidth (what
differs after the move is sent); with 256 the scroll detection took a third more time
on the reference workload (cProfile, 8 s: 0.54 s against 0.40 s)."""
MAX_PILED_OPS = 256
"""More changes than this not yet taken collapse into one whole picture."""
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
        self._holding = False  # large changes drawn but held back by want(large=False)

    @property
    def takes_small_alone(self) -> bool:  # type: ignore[override]
        """True once damage drives the loop: it knows where things were drawn."""
        return self.damage_driven

    def want(self, wanted: bool, *, large: bool = True) -> None:
        """As :meth:`CaptureLoop.want`; large changes held back are taken at once when
        allowed again (the thread may be waiting for new damage meanwhile)."""
        super().want(wanted, large=large)
        watch = self._open_watch
        if wanted and large and self._holding and watch is not None:
            watch.interrupt()

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
        held: list[Rect] = []  # large areas drawn, not yet taken (root coordinates)
        while True:
            with self._cond:
                self._cond.wait_for(self._ready)
                if self._stopped:
                    return
                delay = self._last_grab + self._min_interval - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                large = self._large
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
            drawn = [*held, *watch.take(0.0 if held and large else wake)]
            large = self._large  # as the consumer wants it now, after the wait for damage
            size = (mirror.shape[1], mirror.shape[0])
            before = list(masks.areas()) if masks is not None else []
            moved: list[Rect] = []  # mask rectangles that went or came: grabbed again
            now: list[Rect] = []  # the masks read before the grab: inside what is grabbed
            if masks is not None:
                now = monitor_rects(dict.fromkeys(before), self._origin, size)
                moved = [r.translate(origin.left, origin.top) for r in mask_moves(painted, now)]
            if not drawn and not moved:
                if masks is not None:
                    wake = min(wake * _MASK_BACKOFF, self._max_interval)
                continue
            if masks is not None:
                wake = self._polling_interval
            # A new place to be copied is not grabbed: its pixels are the mask's picture.
            planned = copyable_masks(self._painter, mirror, painted, now) if moved else []
            apart = not_copied(moved, planned, origin.left, origin.top)
            pieces = drawn_pieces(drawn, origin.left, origin.top, *size, apart=apart)
            held = []
            if not large and not moved:  # a mask's move is never held back
                # The frame clock holds large changes back: take the small ones now (a
                # clock, a cursor, a typed letter) and keep where the rest was drawn.
                alone = [p for p in pieces if p.area <= SMALL_PIECE]
                if sum(p.area for p in alone) >= LARGE_FRAME_AREA:
                    # A large change drawn piece by piece (a picture put in bands, a list
                    # line by line): as a large frame it would put off the next large one.
                    alone = []
                held = [p.translate(origin.left, origin.top) for p in pieces if p not in alone]
                pieces = alone
            self._holding = bool(held)
            if not pieces and not planned:
                continue
            self._last_grab = time.monotonic()
            ops: list[FrameOp] = []
            patches: list[tuple[Rect, Frame]] = []
            scrollable = scroll_candidates(pieces) if self._detect_scroll else set()
            quiet = quiet_pieces(pieces, drawn, moved, origin.left, origin.top) if moved else {}
            grabbed = [
                (
                    grab,
                    inside,
                    self._damage_source.grab_area(
                        self.monitor, (grab.x, grab.y, grab.width, grab.height)
                    ),
                )
                for grab, inside in grabs(pieces)
            ]
            self.grabs += len(grabbed)
            rects: list[Rect] = []
            if masks is not None:  # painted before anything compares or keeps a pixel
                rects = self._note_masks([*before, *masks.areas()], size)
            moves = copyable_masks(self._painter, mirror, painted, rects)
            # in the mirror, in the grab; a mask to be copied counts as there in both
            both = MaskPlaces(tuple(painted), tuple(rects)).copied([c.dst for c in moves])
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
            batches = [views]
            if small and len(small) < len(views) and not moves:
                # Small pieces (a clock, a cursor, a typed letter) are compared and handed
                # over first: they go out while the large ones are still being compared.
                batches = [small, [v for v in views if v[0].area > SMALL_PIECE]]
            for i, batch in enumerate(batches):
                for area, new in batch:  # compared piece by piece: unchanged pixels stay out
                    self._take_piece(
                        mirror,
                        area,
                        new,
                        area in scrollable,
                        ops,
                        patches,
                        masks=both,
                        known=outside(quiet.get(area), moves),
                    )
                if i < len(batches) - 1 and ops:
                    self._offer(FrameDelta(mirror, ops, patches=patches), mirror)
                    ops, patches = [], []
            # Masked since the grab: paint the mirror. Not a mask read before the grab: it
            # was grabbed (a moved mask's place is a piece) and painted, so the mirror
            # holds its stripes already (comparing it again found nothing: bench.masking,
            # a field moving with every wake-up, one compare of three a wake-up); but one
            # left ungrabbed to be copied, if it is not copied after all. Nothing was
            # drawn there: the mirror holds the screen.
            copied = {c.dst for c in moves}
            skipped = {c.dst for c in planned} & set(rects)
            for r in ((set(rects) - set(painted) - set(now)) | skipped) - copied:
                new = self._painter.paint(
                    mirror[r.y : r.bottom, r.x : r.right].copy(), rects, at=(r.x, r.y), size=size
                )
                self._take_piece(mirror, r, new, False, ops, patches)
            copy_masks(self._painter, moves, mirror, ops, patches)
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
        known: list[Rect] | None = None,
    ) -> None:
        """Compare ``new`` pixels of ``area`` with the mirror; keep and list what changed.

        With ``scroll``, a vertical scroll inside the area is looked for too (copies
        around ``masks``, the mask rectangles of the mirror and of ``new``, in frame
        coordinates). ``known``: the parts of ``area`` that changed, and nothing else
        did (:func:`~supportdesk.applet.screen.damage_pieces.quiet_pieces`): kept and listed
        without comparing.
        """
        if known is not None:
            for k in known:
                part = new[k.y - area.y : k.bottom - area.y, k.x - area.x : k.right - area.x]
                mirror[k.y : k.bottom, k.x : k.right] = part
                patches.append((k, part))
                ops.append(k)
            return
        old = mirror[area.y : area.bottom, area.x : area.right]  # compared in place
        inside = masks.within(area) if masks is not None else ()
        copies, damage = frame_changes(
            old, new, scroll=scroll, masks=inside, samples=SCROLL_SAMPLES, copy_masks=False
        )
        if damage or copies:
            mirror[area.y : area.bottom, area.x : area.right] = new
            patches.append((area, new))
            ops.extend(frame_ops(copies, damage, area.x, area.y))

    def _offer(self, delta: FrameDelta, mirror: Frame) -> None:
        """Merge ``delta`` into the one-slot mailbox and wake the consumer.

        Its damage is merged first (:func:`~supportdesk.applet.screen.damage_pieces.fewer_rects`,
        with the masks of the newest grab).
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
