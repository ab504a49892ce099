"""Console events between nodes over Redis pub/sub, resubscribing after a lost link.

Each subscription holds its own connection, from a client that never reconnects by
itself (``redis_link``): when the link drops (Redis restarted, or the subscriber fell behind and
Redis cut it off), the subscription reconnects with back-off, subscribes again and
yields ``MISSED`` first, because Redis pub/sub does not keep what was published in
between.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from types import TracebackType

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from supportdesk.bus.in_process import MAX_MESSAGE_BYTES, encode_message
from supportdesk.bus.interfaces import MISSED, BusUnavailable, Message, check_name
from supportdesk.bus.redis_link import COMMAND_TIMEOUT, UNREACHABLE, KeySpace, Outage

log = logging.getLogger("supportdesk.bus")

POLL_SECONDS = 1.0
FIRST_RETRY = 0.05
LAST_RETRY = 2.0


class RedisSubscription:
    def __init__(self, client: Redis, channel: str, redis_channel: str) -> None:
        self._client = client
        self.channel = channel
        self._redis_channel = redis_channel
        self._pubsub: PubSub | None = None
        self._closed = False
        self._retry = FIRST_RETRY
        self.outage = Outage(
            f"events on {channel!r}",
            "resubscribing; the subscriber is told it missed events",
            "subscribe",
        )

    async def open(self) -> None:
        """Subscribe and wait until Redis confirmed it."""
        pubsub = self._client.pubsub()
        try:
            await pubsub.subscribe(self._redis_channel)
            while True:
                reply = await pubsub.get_message(timeout=COMMAND_TIMEOUT)
                if reply is None:
                    raise TimeoutError("Redis did not confirm the subscription")
                if reply["type"] == "subscribe":
                    break
        except BaseException:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            raise
        self._pubsub = pubsub

    def __aiter__(self) -> RedisSubscription:
        return self

    async def __anext__(self) -> Message:
        while not self._closed:
            if self._pubsub is None:
                try:
                    await self.open()
                except UNREACHABLE as error:
                    self.outage.failed(error)
                    await asyncio.sleep(self._retry)
                    self._retry = min(self._retry * 2, LAST_RETRY)
                    continue
                self.outage.succeeded()
                self._retry = FIRST_RETRY
                return dict(MISSED)
            try:
                reply = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=POLL_SECONDS
                )
            except UNREACHABLE as error:
                self.outage.failed(error)
                await self._drop()
                continue
            if reply is None or reply["type"] != "message":
                continue
            try:
                message = json.loads(reply["data"])
            except ValueError:
                message = None
            if isinstance(message, dict):
                return message
            log.warning("ignored a message on %r that is not a JSON object", self.channel)
        raise StopAsyncIteration

    async def _drop(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(*UNREACHABLE):  # the link may be gone already
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def aclose(self) -> None:
        self._closed = True
        await self._drop()

    async def __aenter__(self) -> RedisSubscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


class RedisEvents:
    def __init__(
        self, client: Redis, keys: KeySpace, max_message_bytes: int = MAX_MESSAGE_BYTES
    ) -> None:
        self._client = client
        self._keys = keys
        self.max_message_bytes = max_message_bytes
        self.outage = Outage("publishing events", "events are not delivered", "publish")

    async def publish(self, channel: str, message: Message) -> None:
        check_name("channel", channel)
        encoded = encode_message(message, self.max_message_bytes)
        try:
            await self._client.publish(self._keys.key("events", channel), encoded)
        except UNREACHABLE as error:
            self.outage.failed(error)
            raise BusUnavailable(f"cannot publish on {channel!r}: {error}") from error
        self.outage.succeeded()

    async def subscribe(self, channel: str) -> RedisSubscription:
        check_name("channel", channel)
        subscription = RedisSubscription(self._client, channel, self._keys.key("events", channel))
        try:
            await subscription.open()
        except UNREACHABLE as error:
            raise BusUnavailable(f"cannot subscribe to {channel!r}: {error}") from error
        return subscription
