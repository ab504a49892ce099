"""Flow control for continuous updates: only a few updates on their way to the viewer.

With continuous updates the viewer sends no requests, so nothing tells the server how far
behind the viewer is. noVNC keeps what arrives in an unbounded queue while it draws, so a
server that sends whenever the screen changes builds up seconds of delay on a busy screen
(measured with ``bench.rfb_browser`` on the heavy workload: 4 s p50). TigerVNC's answer,
taken here in its simplest form: after each update a ServerFence request with a payload of
our own. A viewer answers a fence only once it has processed everything before it, so the
unanswered fences are the updates still on their way; at :data:`MAX_IN_FLIGHT` the
server holds the next update (the changes keep accumulating and go out together) until an
answer comes back.

A viewer that sends an answer it was never asked for only hurries its own channel.
"""

from __future__ import annotations

from .messages import ClientFence, FenceFlags, encode_server_fence

__all__ = ["MAX_IN_FLIGHT", "PACE_PAYLOAD", "UpdatePacer"]

MAX_IN_FLIGHT = 3
"""Updates sent and not yet answered before the next is held back. Two kept a busy
screen's delay flat on loopback; one more covers a viewer behind a slower round trip."""

PACE_PAYLOAD = b"supportdesk-pace"
"""The fences the pacer sends carry this, so answers to other fences are not counted."""


class UpdatePacer:
    """Counts paced updates on their way; pure, fed by the connection."""

    def __init__(self, window: int = MAX_IN_FLIGHT) -> None:
        if window < 1:
            raise ValueError("the window must allow at least one update in flight")
        self.window = window
        self.in_flight = 0

    @property
    def blocked(self) -> bool:
        """True while the next update must wait for an answer."""
        return self.in_flight >= self.window

    def sent(self) -> bytes:
        """An update went out: the fence request to send right after it."""
        self.in_flight += 1
        return encode_server_fence(FenceFlags.REQUEST, PACE_PAYLOAD)

    def answered(self, fence: ClientFence) -> bool:
        """Take the viewer's answer to one of our fences; False for any other fence."""
        if fence.is_request or fence.payload != PACE_PAYLOAD or self.in_flight == 0:
            return False
        self.in_flight -= 1
        return True

    def reset(self) -> None:
        """Continuous updates switched on or off: nothing is counted as on its way."""
        self.in_flight = 0
