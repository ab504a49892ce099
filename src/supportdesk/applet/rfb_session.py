"""The asyncio shell that serves the customer's screen to one RFB viewer over a byte-stream pair.

It joins three things: the sans-I/O :class:`~supportdesk.rfb.RFBServerConnection`, a
:class:`~supportdesk.applet.capture_loop.CaptureLoop` grabbing the shared monitor in a
worker thread (woken by the X server's damage events on X11: :mod:`.damage_capture`),
and an :class:`~supportdesk.capture.input_sink.InputSink` that carries out the agent's
keys and clicks. Updates go out only when the viewer asked for one and the previous
write has drained, so a slow link slows the frame rate instead of filling
memory. Input reaches the desktop only while the customer allows control and the
session is not paused; the sink's own ``enabled`` flag is the second lock on that door.

:meth:`RFBSession.start` is the consent gate: before it, nothing is grabbed.
:meth:`pause`, :meth:`resume`, :meth:`set_control` and :meth:`stop` may be called
from any thread (the Tk windows run in their own).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from supportdesk.applet.capture_loop import (
    DEFAULT_IDLE_FPS,
    DEFAULT_MAX_FPS,
    CopyOp,
    FrameDelta,
)
from supportdesk.applet.damage_capture import DEFAULT_DAMAGE_MAX_FPS, open_capture_loop
from supportdesk.applet.streams import ByteReader, ByteWriter
from supportdesk.capture.clipboard import CustomerClipboard
from supportdesk.capture.input_sink import InputSink
from supportdesk.capture.screen_source import Frame, ScreenSource
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
from supportdesk.rfb.clipboard import DEFAULT_MAX_CLIPBOARD_TEXT
from supportdesk.rfb.encodings.pseudo import DesktopSizeStatus

log = logging.getLogger(__name__)

DEFAULT_NAME = "Kundenbildschirm"
OFF_LOOP_AREA = 256 * 256
"""Updates covering at least this many pixels are encoded in a worker thread."""
LOSSLESS_REFRESH_AFTER = 0.25
"""Seconds without change after which areas the viewer has as JPEG are sent exactly."""
MAX_OUTBOX = 1 << 20
"""Protocol replies held back while a frame is being written; above this, reading waits."""


@dataclass(slots=True)
class SessionStats:
    """Counters for diagnostics and benchmarks."""

    updates: int = 0
    bytes_sent: int = 0
    keys_injected: int = 0
    pointer_injected: int = 0
    input_dropped: int = 0
    clipboard_to_customer: int = 0
    clipboard_to_agent: int = 0
    keyframes: int = 0


def bgrx_as_rgb(frame: Frame) -> npt.NDArray[np.uint8]:
    """An RGB view (no copy) of a BGRX frame, as the RFB engine takes it."""
    return frame[:, :, 2::-1]


class RFBSession:
    """Serve monitor ``monitor`` of ``source`` to one RFB viewer; inject its input into ``sink``.

    ``control`` is the customer's initial answer for mouse and keyboard. With a
    ``clipboard``, text crosses both ways while input is allowed (control granted,
    not paused): the agent's cut text is set on it, and what the customer copies goes
    to the viewer, at most ``max_clipboard`` bytes. The caller owns ``source``,
    ``sink`` and ``clipboard`` and closes them after the session.
    """

    def __init__(
        self,
        source: ScreenSource,
        sink: InputSink | None = None,
        *,
        monitor: int = 0,
        name: str = DEFAULT_NAME,
        control: bool = False,
        clipboard: CustomerClipboard | None = None,
        max_clipboard: int = DEFAULT_MAX_CLIPBOARD_TEXT,
        max_fps: float = DEFAULT_MAX_FPS,
        idle_fps: float = DEFAULT_IDLE_FPS,
        damage_max_fps: float = DEFAULT_DAMAGE_MAX_FPS,
        detect_scroll: bool = True,
        on_keyframe: Callable[[bytes], Awaitable[None]] | None = None,
    ) -> None:
        monitors = source.monitors()
        if not 0 <= monitor < len(monitors):
            raise ValueError(f"no monitor {monitor}; have 0..{len(monitors) - 1}")
        self.monitor = monitors[monitor]
        # The viewer points within the shared monitor; the sinks place the pointer
        # relative to the top-left corner of all screens (monitor 0).
        self._pointer_offset = (
            self.monitor.left - monitors[0].left,
            self.monitor.top - monitors[0].top,
        )
        self.name = name
        self.stats = SessionStats()
        self._sink = sink
        self._clipboard = clipboard
        self._max_clipboard = max_clipboard
        self._copied: str | None = None  # the customer's latest copy, not yet sent
        self._listening = False  # to the customer's clipboard: only while serving and allowed
        self._serving = False
        self._lock = threading.Lock()
        self._control = control
        self._started = False
        self._stopped = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._stop_event: asyncio.Event | None = None
        self._on_keyframe = on_keyframe
        self._keyframe_wanted = False
        self._capture = open_capture_loop(
            source,
            monitor,
            max_fps=max_fps,
            idle_fps=idle_fps,
            damage_max_fps=damage_max_fps,
            detect_scroll=detect_scroll,
            on_delta=self._wake_threadsafe,
        )
        self._apply_sink_state()

    # -- customer controls (any thread) ---------------------------------------------------

    def start(self) -> None:
        """Begin capturing: call only after the customer said "Ja"."""
        with self._lock:
            if self._stopped:
                raise RuntimeError("the session has ended")
            self._started = True
            self._capture.start()
        self._apply_sink_state()
        self._wake_threadsafe()

    def pause(self) -> None:
        """Freeze the shared picture and block input until :meth:`resume`."""
        with self._lock:
            self._capture.pause()
        self._apply_sink_state()

    def resume(self) -> None:
        """Share the screen again after :meth:`pause`; control returns if it was allowed."""
        with self._lock:
            self._capture.resume()
        self._apply_sink_state()
        self._wake_threadsafe()

    def set_control(self, allowed: bool) -> None:
        """Grant or revoke the agent's mouse and keyboard; revoking releases held keys."""
        with self._lock:
            self._control = allowed
        self._apply_sink_state()

    def request_keyframe(self) -> None:
        """Send a recording keyframe of what the viewer shows (on the event loop's thread).

        It goes to ``on_keyframe`` after the first update at the earliest, in order
        with the RFB bytes, and the live Tight streams restart right after it
        (docs/recording-format.md, rules K1-K3).
        """
        self._keyframe_wanted = True
        if self._wake is not None:
            self._wake.set()

    def stop(self) -> None:
        """End the session: capture halts (within 1 s), input is blocked, the stream closes.

        Works without network and from any thread; safe to call more than once.
        """
        with self._lock:
            self._stopped = True
        self._apply_sink_state()
        if not self._capture.stop(timeout=1.0):
            log.error("capture thread did not end within 1 s")
        loop, stop_event = self._loop, self._stop_event
        if loop is not None and stop_event is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(stop_event.set)

    @property
    def started(self) -> bool:
        """True once :meth:`start` was called."""
        return self._started

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stopped

    @property
    def paused(self) -> bool:
        """True between :meth:`pause` and :meth:`resume`."""
        return self._capture.paused

    @property
    def control(self) -> bool:
        """True while the customer allows control (whether or not paused)."""
        return self._control

    @property
    def capturing(self) -> bool:
        """True while the capture thread is alive."""
        return self._capture.running

    @property
    def grabs(self) -> int:
        """How many frames were grabbed so far."""
        return self._capture.grabs

    @property
    def input_allowed(self) -> bool:
        """True if agent input reaches the desktop right now."""
        return self._started and self._control and not self._stopped and not self.paused

    def _apply_sink_state(self) -> None:
        if self._sink is not None:
            self._sink.enabled = self.input_allowed
        self._follow_clipboard()

    def _follow_clipboard(self) -> None:
        """Listen to the customer's clipboard only while its text may go out, else it is unread."""
        if self._clipboard is None:
            return
        with self._lock:
            want = self._serving and self.input_allowed
            if want == self._listening:
                return
            self._listening = want
        if want:
            self._clipboard.add_listener(self._customer_copied)
        else:
            self._clipboard.remove_listener(self._customer_copied)

    def _wake_threadsafe(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(wake.set)

    # -- serving --------------------------------------------------------------------------

    async def serve(self, reader: ByteReader, writer: ByteWriter) -> None:
        """Run one RFB connection until the viewer leaves, breaks the protocol, or stop().

        The handshake may complete before :meth:`start`; updates wait for the first frame.
        The writer is closed on return.
        """
        if self._stopped:
            await writer.close()
            return
        if self._loop is not None:
            raise RuntimeError("an RFBSession serves one connection")
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._stop_event = asyncio.Event()
        self._wake.set()  # the server speaks first: "RFB 003.008\n"
        conn = RFBServerConnection(
            self.monitor.width, self.monitor.height, self.name, max_cut_text=self._max_clipboard
        )
        link = _Link(self, conn, writer)
        tasks = {
            asyncio.create_task(link.read_loop(reader), name="rfb-read"),
            asyncio.create_task(link.write_loop(), name="rfb-write"),
            asyncio.create_task(self._stop_event.wait(), name="rfb-stop"),
        }
        self._serving = True
        self._follow_clipboard()
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    log.warning("RFB connection ended: %r", task.exception())
        finally:
            self._serving = False
            self._follow_clipboard()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._capture.want(False)
            await link.flush_quietly()
            with contextlib.suppress(Exception):
                await writer.close()

    # -- used by _Link ----------------------------------------------------------------------

    def _customer_copied(self, text: str) -> None:
        """The customer copied ``text`` (clipboard thread): send it only while input is allowed."""
        if not self.input_allowed:
            return
        with self._lock:
            self._copied = text
        self._wake_threadsafe()

    def _take_copied(self) -> str | None:
        with self._lock:
            text, self._copied = self._copied, None
        return text if self.input_allowed else None

    def _handle_input(self, event: Any) -> None:
        """Carry out one input event from the viewer, if the customer allows it."""
        if isinstance(event, ClientCutText):
            if self._clipboard is not None and self.input_allowed:
                self._clipboard.set_text(event.text)
                self.stats.clipboard_to_customer += 1
            else:
                self.stats.input_dropped += 1
            return
        if not self.input_allowed or self._sink is None:
            self.stats.input_dropped += 1
            return
        if isinstance(event, KeyEvent):
            self._sink.key_event(event.key, event.down)
            self.stats.keys_injected += 1
        elif isinstance(event, PointerEvent):
            dx, dy = self._pointer_offset
            self._sink.pointer_event(event.x + dx, event.y + dy, event.button_mask)
            self.stats.pointer_injected += 1
        # The agent's input is about to change the screen: capture at full rate now.
        self._capture.kick()


class _Link:
    """The per-connection state of :meth:`RFBSession.serve`: engine, outbox, current frame."""

    def __init__(self, session: RFBSession, conn: RFBServerConnection, writer: ByteWriter) -> None:
        self.session = session
        self.conn = conn
        self.writer = writer
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
                    session._handle_input(event)
                elif isinstance(event, SetDesktopSize) and conn.preferences.extended_desktop_size:
                    # The customer's screen size is not the agent's to change.
                    conn.reply_desktop_size(DesktopSizeStatus.PROHIBITED)
            if len(self.outbox) > MAX_OUTBOX:
                self.drained.clear()
                self._wake()
                await self.drained.wait()

    def _wake(self) -> None:
        wake = self.session._wake
        if wake is not None:
            wake.set()

    async def write_loop(self) -> None:
        capture, engine = self.session._capture, self.conn
        wake = self.session._wake
        assert wake is not None
        while True:
            rest = self._lossy_rest()
            if rest is None:
                await wake.wait()
            elif rest <= 0 or not await _wait(wake, rest):
                rest = self._lossy_rest()
                if rest is not None and rest <= 0:
                    engine.refresh_lossy()
            wake.clear()
            if capture.error is not None:
                raise RuntimeError("screen capture failed") from capture.error
            delta = capture.take()
            if delta is not None:
                self._apply(delta)
            await self._send()
            # Ask for a new frame only when the viewer waits and nothing is left to send.
            wanted = (
                engine.is_open
                and engine.update_requested
                and (self.frame is None or not engine.update_ready)
            )
            capture.want(wanted)
            if not wanted:
                self.watching_since = None
            elif self.watching_since is None:
                self.watching_since = time.monotonic()

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
        copied = self.session._take_copied()
        engine.clipboard_allowed = self.session.input_allowed
        if copied is not None and engine.is_open:
            try:
                engine.send_cut_text(copied)
                self.session.stats.clipboard_to_agent += 1
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
            self.session.stats.updates += 1
            self.shown = self.frame
            self.updates_since_jpeg += 1
            if engine.lossy_sent != lossy_sent:
                self.lossy_touched = time.monotonic()
                self.updates_since_jpeg = 0
        data = bytes(self.outbox) + engine.data_to_send()
        self.outbox.clear()
        if data:
            # No grabbing while the transport is busy: the next frame is taken fresh.
            self.session._capture.want(False)
            self.watching_since = None
            await self.writer.write(data)
            self.session.stats.bytes_sent += len(data)
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
        self.session._capture.want(False)
        self.watching_since = None
        if engine.pending_area < OFF_LOOP_AREA:
            return engine.send_framebuffer_update(rgb)
        async with self.engine_lock:
            return await asyncio.to_thread(engine.send_framebuffer_update, rgb)

    async def _keyframe(self) -> None:
        session, shown = self.session, self.shown
        if not session._keyframe_wanted or session._on_keyframe is None:
            return
        if shown is None or not self.conn.is_open:
            return  # asked before the first update: it follows that update
        session._keyframe_wanted = False
        # Encoding a whole screen takes tens of ms: off the loop. Nothing else writes
        # this stream meanwhile, so the keyframe sits at a message boundary (K3).
        # A copy: with damage-driven capture the frame is patched in place meanwhile.
        payload = await asyncio.to_thread(
            encode_keyframe, bgrx_as_rgb(shown.copy()), self.conn.pixel_format
        )
        await session._on_keyframe(payload)
        self.conn.restart_compression()
        session.stats.keyframes += 1

    async def flush_quietly(self) -> None:
        """Write what the engine still holds (a protocol error reason), ignoring failures."""
        data = bytes(self.outbox) + self.conn.data_to_send()
        self.outbox.clear()
        if data:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.writer.write(data), timeout=1.0)


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
