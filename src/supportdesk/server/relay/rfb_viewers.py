"""The support program's screens: one noVNC viewer per RFB channel of the applet link.

A frame from the applet goes to its viewer at once when the viewer's socket takes it
without waiting, else through the viewer's writer task; the applet link never waits
for a viewer. What queues is bounded by the channel's credit window, and credit goes
back to the applet as the viewer takes the bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.websockets import WebSocket

from supportdesk.link.frames import MAX_RFB_CHANNEL, LinkProtocolError
from supportdesk.server.relay.direct_websocket import DirectSocket

COALESCE_LIMIT = 256 * 1024
"""Bytes of queued updates a slow viewer's writer sends as one message."""


@dataclass
class Viewer:
    channel: int
    socket: WebSocket
    view_only: bool
    name: str
    role: str
    direct: DirectSocket | None = None  # the socket's direct path, if the server has it
    queue: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    queued_bytes: int = 0  # handed to the writer task, not yet sent
    owed: int = 0  # sent, credit not yet returned to the applet
    idle: bool = True  # the writer waits on an empty queue


class RfbViewers:
    """The RFB viewers of one session, by channel."""

    def __init__(self, window: int, return_credit: Callable[[int, int], None]) -> None:
        self.window = window
        self._return_credit = return_credit  # (channel, bytes) towards the applet
        self.viewers: dict[int, Viewer] = {}
        self._next_channel = 1

    def open(
        self, socket: WebSocket, view_only: bool, name: str, role: str, direct: DirectSocket | None
    ) -> Viewer | None:
        """A viewer on the next free channel; None once every channel was used (the
        numbers above ``MAX_RFB_CHANNEL`` carry keyframes)."""
        if self._next_channel > MAX_RFB_CHANNEL:
            return None
        viewer = Viewer(self._next_channel, socket, view_only, name, role, direct)
        self._next_channel += 1
        self.viewers[viewer.channel] = viewer
        return viewer

    def close(self, viewer: Viewer) -> None:
        self.viewers.pop(viewer.channel, None)
        viewer.queue.put_nowait(None)

    def has(self, channel: int) -> bool:
        return channel in self.viewers

    async def drop(self, channel: int, reason: str, code: int = 1011) -> None:
        """Close a viewer's socket; its reader cleans up."""
        viewer = self.viewers.get(channel)
        if viewer is not None:
            with contextlib.suppress(Exception):
                await viewer.socket.close(code=code, reason=reason)

    def send(self, channel: int, payload: bytes) -> None:
        """An applet frame for its viewer: at once if the viewer's socket takes it
        without waiting, else through the viewer's writer task."""
        viewer = self.viewers.get(channel)
        if viewer is None:
            return  # the viewer left; the applet will get the close
        if viewer.queued_bytes + len(payload) > self.window and viewer.queued_bytes > 0:
            raise LinkProtocolError(f"channel {channel}: applet sent beyond its credit")
        direct = viewer.direct
        if viewer.idle and viewer.queue.empty() and direct and direct.send_now(payload):
            self._delivered(viewer, len(payload))
            return
        viewer.queued_bytes += len(payload)
        viewer.queue.put_nowait(payload)  # behind what is still going out

    async def write(self, viewer: Viewer) -> None:
        """The viewer's writer task: what queued up while its socket was slow goes out
        as one message (RFB is a byte stream)."""
        while True:
            viewer.idle = True
            item = await viewer.queue.get()
            viewer.idle = False
            if item is None:
                return
            parts = [item]
            while not viewer.queue.empty() and sum(map(len, parts)) < COALESCE_LIMIT:
                more = viewer.queue.get_nowait()
                if more is None:
                    viewer.queue.put_nowait(more)
                    break
                parts.append(more)
            data = b"".join(parts)
            try:
                await viewer.socket.send_bytes(data)
            except Exception:  # the viewer went away; its reader cleans up
                return
            viewer.queued_bytes -= len(data)
            self._delivered(viewer, len(data))

    def _delivered(self, viewer: Viewer, size: int) -> None:
        # Credit goes back in quarter windows, not per message: with less than that
        # owed the applet still has three quarters of its window, so it never waits
        # for it, and the relay sends one control message per 256 KiB instead of one
        # per update.
        viewer.owed += size
        if viewer.owed >= self.window // 4:
            owed, viewer.owed = viewer.owed, 0
            self._return_credit(viewer.channel, owed)
