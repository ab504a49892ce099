"""The line between reading the link and acting on it: control messages and held-back viewer bytes.

The applet reads its link on one task and acts on what it read on another, so a consent
dialog that waits for the customer does not stop the reading (and the heartbeats with
it). Viewer bytes go straight to their RFB channel unless something of that channel
already waits in line; then they queue behind it, to keep their order. What may queue
is bounded: more than :data:`MAX_WAITING_FRAME_BYTES` of viewer bytes behind a message
being handled is a flood, and a protocol error.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Container
from typing import Any

from supportdesk.link.frames import Frame, LinkProtocolError

__all__ = ["MAX_WAITING_FRAME_BYTES", "LinkInbox"]

MAX_WAITING_FRAME_BYTES = 8 * 1024 * 1024
"""Viewer bytes that may wait behind a control message being handled (a consent dialog);
more is a flood, and a protocol error."""

INBOX_MESSAGES = 256
"""Items that may wait in line; the reader waits for room beyond it."""

Feed = Callable[[int, bytes], Awaitable[None]]


class LinkInbox:
    """One link's line of control messages and held-back viewer frames, in order."""

    def __init__(self, feed: Feed, open_channels: Container[int]) -> None:
        self._feed = feed  # viewer bytes to their channel
        self._open = open_channels
        self._line: asyncio.Queue[Frame | dict[str, Any] | None] = asyncio.Queue(INBOX_MESSAGES)
        self._waiting = Counter[int]()  # channel -> its frames in line
        self._waiting_bytes = 0

    async def put_control(self, message: dict[str, Any]) -> None:
        await self._line.put(message)

    async def take_frame(self, frame: Frame) -> None:
        """Viewer bytes: straight to their open channel when nothing of it waits in line
        (so a consent dialog holding up the line holds up no viewer), else in line behind
        the control messages -- at most MAX_WAITING_FRAME_BYTES of them."""
        if self._waiting[frame.channel] == 0 and frame.channel in self._open:
            await self._feed(frame.channel, frame.payload)
            return
        self._waiting_bytes += len(frame.payload)
        if self._waiting_bytes > MAX_WAITING_FRAME_BYTES:
            raise LinkProtocolError("viewer bytes flooded the link while a message was handled")
        self._waiting[frame.channel] += 1
        await self._line.put(frame)

    def close(self) -> None:
        """No more comes: the handler finishes what is in line, then returns."""
        if not self._line.full():
            self._line.put_nowait(None)

    async def handle(self, on_control: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        """Act on everything in line, in order, until :meth:`close`; an exception from
        acting on an item ends the handling and is the caller's to answer."""
        while (item := await self._line.get()) is not None:
            if isinstance(item, Frame):
                self._waiting[item.channel] -= 1
                self._waiting_bytes -= len(item.payload)
                await self._feed(item.channel, item.payload)
            else:
                await on_control(item)
