"""The applet-to-viewer direction of one RFB channel: ordered, coalesced, within credit.

The RFB session writes framebuffer updates as they are encoded; a pump task sends
them as link frames. Whatever queued up while the previous frame was on its way goes
out as one frame of up to ``CHUNK`` bytes, so a burst of small updates costs one
WebSocket message instead of dozens, while a lone update leaves at once. The relay
returns credit as its viewer takes the bytes; the pump never has more than the
window in flight, and ``write`` waits once a chunk's worth is queued, which is the
backpressure the RFB session paces itself by.

Complete link messages that are not RFB data for the viewer (a keyframe for the
recording, say) can be queued in order with :meth:`ChannelWriter.write_message`: they
leave after every RFB byte written before them and use no credit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable

from supportdesk.link.credit import DEFAULT_WINDOW, CreditWindow
from supportdesk.link.frames import encode_control, encode_frame

CHUNK = 256 * 1024

Send = Callable[[bytes], Awaitable[None]]


class ChannelWriter:
    def __init__(self, send: Send, channel: int, window: int = DEFAULT_WINDOW) -> None:
        self._send = send
        self.channel = channel
        self.credit = CreditWindow(window)
        # RFB bytes are kept in bytearrays (consecutive writes merge); a bytes item is
        # a finished link message.
        self._queue: deque[bytearray | bytes] = deque()
        self._queued = 0
        self._changed = asyncio.Condition()
        self._pump: asyncio.Task[None] | None = None
        self.closed = False

    @property
    def queued(self) -> int:
        """RFB bytes written but not sent yet."""
        return self._queued

    async def write(self, data: bytes) -> None:
        """Queue RFB bytes; return once less than a chunk waits to be sent."""
        if not data:
            return
        async with self._changed:
            self._check_open()
            tail = self._queue[-1] if self._queue else None
            if isinstance(tail, bytearray):
                tail += data
            else:
                self._queue.append(bytearray(data))
            self._queued += len(data)
            self._start_pump()
            self._changed.notify_all()
            await self._changed.wait_for(lambda: self.closed or self._queued < CHUNK)
            self._check_open()

    async def write_message(self, message: bytes) -> None:
        """Queue a complete link message behind every RFB byte written so far."""
        async with self._changed:
            self._check_open()
            self._queue.append(message)
            self._start_pump()
            self._changed.notify_all()

    async def returned(self, size: int) -> None:
        """The relay delivered ``size`` bytes to the viewer."""
        async with self._changed:
            self.credit.returned(min(size, self.credit.in_flight))
            self._changed.notify_all()

    async def close(self) -> None:
        """Stop sending and tell the relay this channel is over."""
        if not self.closed:
            await self.mark_closed()
            await self._send(encode_control({"type": "close", "channel": self.channel}))

    async def mark_closed(self) -> None:
        """Stop sending (the link or the viewer is gone); queued bytes are dropped."""
        async with self._changed:
            self.closed = True
            self._queue.clear()
            self._queued = 0
            self._changed.notify_all()
        pump, self._pump = self._pump, None
        if pump is not None and pump is not asyncio.current_task():
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump

    # -- the pump ----------------------------------------------------------------------

    def _check_open(self) -> None:
        if self.closed:
            raise ConnectionError(f"channel {self.channel} closed")

    def _start_pump(self) -> None:
        if self._pump is None:
            self._pump = asyncio.create_task(self._run())

    def _limit(self) -> int:
        return min(CHUNK, self.credit.available)

    def _ready(self) -> bool:
        if self.closed:
            return True
        if not self._queue:
            return False
        return isinstance(self._queue[0], bytes) or self._limit() > 0

    def _take(self) -> bytes:
        head = self._queue[0]
        if isinstance(head, bytes):
            self._queue.popleft()
            return head
        size = min(len(head), self._limit())
        payload = bytes(head[:size])
        if size == len(head):
            self._queue.popleft()
        else:
            del head[:size]
        self._queued -= size
        self.credit.spend(size)
        return encode_frame(self.channel, payload)

    async def _run(self) -> None:
        while True:
            async with self._changed:
                await self._changed.wait_for(self._ready)
                if self.closed:
                    return
                message = self._take()
                self._changed.notify_all()
            try:
                await self._send(message)
            except Exception:  # the link is gone: writers get ConnectionError
                async with self._changed:
                    self.closed = True
                    self._queue.clear()
                    self._queued = 0
                    self._changed.notify_all()
                return
