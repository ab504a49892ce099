"""One RFB connection of a session serving the customer's screen: its two tasks.

The read task feeds the viewer's bytes to the sans-I/O engine and hands its input to
the session; the write task takes the capture mailbox, feeds damage and
CopyRect moves to the engine, encodes an update when the viewer asked for one (large
ones in a worker thread), writes it, sends keyframes, and refreshes JPEG areas
exactly once they rest (docs/applet.md, "RFBSession").

The link sees its session only through :class:`ServedSession` and the collaborators
handed in (capture loop, wake event, counters, keyframe sink), so the session imports
the link and not the other way round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import numpy as np
import numpy.typing as npt

from supportdesk.applet.screen.capture_loop import CaptureLoop, CopyOp, FrameDelta
from supportdesk.applet.screen.streams import ByteReader, ByteWriter
from supportdesk.capture.screen_source import Frame
from supportdesk.link.keyframe import encode_keyframe
from supportdesk.rfb import (
    ClientCutText,
    KeyEvent,
    LocalProtocolError,
    PointerEvent,
    Rect,
    RemoteProtocolError,
    RFBServerConnection,
    SetDesktopSize,
)
from supportdesk.rfb.encodings.pseudo import DesktopSizeStatus
from supportdesk.rfb.frame_clock import FrameClock

__all__ = [
    "LOSSLESS_REFRESH_AFTER",
    "MAX_OUTBOX",
    "MAX_UPDATE_AREA",
    "OFF_LOOP_AREA",
    "LinkCounters",
    "RFBLink",
    "ServedSession",
    "bgrx_as_rgb",
]

log = logging.getLogger(__name__)

OFF_LOOP_AREA = 256 * 256
"""Updates covering at least this many pixels are encoded in a worker thread."""
LOSSLESS_REFRESH_AFTER = 0.25
"""Seconds without change after which areas the viewer has as JPEG are sent exactly."""
MAX_UPDATE_AREA = 1 << 16
"""About how many changed pixels one update carries; the rest goes with the next request
(measured on both workloads with the large frame rate, docs/benchmarks.md "Issue 16")."""
MAX_OUTBOX = 1 << 20
"""Protocol replies held back while a frame is being written; above this, reading waits."""


def bgrx_as_rgb(frame: Frame) -> npt.NDArray[np.uint8]:
    """An RGB view (no copy) of a BGRX frame, as the RFB engine takes it."""
    return frame[:, :, 2::-1]


class ServedSession(Protocol):
    """What a link asks of the session it serves; ``RFBSession`` is one."""

    @property
    def input_allowed(self) -> bool:
        """True if the agent's input reaches the desktop right now."""
        ...

    def handle_input(self, event: KeyEvent | PointerEvent | ClientCutText) -> None:
        """Carry out (or drop) one input event from the viewer."""
        ...

    def take_copied(self) -> str | None:
        """The customer's latest copy, once, if it may go to the viewer now."""
        ...

    def take_keyframe_request(self) -> bool:
        """Whether a recording keyframe was asked for since the last one; clears the ask."""
        ...


class LinkCounters(Protocol):
    """The session's counters a link adds to (``SessionStats`` has them)."""

    updates: int
    bytes_sent: int
    clipboard_to_agent: int
    keyframes: int


class RFBLink:
    """The per-connection state of one served viewer: engine, outbox, current frame.

    Its two tasks, :meth:`read_loop` and :meth:`write_loop`, run over the session's
    ``capture`` loop, woken by ``wake``; input, the customer's copies and keyframe asks
    go through ``session``. With ``on_keyframe``, a keyframe of what the viewer shows
    goes there when the session asks for one.
    """

    def __init__(
        self,
        session: ServedSession,
        conn: RFBServerConnection,
        writer: ByteWriter,
        *,
        capture: CaptureLoop,
        wake: asyncio.Event,
        stats: LinkCounters,
        on_keyframe: Callable[[bytes], Awaitable[None]] | None = None,
        clock: FrameClock | None = None,
        off_loop_area: int = OFF_LOOP_AREA,
        small_alone: bool = True,
    ) -> None:
        self.session = session
        self.conn = conn
        self.writer = writer
        self.capture = capture
        self.wake = wake
        self.stats = stats
        self.on_keyframe = on_keyframe
        self.outbox = bytearray()
        self.drained = asyncio.Event()
        self.drained.set()
        self.frame: Frame | None = None
        self.shown: Frame | None = None  # the frame of the last update: what the viewer has
        self.need_full = True  # the first frame after the handshake covers everything
        self.engine_lock = asyncio.Lock()  # held while a worker thread encodes
        self.lossy_touched = 0.0  # when JPEG last went out
        self.updates_since_jpeg = 0
        self.watching_since: float | None = None  # since when capture looks for changes
        self.fresh = False  # a frame was taken since the last update went out
        self.clock = clock  # paces the frames taken from capture; None: as fast as asked
        self.tick_at: float | None = None  # when the clock lets the frame wanted be taken
        self.off_loop_area = off_loop_area  # updates this large are encoded in a thread
        self.small_alone = small_alone  # small changes may go while a large frame waits

    async def read_loop(self, reader: ByteReader) -> None:
        conn, session = self.conn, self.session
        while True:
            data = await reader.read()
            if not data:
                with contextlib.suppress(RemoteProtocolError):
                    conn.receive_eof()
                return
            async with self.engine_lock:  # not while a worker thread encodes an update
                # A request for the customer's clipboard is input too: answered only with control.
                conn.clipboard_allowed = session.input_allowed
                try:
                    conn.receive_data(data)
                finally:
                    self.outbox += conn.data_to_send()
                    self._wake()
                events = conn.events_received()
            for event in events:
                if isinstance(event, KeyEvent | PointerEvent | ClientCutText):
                    session.handle_input(event)
                elif isinstance(event, SetDesktopSize) and conn.preferences.extended_desktop_size:
                    # The customer's screen size is not the agent's to change.
                    conn.reply_desktop_size(DesktopSizeStatus.PROHIBITED)
            if len(self.outbox) > MAX_OUTBOX:
                self.drained.clear()
                self._wake()
                await self.drained.wait()

    def _wake(self) -> None:
        self.wake.set()

    async def write_loop(self) -> None:
        capture, engine, wake = self.capture, self.conn, self.wake
        while True:
            rest = self._lossy_rest()
            tick = self._tick()
            timeout = min((t for t in (rest, tick) if t is not None), default=None)
            if timeout is None:
                await wake.wait()
            elif timeout <= 0 or not await _wait(wake, timeout):
                rest = self._lossy_rest()
                if rest is not None and rest <= 0:
                    engine.refresh_lossy()
            wake.clear()
            if capture.error is not None:
                raise RuntimeError("screen capture failed") from capture.error
            delta = capture.take()
            if delta is not None:
                self.fresh = True
                if self.clock is not None:
                    self.clock.taken(time.monotonic(), _changed_area(delta))
                self._apply(delta)
            await self._send()
            # Ask for a new frame while the viewer waits and nothing is left to send, and
            # once after every update: that frame is grabbed during the round trip, so
            # the next request is answered at once (with what an update under the
            # budget left over, the newest small changes first). Only once: a viewer
            # that stops asking stops the grabbing. With a frame clock, at most one
            # frame per interval: the grab waits for the tick (the first change after a
            # quiet spell does not wait), and what it brought goes on as asked for,
            # over as many updates as the budget cuts it into.
            frame_wanted = engine.is_open and (
                (engine.update_requested and (self.frame is None or not engine.update_ready))
                or (self.frame is not None and not self.fresh)
            )
            # A large frame waits for the clock's longer interval after a large one; a
            # capture that can take small changes alone takes them meanwhile.
            now = time.monotonic()
            wait = small_wait = 0.0 if self.clock is None else self.clock.wait(now)
            if self.clock is not None and self.small_alone and capture.takes_small_alone:
                small_wait = self.clock.wait(now, large=False)
            wanted = frame_wanted and small_wait <= 0
            # Held back by the clock only: look again at its next tick.
            tick = wait if small_wait <= 0 else small_wait
            self.tick_at = now + tick if frame_wanted and tick > 0 else None
            capture.want(wanted, large=wait <= 0)
            if self.frame is not None and engine.update_ready:
                wake.set()  # continuous updates: the rest goes out without waiting
            if not wanted:
                self.watching_since = None
            elif self.watching_since is None:
                self.watching_since = time.monotonic()

    def _tick(self) -> float | None:
        """Seconds until the frame clock's tick, if a frame waits for it (None: none does)."""
        if self.tick_at is None:
            return None
        return max(0.0, self.tick_at - time.monotonic())

    def _lossy_rest(self) -> float | None:
        """Seconds until the areas the viewer has as JPEG count as at rest; None: not yet known.

        At rest means: no JPEG went out for LOSSLESS_REFRESH_AFTER, and either two
        updates went out since without JPEG (other things change, the picture does not)
        or capture has been watching that long without a change. Capture that was not
        watching (the viewer had not asked) proves nothing: a moving picture served
        slowly must not be refreshed between its frames.
        """
        if not self.conn.is_open or self.conn.lossy_bounds is None:
            return None
        now = time.monotonic()
        rest = self.lossy_touched + LOSSLESS_REFRESH_AFTER - now
        if self.updates_since_jpeg >= 2:
            return rest
        if self.watching_since is not None:
            return max(rest, self.watching_since + LOSSLESS_REFRESH_AFTER - now)
        return None

    def _apply(self, delta: FrameDelta) -> None:
        engine = self.conn
        if delta.patches and not delta.full and self.frame is not None:
            # Damage-driven capture: new pixels of some areas, pasted into our own copy.
            for area, pixels in delta.patches:
                self.frame[area.y : area.bottom, area.x : area.right] = pixels
            delta.frame = self.frame
        frame = delta.frame
        if frame.shape[:2] != (engine.height, engine.width):
            if engine.is_open and engine.supports_resize:
                engine.resize(frame.shape[1], frame.shape[0])
            else:
                frame = _fit(frame, engine.width, engine.height)
            delta.full = True
        self.frame = frame
        if not engine.is_open:
            self.need_full = True
            return
        if delta.full or self.need_full:
            self.need_full = False
            engine.add_damage([Rect(0, 0, engine.width, engine.height)])
            return
        for op in delta.ops:
            if isinstance(op, CopyOp):
                engine.copy_rect(op.dst, op.src_x, op.src_y)
            else:
                engine.add_damage([op])

    async def _send(self) -> None:
        engine = self.conn
        copied = self.session.take_copied()
        engine.clipboard_allowed = self.session.input_allowed
        if copied is not None and engine.is_open:
            try:
                engine.send_cut_text(copied)
                self.stats.clipboard_to_agent += 1
            except LocalProtocolError as exc:  # too large for the limit: not sent
                log.warning("customer's clipboard not sent: %s", exc)
        if engine.is_open and self.need_full and self.frame is not None:
            self.need_full = False
            engine.add_damage([Rect(0, 0, engine.width, engine.height)])
        lossy_sent = engine.lossy_sent
        if (
            engine.is_open
            and self.frame is not None
            and engine.update_ready
            and await self._encode_update(self.frame)
        ):
            self.stats.updates += 1
            self.fresh = False
            self.shown = self.frame
            self.updates_since_jpeg += 1
            if engine.lossy_sent != lossy_sent:
                self.lossy_touched = time.monotonic()
                self.updates_since_jpeg = 0
        data = bytes(self.outbox) + engine.data_to_send()
        self.outbox.clear()
        if data:
            # No grabbing while the transport is busy: the next frame is taken fresh.
            self.capture.want(False)
            self.watching_since = None
            await self.writer.write(data)
            self.stats.bytes_sent += len(data)
        await self._keyframe()
        self.drained.set()

    async def _encode_update(self, frame: Frame) -> int:
        """Encode the next update: a small one here, a large one in a worker thread.

        numpy, zlib and libjpeg-turbo release the GIL, so while a large update is
        encoded the event loop keeps serving the link and the capture thread keeps
        grabbing. The engine is not thread-safe: the reader waits for ``engine_lock``
        meanwhile. A small update (a clock, a cursor) is encoded at once, without the
        thread hand-off.
        """
        engine = self.conn
        rgb = bgrx_as_rgb(frame)
        # What this update carries is taken: no grabbing until it is out (want() again).
        self.capture.want(False)
        self.watching_since = None
        if engine.pending_area < self.off_loop_area:
            return engine.send_framebuffer_update(rgb)
        async with self.engine_lock:
            return await asyncio.to_thread(engine.send_framebuffer_update, rgb)

    async def _keyframe(self) -> None:
        shown, on_keyframe = self.shown, self.on_keyframe
        if on_keyframe is None:
            return
        if shown is None or not self.conn.is_open:
            return  # asked before the first update (if at all): it follows that update
        if not self.session.take_keyframe_request():
            return
        # Encoding a whole screen takes tens of ms: off the loop. Nothing else writes
        # this stream meanwhile, so the keyframe sits at a message boundary (K3).
        # A copy: with damage-driven capture the frame is patched in place meanwhile.
        payload = await asyncio.to_thread(
            encode_keyframe, bgrx_as_rgb(shown.copy()), self.conn.pixel_format
        )
        await on_keyframe(payload)
        self.conn.restart_compression()
        self.stats.keyframes += 1

    async def flush_quietly(self) -> None:
        """Write what the engine still holds (a protocol error reason), ignoring failures."""
        data = bytes(self.outbox) + self.conn.data_to_send()
        self.outbox.clear()
        if data:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.writer.write(data), timeout=1.0)


def _changed_area(delta: FrameDelta) -> int:
    """How many pixels ``delta`` brought (grabbed and compared): what the frame cost."""
    if delta.full:
        return int(delta.frame.shape[0] * delta.frame.shape[1])
    if delta.patches:
        return sum(area.area for area, _ in delta.patches)
    return sum(op.area for op in delta.ops if not isinstance(op, CopyOp))


async def _wait(event: asyncio.Event, seconds: float) -> bool:
    """Wait for ``event`` at most ``seconds``; True if it was set."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
    return event.is_set()


def _fit(frame: Frame, width: int, height: int) -> Frame:
    """Crop or pad (black) ``frame`` to ``width`` x ``height`` for viewers that cannot resize."""
    out = np.zeros((height, width, 4), dtype=np.uint8)
    h, w = min(height, frame.shape[0]), min(width, frame.shape[1])
    out[:h, :w] = frame[:h, :w]
    return out
