"""The bus inside one process: buckets, leases, tickets and events in memory.

What a single node without Redis uses, and the reference the Redis implementation is
checked against. Time comes from the ``clock`` given (monotonic seconds), so tests
move it instead of sleeping. Nothing here awaits between reading and writing state,
so every operation is atomic with respect to other tasks.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable
from types import TracebackType

from supportdesk.bus.interfaces import (
    MISSED,
    TICKET_PATTERN,
    Lease,
    Message,
    check_limits,
    check_name,
    check_ttl,
)
from supportdesk.bus.token_bucket import TokenBucket

Clock = Callable[[], float]
MAX_MESSAGE_BYTES = 64 * 1024
SUBSCRIPTION_QUEUE = 1000


class InProcessBuckets:
    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    async def take(self, name: str, rate: float, burst: int) -> bool:
        check_name("bucket", name)
        check_limits(rate, burst)
        bucket = self._buckets.get(name)
        if bucket is None:
            bucket = self._buckets[name] = TokenBucket(rate, burst)
        bucket.rate, bucket.burst = rate, burst
        return bucket.take(self.clock())


class InProcessLeases:
    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._held: dict[str, tuple[Lease, float]] = {}  # key -> (lease, expires at)
        self._fence: dict[str, int] = {}

    def _current(self, key: str) -> tuple[Lease, float] | None:
        entry = self._held.get(key)
        if entry is not None and self.clock() >= entry[1]:
            del self._held[key]
            return None
        return entry

    async def acquire(self, key: str, holder: str, ttl: float) -> Lease | None:
        check_name("lease key", key)
        check_ttl(ttl)
        if self._current(key) is not None:
            return None
        token = self._fence[key] = self._fence.get(key, 0) + 1
        lease = Lease(key, holder, token, ttl)
        self._held[key] = (lease, self.clock() + ttl)
        return lease

    def _holds(self, lease: Lease) -> bool:
        entry = self._current(lease.key)
        return entry is not None and (entry[0].token, entry[0].holder) == (
            lease.token,
            lease.holder,
        )

    async def renew(self, lease: Lease) -> bool:
        if not self._holds(lease):
            return False
        self._held[lease.key] = (self._held[lease.key][0], self.clock() + lease.ttl)
        return True

    async def release(self, lease: Lease) -> bool:
        if not self._holds(lease):
            return False
        del self._held[lease.key]
        return True

    async def holder(self, key: str) -> Lease | None:
        entry = self._current(key)
        if entry is None:
            return None
        lease, expires_at = entry
        return Lease(key, lease.holder, lease.token, expires_at - self.clock())


class InProcessTickets:
    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._tickets: dict[str, tuple[str, float]] = {}

    async def issue(self, value: str, ttl: float) -> str:
        check_ttl(ttl)
        now = self.clock()
        for ticket in [t for t, (_, expires) in self._tickets.items() if expires <= now]:
            del self._tickets[ticket]
        ticket = secrets.token_urlsafe(24)
        self._tickets[ticket] = (value, now + ttl)
        return ticket

    async def take(self, ticket: str) -> str | None:
        if not TICKET_PATTERN.match(ticket):
            return None
        entry = self._tickets.pop(ticket, None)
        if entry is None or entry[1] <= self.clock():
            return None
        return entry[0]


class InProcessSubscription:
    def __init__(self, events: InProcessEvents, channel: str, limit: int) -> None:
        self._events = events
        self.channel = channel
        self.limit = limit
        # Unbounded as a queue, bounded by deliver(): room stays for the end marker.
        self._queue: asyncio.Queue[Message | None] = asyncio.Queue()

    def deliver(self, message: Message) -> None:
        if self._queue.qsize() >= self.limit:
            # Too far behind: drop what waits and say so, rather than grow or block.
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(dict(MISSED))
        self._queue.put_nowait(message)

    def __aiter__(self) -> InProcessSubscription:
        return self

    async def __anext__(self) -> Message:
        message = await self._queue.get()
        if message is None:
            raise StopAsyncIteration
        return message

    async def aclose(self) -> None:
        if self._events.forget(self):
            while not self._queue.empty():  # like a closed Redis link: nothing more
                self._queue.get_nowait()
            self._queue.put_nowait(None)

    async def __aenter__(self) -> InProcessSubscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


class InProcessEvents:
    def __init__(
        self, max_message_bytes: int = MAX_MESSAGE_BYTES, queue_limit: int = SUBSCRIPTION_QUEUE
    ) -> None:
        self.max_message_bytes = max_message_bytes
        self.queue_limit = queue_limit
        self._subscribers: dict[str, set[InProcessSubscription]] = {}

    async def publish(self, channel: str, message: Message) -> None:
        check_name("channel", channel)
        encoded = encode_message(message, self.max_message_bytes)
        for subscription in list(self._subscribers.get(channel, ())):
            # Each subscriber gets its own copy, as it would from Redis.
            subscription.deliver(json.loads(encoded))

    async def subscribe(self, channel: str) -> InProcessSubscription:
        check_name("channel", channel)
        subscription = InProcessSubscription(self, channel, self.queue_limit)
        self._subscribers.setdefault(channel, set()).add(subscription)
        return subscription

    def forget(self, subscription: InProcessSubscription) -> bool:
        listeners = self._subscribers.get(subscription.channel, set())
        if subscription not in listeners:
            return False
        listeners.discard(subscription)
        if not listeners:
            self._subscribers.pop(subscription.channel, None)
        return True


def encode_message(message: Message, limit: int) -> str:
    """``message`` as compact JSON; ValueError if it is not a JSON object or too big."""
    if not isinstance(message, dict):
        raise ValueError("a bus message is a JSON object (dict)")
    encoded = json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    if len(encoded.encode()) > limit:
        raise ValueError(f"a bus message may be at most {limit} bytes of JSON")
    return encoded
