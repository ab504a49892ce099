"""What this node's relays move over customers' links and how long viewers keep frames
waiting, for the server's metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

from supportdesk.server.metrics.meters import Kept, Tally, Timing


@dataclass(frozen=True)
class RelayTraffic:
    """Counted on the customer's link, the relay's one wire to the customer: every
    message received (screen updates, video, control, files) and every one sent
    (the agents' input, control, credit), in bytes and in frames (link messages).
    The lags are how long a frame from the customer waited before its viewer's socket
    took it: 0 when it went out at once, longer when it queued behind a slow viewer.
    One per node, shared by its relays."""

    from_customer: Tally = field(default_factory=Kept)
    to_customer: Tally = field(default_factory=Kept)
    frames_from_customer: Tally = field(default_factory=Kept)
    frames_to_customer: Tally = field(default_factory=Kept)
    rfb_lag: Timing = field(default_factory=Kept)
    video_lag: Timing = field(default_factory=Kept)
