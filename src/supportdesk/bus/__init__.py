"""Coordination between server nodes: cluster-wide budgets, leases, tickets, events.

In-process by default (one node); in Redis when ``[bus] redis_url`` is set. Imports
nothing of the server, the store or the domain.
"""

from supportdesk.bus.connect import Bus, connect
from supportdesk.bus.in_process import (
    InProcessBuckets,
    InProcessEvents,
    InProcessLeases,
    InProcessTickets,
)
from supportdesk.bus.interfaces import (
    MISSED,
    BusUnavailable,
    Events,
    Lease,
    Leases,
    Message,
    Subscription,
    Tickets,
    TokenBuckets,
)

__all__ = [
    "MISSED",
    "Bus",
    "BusUnavailable",
    "Events",
    "InProcessBuckets",
    "InProcessEvents",
    "InProcessLeases",
    "InProcessTickets",
    "Lease",
    "Leases",
    "Message",
    "Subscription",
    "Tickets",
    "TokenBuckets",
    "connect",
]
