"""The bytes this node's relays moved over customers' links, for the server's metrics."""

from __future__ import annotations

from dataclasses import dataclass, field

from supportdesk.server.metrics.exposition import CounterValue


@dataclass(frozen=True)
class RelayTraffic:
    """Counted on the customer's link, the relay's one wire to the customer: every
    message received (screen updates, video, control, files) and every one sent
    (the agents' input, control, credit). One per node, shared by its relays."""

    from_customer: CounterValue = field(default_factory=CounterValue)
    to_customer: CounterValue = field(default_factory=CounterValue)
    messages_from_customer: CounterValue = field(default_factory=CounterValue)
