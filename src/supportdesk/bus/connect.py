"""The bus as one bundle, and choosing its implementation from configuration.

No Redis URL: everything in this process (one node). A Redis URL: everything in
that Redis, and nothing in memory instead, even while Redis is down.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Final, Literal, cast

from redis.asyncio import Redis

from supportdesk.bus.in_process import (
    Clock,
    InProcessBuckets,
    InProcessEvents,
    InProcessLeases,
    InProcessTickets,
)
from supportdesk.bus.interfaces import Events, Leases, Tickets, TokenBuckets
from supportdesk.bus.redis_buckets import RedisBuckets
from supportdesk.bus.redis_events import RedisEvents
from supportdesk.bus.redis_leases import RedisLeases
from supportdesk.bus.redis_link import UNREACHABLE, KeySpace, open_redis, redacted
from supportdesk.bus.redis_tickets import RedisTickets

DEFAULT_NAMESPACE: Final = "supportdesk"
NAMESPACE_PATTERN: Final = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass
class Bus:
    """Budgets, leases, tickets and events, all from the same place."""

    buckets: TokenBuckets
    leases: Leases
    tickets: Tickets
    events: Events
    kind: Literal["in-process", "redis"]
    where: str = "this process"
    _redis: Redis | None = None

    async def ping(self) -> bool:
        """Whether the bus can be reached now (always, in-process)."""
        if self._redis is None:
            return True
        try:
            # redis-py types ping() for its sync and async clients at once.
            return bool(await cast(Awaitable[bool], self._redis.ping()))
        except UNREACHABLE:
            return False

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


def connect(
    redis_url: str | None,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    clock: Clock = time.monotonic,
) -> Bus:
    """The in-process bus (``clock`` gives its time) or, given a URL, the Redis bus
    with every key and channel under ``namespace:``. Connects on first use."""
    if not NAMESPACE_PATTERN.match(namespace):
        raise ValueError(f"a bus namespace must match {NAMESPACE_PATTERN.pattern}")
    if not redis_url:
        return Bus(
            InProcessBuckets(clock),
            InProcessLeases(clock),
            InProcessTickets(clock),
            InProcessEvents(),
            "in-process",
        )
    client = open_redis(redis_url)
    keys = KeySpace(namespace)
    return Bus(
        RedisBuckets(client, keys),
        RedisLeases(client, keys),
        RedisTickets(client, keys),
        RedisEvents(client, keys),
        "redis",
        f"{redacted(redis_url)} (namespace {namespace!r})",
        client,
    )
