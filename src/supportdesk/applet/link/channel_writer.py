"""The applet-to-viewer direction of one RFB channel: ordered, within credit, coalesced.

An update written after a quiet spell (``HOLD`` without a frame) is sent at once, on
the writer's own task, so a lone update pays no extra trip through the event loop.
Updates that follow one another closer than that are held for at most ``HOLD`` and
leave together, and a full ``CHUNK`` leaves at once: a burst of small updates costs a
few WebSocket messages instead of hundreds, which is what the relay's throughput
depends on (the per-message cost, not the byte count). Everything stays within the
relay's credit; what waits for credit leaves as soon as credit comes back. ``write``
waits once a chunk's worth is queued: that is the backpressure the RFB session
paces itself by.

Complete link messages that are not RFB data for the viewer (a keyframe for the
recording, say) can be queued in order with :meth:`ChannelWriter.write_message`: they
leave after every RFB byte written before them and use no credit.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable

from supportdesk.link.credit import DEFAULT_WINDOW, CreditWindow
from supportdesk.link.frames import encode_control, encode_frame

CHUNK = 256 * 1024
HOLD = 0.001  # seconds

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
        self._sending = False
        self._last_sent = 0.0
        self._flush: asyncio.TimerHandle | None = None
        self._flushing: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Condition()
        self.closed = False

    @property
    def queued(self) -> int:
        """RFB bytes written but not sent yet."""
        return self._queued

    async def write(self, data: bytes) -> None:
        """Send RFB bytes, or queue them behind a send in progress or missing credit;
        return once less than a chunk waits."""
        self._check_open()
        if data:
            tail = self._queue[-1] if self._queue else None
            if isinstance(tail, bytearray):
                tail += data
            else:
                self._queue.append(bytearray(data))
            self._queued += len(data)
            now = time.monotonic()
            if self._queued >= CHUNK or now - self._last_sent >= HOLD:
                await self._drain()
            elif self._flush is None:
                self._flush = asyncio.get_running_loop().call_at(
                    self._last_sent + HOLD, self._flush_held
                )
        if self._queued >= CHUNK:
            async with self._changed:
                await self._changed.wait_for(lambda: self.closed or self._queued < CHUNK)
        self._check_open()

    async def write_message(self, message: bytes) -> None:
        """Queue a complete link message behind every RFB byte written so far."""
        self._check_open()
        self._queue.append(message)
        await self._drain()
        self._check_open()

    async def returned(self, size: int) -> None:
        """The relay delivered ``size`` bytes to the viewer: send what waited for it."""
        self.credit.returned(min(size, self.credit.in_flight))
        # A lost link closes the writer; the link's own reader sees it and ends.
        with contextlib.suppress(ConnectionError):
            await self._drain()

    async def close(self) -> None:
        """Stop sending and tell the relay this channel is over."""
        if not self.closed:
            await self.mark_closed()
            await self._send(encode_control({"type": "close", "channel": self.channel}))

    async def mark_closed(self) -> None:
        """Stop sending (the link or the viewer is gone); queued bytes are dropped."""
        self.closed = True
        self._queue.clear()
        self._queued = 0
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        async with self._changed:
            self._changed.notify_all()

    # -- sending -----------------------------------------------------------------------

    def _flush_held(self) -> None:
        self._flush = None
        if self._queue and not self.closed:
            task = asyncio.create_task(self._drain_quietly())
            self._flushing.add(task)  # the loop keeps only weak references to tasks
            task.add_done_callback(self._flushing.discard)

    async def _drain_quietly(self) -> None:
        with contextlib.suppress(ConnectionError):
            await self._drain()

    def _check_open(self) -> None:
        if self.closed:
            raise ConnectionError(f"channel {self.channel} closed")

    def _limit(self) -> int:
        return min(CHUNK, self.credit.available)

    def _take(self) -> bytes | None:
        """The next link message the credit allows, or None."""
        if self.closed or not self._queue:
            return None
        head = self._queue[0]
        if isinstance(head, bytes):
            self._queue.popleft()
            return head
        size = min(len(head), self._limit())
        if size <= 0:
            return None
        payload = bytes(head[:size])
        if size == len(head):
            self._queue.popleft()
        else:
            del head[:size]
        self._queued -= size
        self.credit.spend(size)
        return encode_frame(self.channel, payload)

    async def _drain(self) -> None:
        # Whoever finds the channel idle sends, on its own task: a hand-over to a pump
        # task would cost a trip through the event loop per update. What is written
        # meanwhile joins the queue and leaves with the next frame.
        if self._sending:
            return
        self._sending = True
        try:
            while (message := self._take()) is not None:
                self._last_sent = time.monotonic()
                await self._send(message)
                if self._queued < CHUNK:
                    async with self._changed:
                        self._changed.notify_all()
        except Exception as exc:  # the link is gone: every writer gets ConnectionError
            await self.mark_closed()
            raise ConnectionError(f"channel {self.channel}: link lost") from exc
        finally:
            self._sending = False
