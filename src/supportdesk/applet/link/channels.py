"""The RFB channels of the applet's link: one :class:`RFBSession` per viewer the relay opens.

The screen source and clipboard are opened at the first channel and live for the
session, the input sink at the agent's first input (``capture/lazy_input.py``: a
view-only session needs none). The channels live only as long as the link that
opened them (a resumed link gets new ones from the relay). Pause and control reach
every channel from here; :meth:`RFBChannels.stop_all` stops capture at once, network
or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from websockets.exceptions import ConnectionClosed

from supportdesk.applet.link.channel_writer import ChannelWriter
from supportdesk.applet.screen.masking import SessionMasking
from supportdesk.applet.screen.rfb_session import RFBSession
from supportdesk.capture.backends import this_machine
from supportdesk.capture.clipboard import CustomerClipboard
from supportdesk.capture.input_sink import InputSink
from supportdesk.capture.lazy_input import LazyInputSink
from supportdesk.capture.screen_source import ScreenSource
from supportdesk.link.credit import DEFAULT_WINDOW, CreditWindow
from supportdesk.link.frames import LinkProtocolError, encode_keyframe_pieces

log = logging.getLogger(__name__)


class ChannelReader:
    """The viewer-to-applet bytes of one channel, as a ByteReader, bounded by a credit window.

    At most ``window`` bytes (one message more only when nothing is unread) wait here for
    the RFB session; as it reads, credit goes back to the relay in quarter windows
    (``return_credit``), the mirror of the relay's credit for the other direction. Bytes
    beyond the window are refused (:meth:`feed` says False) instead of queued: a viewer
    that floods while the session cannot read loses its channel, not the customer's memory.
    """

    def __init__(
        self,
        window: int = DEFAULT_WINDOW,
        return_credit: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.credit = CreditWindow(window)
        self._return_credit = return_credit
        self._owed = 0

    @property
    def unread(self) -> int:
        """Bytes fed and not read yet."""
        return self.credit.in_flight

    def feed(self, data: bytes) -> bool:
        """Queue ``data``; False (nothing queued) if it does not fit in the window."""
        if not self.credit.may_send(len(data)):
            return False
        self.credit.spend(len(data))
        self._queue.put_nowait(data)
        return True

    def close(self) -> None:
        self._queue.put_nowait(b"")

    async def read(self) -> bytes:
        data = await self._queue.get()
        if data:
            self.credit.returned(len(data))
            self._owed += len(data)
            if self._owed >= self.credit.window // 4 and self._return_credit is not None:
                owed, self._owed = self._owed, 0
                with contextlib.suppress(ConnectionError, OSError, ConnectionClosed):
                    await self._return_credit(owed)
        return data


@dataclass
class Channel:
    session: RFBSession
    reader: ChannelReader
    writer: ChannelWriter
    task: asyncio.Task[None]


class RFBChannels:
    """The link's RFB channels and the devices they share."""

    def __init__(
        self,
        *,
        screen_source: Callable[[], ScreenSource],
        input_sink: Callable[[], InputSink | None],
        clipboard: Callable[[], CustomerClipboard | None],
        send: Callable[[bytes], Awaitable[None]],
        control: Callable[[dict[str, Any]], Awaitable[None]],
        monitor: int = 0,
        masking: SessionMasking | None = None,
        mask_label: str = "Geschützte Eingabe",
    ) -> None:
        self.masking = masking or SessionMasking(None)
        self.mask_label = mask_label
        self.screen_source, self.input_sink, self.customer_clipboard = (
            screen_source,
            input_sink,
            clipboard,
        )
        self.send, self.control = send, control
        self.monitor = monitor
        self.open: dict[int, Channel] = {}
        self._source: ScreenSource | None = None
        self._sink: InputSink | None = None
        self._clipboard: CustomerClipboard | None = None

    async def feed(self, number: int, payload: bytes) -> None:
        """Viewer bytes for channel ``number`` (dropped if it is not open).

        Beyond the channel's credit window the channel is closed (the relay is told, and
        its viewer may connect again); other channels go on.
        """
        channel = self.open.get(number)
        if channel is not None and not channel.reader.feed(payload):
            log.warning("channel %d: viewer sent beyond its window; closing it", number)
            self.remove(number)
            with contextlib.suppress(ConnectionError, OSError, ConnectionClosed):
                await channel.writer.close()

    async def add(self, number: int, *, view_only: bool, control: bool, paused: bool) -> None:
        """The relay opened channel ``number`` for a viewer: serve it."""
        if self._source is None:
            self._source = self.screen_source()
            # Opened on the agent's first input: a view-only session never needs it.
            self._sink = LazyInputSink(self.input_sink)
            self._clipboard = self.customer_clipboard()
            monitors = self._source.monitors()
            await self.control(
                {
                    "type": "hello",
                    "screens": [
                        {"index": m.index, "width": m.width, "height": m.height} for m in monitors
                    ],
                    # What the agent's console can offer depends on it (Ctrl+Alt+Del).
                    "platform": this_machine().platform,
                }
            )
        session = RFBSession(
            self._source,
            None if view_only else self._sink,
            monitor=min(self.monitor, len(self._source.monitors()) - 1),
            control=control and not view_only,
            clipboard=None if view_only else self._clipboard,
            on_keyframe=lambda payload: self._send_keyframe(number, payload),
            masks=self.masking,
            mask_label=self.mask_label,
            on_masks=self.masking.reported,
        )
        reader = ChannelReader(return_credit=lambda size: self._return_credit(number, size))
        writer = ChannelWriter(self.send, number)
        session.start()
        if paused:
            session.pause()
        task = asyncio.create_task(session.serve(reader, writer))
        self.open[number] = Channel(session, reader, writer, task)

    def remove(self, number: int) -> None:
        """The relay closed channel ``number`` (its viewer left)."""
        channel = self.open.pop(number, None)
        if channel is not None:
            channel.session.stop()
            channel.reader.close()

    async def credit(self, number: int, size: int) -> None:
        channel = self.open.get(number)
        if channel is not None:
            await channel.writer.returned(size)

    async def _return_credit(self, number: int, size: int) -> None:
        if number in self.open:
            await self.control({"type": "credit", "channel": number, "bytes": size})

    def keyframe(self, number: int) -> None:
        channel = self.open.get(number)
        if channel is not None:
            channel.session.request_keyframe()

    async def _send_keyframe(self, number: int, payload: bytes) -> None:
        # Behind the channel's RFB bytes, outside its credit: the relay records it and
        # forwards nothing (docs/relay-protocol.md).
        channel = self.open.get(number)
        if channel is not None:
            for piece in encode_keyframe_pieces(number, payload):
                await channel.writer.write_message(piece)

    def set_control(self, allowed: bool) -> None:
        for channel in list(self.open.values()):
            channel.session.set_control(allowed)

    def set_paused(self, paused: bool) -> None:
        for channel in list(self.open.values()):
            if paused and not channel.session.paused:
                channel.session.pause()
            elif not paused and channel.session.paused:
                channel.session.resume()

    def refresh_masks(self) -> None:
        """The Sichtschutz was switched: every channel grabs again at once."""
        for channel in list(self.open.values()):
            channel.session.refresh_masks()

    def stop_all(self) -> None:
        """Stop capture on every channel now (any thread)."""
        for channel in list(self.open.values()):
            channel.session.stop()

    async def switch_screen(self, monitor: int) -> None:
        """The agent chose another screen: close the channels; the viewers reconnect.

        A screen the customer does not have is a LinkProtocolError (nothing changes).
        """
        screens = len(self._source.monitors()) if self._source is not None else 1
        if not 0 <= monitor < screens:
            raise LinkProtocolError(f"no screen {monitor}: the customer has {screens}")
        self.monitor = monitor
        for channel in list(self.open.values()):
            channel.session.stop()
            await channel.writer.close()

    async def drop_all(self) -> None:
        """The link is gone, and its channels with it."""
        channels, self.open = self.open, {}
        for channel in channels.values():
            channel.session.stop()
            channel.reader.close()
            await channel.writer.mark_closed()
        await asyncio.gather(*(c.task for c in channels.values()), return_exceptions=True)

    def close_devices(self) -> None:
        """The session is over: release held keys, close sink, source and clipboard."""
        if self._sink is not None:
            self._sink.release_all()
            self._sink.close()
        if self._source is not None:
            self._source.close()
        if self._clipboard is not None:
            self._clipboard.close()
