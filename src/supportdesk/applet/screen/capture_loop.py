"""The capture worker: grabs one monitor in its own thread, at a bounded, adaptive rate.

The thread grabs only while its consumer wants a frame (the viewer asked for an update
and the transport has drained) and capture is neither paused nor stopped, at most
``max_fps`` times a second; while the screen stays unchanged it backs off towards
``idle_fps``, and :meth:`CaptureLoop.kick` (agent input) brings the rate straight back.
Each grab is compared with the previous one; the changes (damage rectangles and a
detected vertical scroll as a copy) are collected in a one-slot mailbox together with
the newest frame, so a slow consumer costs memory for one frame, never a queue.

With a mask source, every grab is masked before anything compares or keeps it: the
areas are read just before and just after the grab and both are painted (a field that
moves during the grab is covered where it was and where it went), so no pixel of a
secret field ever reaches damage detection, the encoder or the recording. A scroll is
looked for with the masks of both grabs left out, and its copy goes around them
(:func:`~supportdesk.capture.scroll_copies.frame_changes`): a still mask in scrolling
text costs only the text that comes out from under it. A mask that moved keeping its
size is copied from its old place (a CopyRect, before the scroll's copies), not sent.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from supportdesk.capture.damage import Rect as Damage
from supportdesk.capture.mask import MaskArea, MaskKind, MaskPainter, monitor_rects
from supportdesk.capture.mask_copies import MaskCopy
from supportdesk.capture.mask_sources import MaskSource
from supportdesk.capture.screen_source import Frame, ScreenSource
from supportdesk.capture.scroll_copies import Copy, MaskPlaces, frame_changes
from supportdesk.rfb.geometry import Rect

log = logging.getLogger(__name__)

DEFAULT_MAX_FPS = 30.0
DEFAULT_IDLE_FPS = 10.0
MAX_PENDING_OPS = 64
"""More unconsumed changes than this collapse into one whole-frame rectangle."""
_BACKOFF = 1.5


@dataclass(frozen=True, slots=True)
class CopyOp:
    """``dst`` now shows what was at ``(src_x, src_y)`` in the previous frame (a scroll)."""

    dst: Rect
    src_x: int
    src_y: int


FrameOp = Rect | CopyOp
"""One change between two frames: damage to repaint, or a copy."""


@dataclass(slots=True)
class FrameDelta:
    """The newest frame and every change since the consumer last took one, in order.

    ``full`` is true when the consumer must treat the whole frame as changed (first
    frame, size change, or too many changes piled up); then ``frame`` is the picture.
    """

    frame: Frame
    ops: list[FrameOp] = field(default_factory=list)
    full: bool = False
    patches: list[tuple[Rect, Frame]] = field(default_factory=list)
    """Areas of new pixels (damage-driven capture): unless ``full``, the consumer pastes
    them into the frame it already holds, and ``frame`` is not to be kept."""


class CaptureLoop:
    """Grab ``monitor`` of ``source`` in a worker thread while the consumer wants frames.

    ``on_delta`` is called from the worker thread after a new delta is ready; it must
    be thread-safe and quick (``loop.call_soon_threadsafe(event.set)``). All methods
    may be called from any thread.
    """

    def __init__(
        self,
        source: ScreenSource,
        monitor: int = 0,
        *,
        max_fps: float = DEFAULT_MAX_FPS,
        idle_fps: float = DEFAULT_IDLE_FPS,
        detect_scroll: bool = True,
        on_delta: Callable[[], None] | None = None,
        masks: MaskSource | None = None,
        painter: MaskPainter | None = None,
        on_masks: Callable[[frozenset[MaskKind]], None] | None = None,
    ) -> None:
        if not 0 < idle_fps <= max_fps:
            raise ValueError("need 0 < idle_fps <= max_fps")
        self._source = source
        self.monitor = monitor
        self._min_interval = 1.0 / max_fps
        self._max_interval = 1.0 / idle_fps
        self._interval = self._min_interval
        self._detect_scroll = detect_scroll
        self._on_delta = on_delta
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._wanted = False
        self._large = True  # a frame may bring large changes (see want())
        self._paused = False
        self._stopped = False
        self._kicked = False
        self._pending: FrameDelta | None = None
        self._last_grab = float("-inf")
        self.grabs = 0
        self.error: BaseException | None = None
        self._masks = masks
        self._painter = painter or MaskPainter("Geschützte Eingabe")
        self._on_masks = on_masks
        self._origin = (0, 0)
        if masks is not None:
            m = source.monitors()[monitor]
            self._origin = (m.left, m.top)
        self.mask_rects: tuple[Rect, ...] = ()
        """The rectangles masked in the newest grab, in frame coordinates (any thread)."""
        self.masked: frozenset[MaskKind] = frozenset()
        """Why the newest grab was masked (empty: not masked)."""

    # -- control ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker thread; nothing is grabbed before this call."""
        with self._cond:
            if self._stopped:
                raise RuntimeError("capture was stopped")
            if self._thread is not None:
                return
            self._thread = threading.Thread(
                target=self._run, name=f"capture-monitor-{self.monitor}", daemon=True
            )
            self._thread.start()

    takes_small_alone = False
    """Whether the loop can take the small changes of a frame without the large ones
    (``want(True, large=False)``); this one grabs whole frames and cannot."""

    def want(self, wanted: bool, *, large: bool = True) -> None:
        """Tell the worker whether the consumer is ready for a new frame.

        ``large=False``: only a frame of small changes may be taken now (the frame clock
        holds the large ones back); a loop that cannot take those alone waits.
        """
        with self._cond:
            if (wanted, large) != (self._wanted, self._large):
                self._wanted, self._large = wanted, large
                self._cond.notify_all()

    def kick(self) -> None:
        """Something is about to change (agent input): grab at the full rate again."""
        with self._cond:
            self._kicked = True
            self._interval = self._min_interval
            self._cond.notify_all()

    def pause(self) -> None:
        """Stop grabbing until :meth:`resume`; the consumer keeps what it has."""
        with self._cond:
            self._paused = True

    def resume(self) -> None:
        """Grab again after :meth:`pause`; the first grab is compared with the last one."""
        with self._cond:
            self._paused = False
            self._interval = self._min_interval
            self._cond.notify_all()

    @property
    def paused(self) -> bool:
        """True between :meth:`pause` and :meth:`resume`."""
        return self._paused

    @property
    def running(self) -> bool:
        """True while the worker thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def stop(self, timeout: float = 1.0) -> bool:
        """Stop grabbing for good; return True if the worker ended within ``timeout``.

        A grab in progress finishes (about a millisecond), nothing is grabbed after it.
        """
        with self._cond:
            self._stopped = True
            self._pending = None
            self._cond.notify_all()
            thread = self._thread
        if thread is None or thread is threading.current_thread():
            return True
        thread.join(timeout)
        return not thread.is_alive()

    def take(self) -> FrameDelta | None:
        """Return and clear the pending delta (None if nothing changed since the last take)."""
        with self._cond:
            delta, self._pending = self._pending, None
            return delta

    # -- worker -------------------------------------------------------------------------

    def _ready(self) -> bool:
        wanted = self._wanted and (self._large or self.takes_small_alone)
        return self._stopped or (wanted and not self._paused)

    def _run(self) -> None:
        previous: Frame | None = None
        previous_masks: tuple[Rect, ...] = ()
        try:
            while True:
                with self._cond:
                    self._cond.wait_for(self._ready)
                    if self._stopped:
                        return
                    interval = self._min_interval if self._kicked else self._interval
                    delay = self._last_grab + interval - time.monotonic()
                    if delay > 0:
                        # Woken early (or wanted too soon): sleep out the rest, unless stopped.
                        self._cond.wait(delay)
                        continue
                    self._kicked = False
                self._last_grab = time.monotonic()
                frame = self._grab_masked()
                self.grabs += 1
                masks = self.mask_rects
                changed = self._publish(previous, frame, MaskPlaces(previous_masks, masks))
                previous, previous_masks = frame, masks
                with self._cond:
                    if changed:
                        self._interval = self._min_interval
                    else:
                        self._interval = min(self._interval * _BACKOFF, self._max_interval)
                if changed and self._on_delta is not None:
                    self._on_delta()
        except BaseException as exc:  # reported to the consumer, which ends the session
            log.exception("capture of monitor %d failed", self.monitor)
            self.error = exc
            if self._on_delta is not None:
                self._on_delta()

    def _grab_masked(self) -> Frame:
        """Grab, then paint over every area masked just before or just after the grab."""
        masks = self._masks
        if masks is None:
            return self._source.grab(self.monitor)
        before = masks.areas()
        frame = self._source.grab(self.monitor)
        rects = self._note_masks([*before, *masks.areas()], (frame.shape[1], frame.shape[0]))
        return self._painter.paint(frame, rects)

    def _note_masks(self, areas: list[MaskArea], size: tuple[int, int]) -> list[Rect]:
        """``areas`` (read around a grab) as frame rectangles; report the kinds if new."""
        areas = list(dict.fromkeys(areas))  # unchanged ones once
        rects = monitor_rects(areas, self._origin, size)
        kinds = frozenset(a.kind for a in areas)
        self.mask_rects = tuple(rects)
        if kinds != self.masked:
            self.masked = kinds
            if self._on_masks is not None:
                self._on_masks(kinds)
        return rects

    def _publish(
        self, previous: Frame | None, frame: Frame, masks: MaskPlaces | tuple[Rect, ...] = ()
    ) -> bool:
        """Diff ``frame`` against ``previous`` and merge the result into the mailbox.

        ``masks``: the rectangles painted into either frame (a scroll's copies avoid them).
        """
        full = previous is None or previous.shape != frame.shape
        ops: list[FrameOp] = []
        if not full:
            assert previous is not None
            copies, damage = frame_changes(previous, frame, scroll=self._detect_scroll, masks=masks)
            if not damage and not copies:
                return False
            ops = frame_ops(copies, damage)
        with self._cond:
            if self._stopped:
                return False
            pending = self._pending
            if pending is None or full:
                self._pending = FrameDelta(frame, ops, full=full)
            else:
                pending.frame = frame
                pending.ops.extend(ops)
                if len(pending.ops) > MAX_PENDING_OPS:
                    pending.ops.clear()
                    pending.full = True
        return True


def frame_ops(copies: list[Copy], damage: list[Damage], dx: int = 0, dy: int = 0) -> list[FrameOp]:
    """The copies (in their order) then the damage, as ops moved by ``dx, dy``."""
    ops: list[FrameOp] = [
        CopyOp(Rect(c.x + dx, c.y + dy, c.width, c.height), c.src_x + dx, c.src_y + dy)
        if isinstance(c, MaskCopy)
        else CopyOp(Rect(c.x + dx, c.dst_y + dy, c.width, c.height), c.x + dx, c.src_y + dy)
        for c in copies
    ]
    ops.extend(Rect(r.x + dx, r.y + dy, r.width, r.height) for r in damage)
    return ops
