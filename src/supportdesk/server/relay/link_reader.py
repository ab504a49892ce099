"""Reading the customer's link: each frame as it arrives, the short way where it can.

A screen update for a viewer that keeps up is recorded and written to its viewer on
the link's reading callback (``server/relay/direct_websocket.py``); a browser's video
chunk is recorded and fanned out the same way. Anything that must wait (a control
message, a viewer whose socket is full, a session writing faster than its recording's
byte rate) and everything behind it goes through the link's inbox
(``server/relay/link_inbox.py``), in the order it came. One :class:`LinkReader` per
link the relay serves; it reaches the relay through :class:`ReadRelay`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any, NoReturn, Protocol

from starlette.websockets import WebSocket

from supportdesk.domain.session_events import SessionState
from supportdesk.link.frames import CONTROL_CHANNEL, LinkProtocolError, decode_control, decode_frame
from supportdesk.server.recordings.session_recording import Take
from supportdesk.server.relay.customer_side import CustomerRelay, customer_control
from supportdesk.server.relay.link_inbox import LinkInbox, Work
from supportdesk.server.relay.link_rules import LinkKind
from supportdesk.server.relay.traffic import RelayTraffic
from supportdesk.server.relay.video_fanout import VIDEO_CHANNEL, check_chunk

INBOX_LIMIT = 4 * 1024 * 1024
"""Bytes of link messages waiting for the event loop before the link stops reading."""


class ReadRelay(CustomerRelay, Protocol):
    """What reading the link needs of the relay (carrying out the customer's control
    messages too); ``SessionRelay`` is one. A protocol, so the relay imports this module
    and not the other way round."""

    traffic: RelayTraffic
    window: int
    """The channels' credit window in bytes."""

    def to_viewer(self, channel: int, payload: bytes) -> None: ...

    def to_applet_now(self, message: dict[str, Any]) -> None: ...


async def _raise(exc: Exception) -> NoReturn:
    raise exc


class LinkReader:
    """Takes one link's frames for ``relay``; ``pause``/``resume`` stop and restart the
    link's reading while the inbox is over its limit."""

    def __init__(
        self,
        relay: ReadRelay,
        pause: Callable[[], None],
        resume: Callable[[], None],
    ) -> None:
        self.relay = relay
        self.inbox = LinkInbox(INBOX_LIMIT, pause=pause, resume=resume)
        self._video_owed = 0  # video bytes taken, credit not yet returned
        self.closed = False

    async def read(self, socket: WebSocket, may_read: asyncio.Event) -> None:
        """Read frames through ASGI until the link ends. The link's end always comes
        this way, and so do its frames where the server has no direct path."""
        try:
            while True:
                await may_read.wait()
                message = await socket.receive()
                if message["type"] == "websocket.disconnect":
                    return
                data = message.get("bytes")
                if data is None:
                    error = LinkProtocolError("the applet link carries binary messages only")
                    self.inbox.put(partial(_raise, error))
                    return
                self.take(data)
        finally:
            self.inbox.close()

    def take(self, data: bytes) -> None:
        """One message from the link, as it arrives: a screen update for a viewer that
        keeps up goes out now; what must wait, and all behind it, goes to the inbox."""
        if self.closed:
            return  # the link is over
        relay, inbox = self.relay, self.inbox
        relay.traffic.from_customer.inc(len(data))
        relay.traffic.frames_from_customer.inc()
        relay.keeper.heard()
        if inbox.busy:
            inbox.put(partial(self._message_later, data), len(data))
            return
        try:
            work = self._message(data)
        except Exception as exc:  # raised in the link's task, which ends the session
            work = partial(_raise, exc)
        if work is not None:
            inbox.put(work, len(data))
        elif relay.recording.rate_wait() > 0:
            inbox.put(self._keep_to_rate)  # what comes next queues behind the wait

    def _message(self, data: bytes) -> Work | None:
        """Do what needs no waiting; return the rest as work for the inbox."""
        relay = self.relay
        frame = decode_frame(data)
        if frame.channel == CONTROL_CHANNEL:
            return partial(self._control_frame, frame.payload)
        if relay.link is LinkKind.BROWSER:
            if frame.channel != VIDEO_CHANNEL:
                raise LinkProtocolError(f"a browser link has no channel {frame.channel}")
            self._video_chunk(frame.payload)
            return None
        relay.rfb.admit(frame.channel, len(frame.payload))  # a viewer's, within credit
        take = relay.recording.take_applet_data(frame.channel, frame.payload)
        if take is Take.FORWARD:
            relay.to_viewer(frame.channel, frame.payload)
        elif take is Take.CLOSE_VIEWER:
            return partial(relay.recording.close_viewer, frame.channel)
        return None

    def _video_chunk(self, payload: bytes) -> None:
        relay = self.relay
        # The browser keeps within its credit; the inbox's limit bounds memory if not.
        check_chunk(payload)
        # Nothing crosses before consent or while paused or held; what the recording
        # did not keep reaches no viewer. A chunk that does not cross leaves a gap the
        # viewers' decoders cannot bridge: they wait for the next key chunk.
        live = (
            relay.session.state is SessionState.ACTIVE
            and not relay.session.paused
            and relay.keeper.crossing_allowed
        )
        if live and relay.recording.take_video(payload) is Take.FORWARD:
            relay.video.chunk(payload)
        else:
            relay.video.skip_to_key()
        self._video_owed += len(payload)
        if self._video_owed >= relay.window // 4:
            owed, self._video_owed = self._video_owed, 0
            relay.to_applet_now({"type": "credit", "channel": VIDEO_CHANNEL, "bytes": owed})

    async def _message_later(self, data: bytes) -> None:
        work = self._message(data)
        if work is not None:
            await work()
        await self._keep_to_rate()

    async def _keep_to_rate(self) -> None:
        """Hold the link's inbox while the session writes faster than its recording's
        byte rate: the link's own frames wait (and above the inbox's limit, its reading
        pauses); no other session is slowed."""
        wait = self.relay.recording.rate_wait()
        if wait > 0:
            await asyncio.sleep(wait)  # the debt is paid by then (the bucket refills evenly)

    async def _control_frame(self, payload: bytes) -> None:
        relay = self.relay
        message = decode_control(payload)
        if message["type"] == "heartbeat":
            relay.keeper.heartbeat()
            return  # liveness only: counted on arrival, never recorded
        relay.recording.control("applet", message)
        await customer_control(relay, message)
        await self._keep_to_rate()
