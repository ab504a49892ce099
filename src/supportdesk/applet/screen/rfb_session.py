"""The asyncio shell that serves the customer's screen to one RFB viewer over a byte-stream pair.

It joins three things: the sans-I/O :class:`~supportdesk.rfb.RFBServerConnection`, a
:class:`~supportdesk.applet.screen.capture_loop.CaptureLoop` grabbing the shared monitor in a
worker thread (woken by the X server's damage events on X11: :mod:`.damage_capture`),
and an :class:`~supportdesk.capture.input_sink.InputSink` that carries out the agent's
keys and clicks. Updates go out only when the viewer asked for one and the previous
write has drained, so a slow link slows the frame rate instead of filling
memory. Input reaches the desktop only while the customer allows control and the
session is not paused; the sink's own ``enabled`` flag is the second lock on that door.
With ``masks``, every grab is masked before damage detection (see capture_loop.py), and
the agent's input into a masked area is dropped: a click inside one, and every key,
clipboard text and click while a secret field has the focus or the picture is blanked.

:meth:`RFBSession.start` is the consent gate: before it, nothing is grabbed.
:meth:`pause`, :meth:`resume`, :meth:`set_control` and :meth:`stop` may be called
from any thread (the Tk windows run in their own).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from supportdesk.applet.screen.capture_loop import (
    DEFAULT_IDLE_FPS,
    DEFAULT_MAX_FPS,
)
from supportdesk.applet.screen.damage_capture import DEFAULT_DAMAGE_MAX_FPS, open_capture_loop
from supportdesk.applet.screen.rfb_link import MAX_UPDATE_AREA, OFF_LOOP_AREA, RFBLink
from supportdesk.applet.screen.streams import ByteReader, ByteWriter
from supportdesk.capture.clipboard import CustomerClipboard
from supportdesk.capture.input_sink import InputSink
from supportdesk.capture.mask import MaskKind, MaskPainter
from supportdesk.capture.mask_sources import MaskSource
from supportdesk.capture.screen_source import ScreenSource
from supportdesk.rfb import (
    ClientCutText,
    KeyEvent,
    PointerEvent,
    RFBServerConnection,
)
from supportdesk.rfb.clipboard import DEFAULT_MAX_CLIPBOARD_TEXT
from supportdesk.rfb.frame_clock import (
    DEFAULT_FRAME_RATE,
    DEFAULT_LARGE_FRAME_RATE,
    FrameClock,
)

__all__ = ["DEFAULT_NAME", "RFBSession", "SessionStats"]

log = logging.getLogger(__name__)

DEFAULT_NAME = "Kundenbildschirm"


@dataclass(slots=True)
class SessionStats:
    """Counters for diagnostics and benchmarks."""

    updates: int = 0
    bytes_sent: int = 0
    keys_injected: int = 0
    pointer_injected: int = 0
    input_dropped: int = 0
    input_masked: int = 0
    """Of the dropped: aimed at a masked area (or any key while a secret field is masked)."""
    clipboard_to_customer: int = 0
    clipboard_to_agent: int = 0
    keyframes: int = 0


class RFBSession:
    """Serve monitor ``monitor`` of ``source`` to one RFB viewer; inject its input into ``sink``.

    ``control`` is the customer's initial answer for mouse and keyboard. With a
    ``clipboard``, text crosses both ways while input is allowed (control granted,
    not paused): the agent's cut text is set on it, and what the customer copies goes
    to the viewer, at most ``max_clipboard`` bytes. The caller owns ``source``,
    ``sink`` and ``clipboard`` and closes them after the session.

    Frames are paced by a :class:`~supportdesk.rfb.frame_clock.FrameClock` of
    ``frame_rate`` (``large_frame_rate`` after a large frame); with
    ``small_changes_alone`` a damage-driven capture may take one frame of small changes
    alone halfway between two large frames. Updates of ``off_loop_area`` pixels or more are
    encoded in a worker thread.
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
        masks: MaskSource | None = None,
        mask_label: str = "Geschützte Eingabe",
        on_masks: Callable[[frozenset[MaskKind]], None] | None = None,
        max_update_area: int | None = MAX_UPDATE_AREA,
        frame_rate: float | None = DEFAULT_FRAME_RATE,
        large_frame_rate: float | None = DEFAULT_LARGE_FRAME_RATE,
        off_loop_area: int = OFF_LOOP_AREA,
        small_changes_alone: bool = True,
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
        self._max_update_area = max_update_area
        self._frame_rate = frame_rate
        self._large_frame_rate = large_frame_rate
        self._off_loop_area = off_loop_area
        self._small_alone = small_changes_alone
        self._keyframe_wanted = False
        self._capture = open_capture_loop(
            source,
            monitor,
            max_fps=max_fps,
            idle_fps=idle_fps,
            damage_max_fps=damage_max_fps,
            detect_scroll=detect_scroll,
            on_delta=self._wake_threadsafe,
            masks=masks,
            painter=MaskPainter(mask_label),
            on_masks=on_masks,
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
        wake = self._wake = asyncio.Event()
        self._stop_event = asyncio.Event()
        wake.set()  # the server speaks first: "RFB 003.008\n"
        conn = RFBServerConnection(
            self.monitor.width, self.monitor.height, self.name, max_cut_text=self._max_clipboard
        )
        conn.max_update_area = self._max_update_area
        link = RFBLink(
            self,
            conn,
            writer,
            capture=self._capture,
            wake=wake,
            stats=self.stats,
            on_keyframe=self._on_keyframe,
            clock=(
                FrameClock(self._frame_rate, large_frame_rate=self._large_frame_rate)
                if self._frame_rate
                else None
            ),
            off_loop_area=self._off_loop_area,
            small_alone=self._small_alone,
        )
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

    # -- used by RFBLink (rfb_link.ServedSession) -----------------------------------------------

    def _customer_copied(self, text: str) -> None:
        """The customer copied ``text`` (clipboard thread): send it only while input is allowed."""
        if not self.input_allowed:
            return
        with self._lock:
            self._copied = text
        self._wake_threadsafe()

    def take_copied(self) -> str | None:
        """The customer's latest copy, once, if it may go to the viewer now."""
        with self._lock:
            text, self._copied = self._copied, None
        return text if self.input_allowed else None

    def refresh_masks(self) -> None:
        """A mask was switched (Sichtschutz): grab again at once, so it shows within a frame."""
        self._capture.kick()
        self._wake_threadsafe()

    def _into_mask(self, event: Any) -> bool:
        """Whether ``event`` aims at a masked area (then it is dropped)."""
        masked = self._capture.masked
        if masked & {MaskKind.SECRET_INPUT, MaskKind.PRIVACY}:
            return True  # keys go to the secret field; the agent cannot see where it clicks
        if isinstance(event, PointerEvent):
            return any(
                r.x <= event.x < r.right and r.y <= event.y < r.bottom
                for r in self._capture.mask_rects
            )
        return False

    def take_keyframe_request(self) -> bool:
        """Whether :meth:`request_keyframe` was called since the last keyframe; clears it."""
        wanted, self._keyframe_wanted = self._keyframe_wanted, False
        return wanted

    def handle_input(self, event: KeyEvent | PointerEvent | ClientCutText) -> None:
        """Carry out one input event from the viewer, if the customer allows it."""
        if self._into_mask(event):
            self.stats.input_dropped += 1
            self.stats.input_masked += 1
            return
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
