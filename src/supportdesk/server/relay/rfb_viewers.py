"""The support program's screens: one noVNC viewer per RFB channel of the applet link.

A frame from the applet goes to its viewer at once when the viewer's socket takes it
without waiting, else through the viewer's writer task; the applet link never waits
for a viewer. What queues is bounded by the channel's credit window, and credit goes
back to the applet as the viewer takes the bytes.

The relay keeps the applet's side of each channel's credit too (:meth:`RfbViewers.admit`,
before a byte is recorded): bytes on a channel no viewer was given, or beyond the
credit the relay returned, break the protocol and end the link — they would reach
nobody but the recording's disk. A channel whose viewer just left still takes the
bytes that were in flight, up to its window.

Each frame's wait is timed for the metrics' viewer lag: 0 when the socket took it at
once, else from the moment it queued to the moment the writer's send returned.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.websockets import WebSocket

from supportdesk.link.credit import CreditError, CreditWindow
from supportdesk.link.frames import KEYFRAME_FLAG, MAX_RFB_CHANNEL, LinkProtocolError
from supportdesk.server.metrics.meters import Kept, Timing
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
    # A frame and when it queued (time.monotonic()); None ends the writer.
    queue: asyncio.Queue[tuple[bytes, float] | None] = field(default_factory=asyncio.Queue)
    queued_bytes: int = 0  # handed to the writer task, not yet sent
    owed: int = 0  # sent, credit not yet returned to the applet
    idle: bool = True  # the writer waits on an empty queue
    credit: CreditWindow = field(default_factory=CreditWindow)  # the applet's, as the relay sees it
    actor: str = ""  # the agent as the audit names it: whose control the viewer carries


class RfbViewers:
    """The RFB viewers of one session, by channel."""

    def __init__(
        self,
        window: int,
        return_credit: Callable[[int, int], None],
        lag: Timing | None = None,
    ) -> None:
        self.window = window
        self._return_credit = return_credit  # (channel, bytes) towards the applet
        self._lag = Kept() if lag is None else lag  # seconds a frame waited for its viewer
        self.viewers: dict[int, Viewer] = {}
        self._closed: dict[int, CreditWindow] = {}  # channels whose viewer left
        self._next_channel = 1

    def open(
        self, socket: WebSocket, view_only: bool, name: str, role: str, direct: DirectSocket | None
    ) -> Viewer | None:
        """A viewer on the next free channel; None once every channel was used (the
        numbers above ``MAX_RFB_CHANNEL`` carry keyframes)."""
        if self._next_channel > MAX_RFB_CHANNEL:
            return None
        viewer = Viewer(self._next_channel, socket, view_only, name, role, direct)
        viewer.credit = CreditWindow(self.window)
        self._next_channel += 1
        self.viewers[viewer.channel] = viewer
        return viewer

    def close(self, viewer: Viewer) -> None:
        if self.viewers.pop(viewer.channel, None) is not None:
            self._closed[viewer.channel] = viewer.credit  # what is in flight may still come
        viewer.queue.put_nowait(None)

    def admit(self, channel: int, size: int) -> None:
        """Check a link frame of ``size`` payload bytes on ``channel`` before anything is
        done with it: RFB data spends the channel's credit; a keyframe piece needs a
        channel that had a viewer. Raises LinkProtocolError."""
        if channel & KEYFRAME_FLAG:
            rfb_channel = channel & ~KEYFRAME_FLAG
            if not 0 < rfb_channel < self._next_channel:
                raise LinkProtocolError(f"keyframe for channel {rfb_channel}, which has no viewer")
            return
        viewer = self.viewers.get(channel)
        credit = viewer.credit if viewer is not None else self._closed.get(channel)
        if credit is None:
            raise LinkProtocolError(f"data on channel {channel}, which has no viewer")
        try:
            credit.spend(size)
        except CreditError:
            raise LinkProtocolError(f"channel {channel}: applet sent beyond its credit") from None

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
            self._lag.observe(0.0)
            self._delivered(viewer, len(payload))
            return
        viewer.queued_bytes += len(payload)
        viewer.queue.put_nowait((payload, time.monotonic()))  # behind what is still going out

    async def write(self, viewer: Viewer) -> None:
        """The viewer's writer task: what queued up while its socket was slow goes out
        as one message (RFB is a byte stream)."""
        while True:
            viewer.idle = True
            item = await viewer.queue.get()
            viewer.idle = False
            if item is None:
                return
            parts, queued_at = [item[0]], [item[1]]
            size = len(item[0])
            while not viewer.queue.empty() and size < COALESCE_LIMIT:
                more = viewer.queue.get_nowait()
                if more is None:
                    viewer.queue.put_nowait(more)
                    break
                parts.append(more[0])
                queued_at.append(more[1])
                size += len(more[0])
            data = b"".join(parts)
            try:
                await viewer.socket.send_bytes(data)
            except Exception:  # the viewer went away; its reader cleans up
                return
            written = time.monotonic()
            for since in queued_at:  # one observation per frame, as on the direct path
                self._lag.observe(written - since)
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
            viewer.credit.returned(min(owed, viewer.credit.in_flight))
            self._return_credit(viewer.channel, owed)
