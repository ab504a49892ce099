"""The connection to Redis the bus shares: one client, key names, and outage logging.

Timeouts are short and the client never retries by itself, so an operation against
an unreachable Redis fails within seconds instead of hanging a request, a take or a
publish is never sent twice, and a subscription notices a lost link (the pool checks
a pooled connection before handing it out, so a restarted Redis costs no request).
An outage is logged once when it starts, every minute while it lasts, and when it
ends, not once per refused request.
"""

from __future__ import annotations

import collections
import logging
import time
from typing import Any, Final

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from .sentinel_url import SCHEME as SENTINEL_SCHEME
from .sentinel_url import SentinelAddress, parse_sentinel_url

log = logging.getLogger("supportdesk.bus")

UNREACHABLE: Final = (RedisError, OSError)
"""What an operation against Redis may raise when Redis is down, restarting
(``LOADING``), out of memory or read-only: every such answer counts as "unavailable"."""

CONNECT_TIMEOUT = 1.0
COMMAND_TIMEOUT = 2.0
REMIND_EVERY = 60.0


_CLIENT_OPTIONS: Final[dict[str, Any]] = {
    "decode_responses": True,
    "socket_connect_timeout": CONNECT_TIMEOUT,
    "socket_timeout": COMMAND_TIMEOUT,
    "retry_on_timeout": False,
}


def open_redis(url: str) -> Redis:
    """A client for ``url`` (redis://, rediss://, unix://, or redis+sentinel:// for the
    master the sentinels name at the time of each connection); connects on first use."""
    if url.startswith(SENTINEL_SCHEME):
        return _through_sentinels(parse_sentinel_url(url))
    client: Redis = Redis.from_url(url, retry=Retry(NoBackoff(), 0), **_CLIENT_OPTIONS)
    return client


def _through_sentinels(address: SentinelAddress) -> Redis:
    # Each new connection asks the sentinels for the master (a pooled one is checked
    # before use), so after a failover the next operation reaches the promoted replica;
    # the operations in flight when the master died fail as "unavailable".
    sentinels = Sentinel(  # type: ignore[no-untyped-call]
        list(address.sentinels),
        sentinel_kwargs={
            "password": address.sentinel_password,
            "socket_connect_timeout": CONNECT_TIMEOUT,
            "socket_timeout": COMMAND_TIMEOUT,
        },
    )
    client: Redis = sentinels.master_for(
        address.master,
        redis_class=Redis,
        db=address.db,
        username=address.username,
        password=address.password,
        retry=Retry(NoBackoff(), 0),
        **_CLIENT_OPTIONS,
    )
    return client


def redacted(url: str) -> str:
    """``url`` without a password (nor a query, which may carry the sentinels'), for logs."""
    scheme, sep, rest = url.partition("://")
    rest, question, _query = rest.partition("?")
    if "@" in rest:
        rest = f"***@{rest.rsplit('@', 1)[1]}"
    return f"{scheme}{sep}{rest}{'?***' if question else ''}"


class KeySpace:
    """Key and channel names under one namespace, so deployments and tests sharing a
    Redis never see each other's keys."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def key(self, kind: str, name: str) -> str:
        return f"{self.namespace}:{kind}:{name}"


FAILURES: collections.Counter[str] = collections.Counter()
"""Failed Redis operations in this process, by kind of operation (``Outage.kind``:
buckets, leases, tickets, publish, subscribe); the server's metrics read it."""


class Outage:
    """Logs that Redis became unreachable for some purpose, and that it is back."""

    def __init__(self, purpose: str, consequence: str, kind: str = "other") -> None:
        self.purpose = purpose
        self.kind = kind
        self.consequence = consequence
        self._since: float | None = None
        self._reminded = 0.0

    @property
    def ongoing(self) -> bool:
        return self._since is not None

    def failed(self, error: BaseException) -> None:
        FAILURES[self.kind] += 1
        now = time.monotonic()
        if self._since is None:
            self._since = self._reminded = now
            log.warning(
                "Redis unreachable for %s (%s: %s); %s",
                self.purpose,
                type(error).__name__,
                error,
                self.consequence,
            )
        elif now - self._reminded >= REMIND_EVERY:
            self._reminded = now
            log.warning(
                "Redis still unreachable for %s after %.0f s (%s); %s",
                self.purpose,
                now - self._since,
                type(error).__name__,
                self.consequence,
            )

    def succeeded(self) -> None:
        if self._since is not None:
            log.warning(
                "Redis reachable again for %s after %.1f s",
                self.purpose,
                time.monotonic() - self._since,
            )
            self._since = None
