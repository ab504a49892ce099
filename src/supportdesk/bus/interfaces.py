"""The bus's four small interfaces, the types they share, and what "Redis is down" means.

Each interface has an in-process implementation (one process, a clock you can set)
and a Redis one (many nodes); ``tests/bus`` runs one conformance suite over both.
Where a safe answer exists, an implementation whose Redis is unreachable gives it
(a budget refuses, a lease is reported lost, a ticket is not honoured) and logs why;
where none exists (issuing a ticket, publishing, asking who holds a lease) it raises
:class:`BusUnavailable`. It never falls back to in-process state.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Protocol

Message = dict[str, Any]

MISSED: Final[Message] = {"type": "bus.missed"}
"""What a subscription yields when events may have been lost (its Redis link dropped
and came back, or it fell too far behind): re-read the state instead of trusting the
events so far. Compare with ``==``; it is a plain dict."""

TICKET_PATTERN: Final = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
"""The shape of every ticket :meth:`Tickets.issue` returns; anything else is refused
before it reaches a store."""

NAME_PATTERN: Final = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")
"""Bucket names, lease keys and channels: short, printable, no spaces."""


class BusUnavailable(Exception):
    """The configured Redis cannot be reached and the operation has no safe answer."""


@dataclass(frozen=True)
class Lease:
    """A lease on ``key`` held by ``holder``.

    ``token`` is the fencing token: every grant of the same key gets a larger one,
    also after the previous lease expired. A holder stamps its writes with it, and a
    store refuses a write whose token is older than one it has seen (STYLE.md 13).
    ``ttl`` is the lease's length in seconds as granted (from :meth:`Leases.holder`:
    the time left).
    """

    key: str
    holder: str
    token: int
    ttl: float


class TokenBuckets(Protocol):
    """Named token buckets shared by every node: the cluster-wide budgets."""

    async def take(self, name: str, rate: float, burst: int) -> bool:
        """Spend one token of bucket ``name`` (``rate`` tokens a second, at most
        ``burst`` saved up); False means over the limit: refuse. Use a name with the
        same rate and burst everywhere. Fails closed: False when Redis is down."""
        ...


class Leases(Protocol):
    """Exclusive, expiring leases with fencing tokens."""

    async def acquire(self, key: str, holder: str, ttl: float) -> Lease | None:
        """The lease on ``key`` for ``ttl`` seconds, or None if someone (also
        ``holder`` itself) holds it, or Redis is down."""
        ...

    async def renew(self, lease: Lease) -> bool:
        """Extend ``lease`` by its ttl from now. False: the lease is lost (expired,
        taken over, released, or Redis unreachable); stop acting on it."""
        ...

    async def release(self, lease: Lease) -> bool:
        """Give ``lease`` up; False if it was no longer held by it."""
        ...

    async def holder(self, key: str) -> Lease | None:
        """Who holds ``key`` now, with the time left; None if nobody.
        Raises BusUnavailable."""
        ...


class Tickets(Protocol):
    """One-time tickets: a random name for a value, good for one take."""

    async def issue(self, value: str, ttl: float) -> str:
        """A fresh ticket for ``value``, valid ``ttl`` seconds. Raises BusUnavailable."""
        ...

    async def take(self, ticket: str) -> str | None:
        """The ticket's value, once: every later or concurrent take, and any take of
        an expired, unknown or malformed ticket, gets None (so does any take while
        Redis is down)."""
        ...


class Subscription(Protocol):
    """Messages published on one channel after the subscription began, in order."""

    def __aiter__(self) -> AsyncIterator[Message]: ...

    async def __anext__(self) -> Message: ...

    async def aclose(self) -> None:
        """Stop listening and let go of the connection."""
        ...

    async def __aenter__(self) -> Subscription: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


class Events(Protocol):
    """Publish/subscribe of small JSON messages (console events) between nodes.

    At most once: a subscriber that may have missed messages is told with
    :data:`MISSED`, never silently."""

    async def publish(self, channel: str, message: Message) -> None:
        """Send ``message`` (JSON-able, at most ``max_message_bytes`` encoded) to
        every current subscriber of ``channel``. Raises BusUnavailable."""
        ...

    async def subscribe(self, channel: str) -> Subscription:
        """Listen on ``channel``; messages published after this returns arrive."""
        ...


def check_name(what: str, name: str) -> str:
    """``name`` if it is a usable bucket name, lease key or channel; ValueError if not."""
    if not NAME_PATTERN.match(name):
        raise ValueError(f"{what} {name!r} must match {NAME_PATTERN.pattern}")
    return name


def check_limits(rate: float, burst: int) -> None:
    if rate <= 0 or burst < 1:
        raise ValueError("a token bucket needs rate > 0 and burst >= 1")


def check_ttl(ttl: float) -> float:
    if not ttl > 0:
        raise ValueError("a ttl must be a positive number of seconds")
    return ttl
