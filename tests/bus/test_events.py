"""Conformance of console events (publish/subscribe), in-process and Redis."""

from __future__ import annotations

import asyncio

import pytest

from supportdesk.bus import MISSED, InProcessEvents, Subscription
from tests.bus.conftest import Harness


async def next_message(subscription: Subscription) -> dict[str, object]:
    async with asyncio.timeout(5.0):
        return await anext(subscription)


async def test_subscribers_get_what_is_published_in_order(harness: Harness) -> None:
    events = harness.bus.events
    async with (
        await events.subscribe("console") as first,
        await events.subscribe("console") as second,
    ):
        for n in range(3):
            await events.publish("console", {"n": n, "text": "Grüße"})
        for subscription in (first, second):
            assert [await next_message(subscription) for _ in range(3)] == [
                {"n": n, "text": "Grüße"} for n in range(3)
            ]


async def test_other_channels_are_not_heard(harness: Harness) -> None:
    events = harness.bus.events
    async with await events.subscribe("a") as listening:
        await events.publish("b", {"for": "b"})
        await events.publish("a", {"for": "a"})
        assert await next_message(listening) == {"for": "a"}


async def test_a_closed_subscription_ends(harness: Harness) -> None:
    events = harness.bus.events
    subscription = await events.subscribe("a")
    await events.publish("a", {"unread": True})
    await asyncio.sleep(0.05)
    await subscription.aclose()
    await events.publish("a", {"late": True})
    with pytest.raises(StopAsyncIteration):
        await next_message(subscription)


@pytest.mark.parametrize("message", [["not", "a", "dict"], {"big": "x" * 70_000}])
async def test_unfit_messages_are_refused(harness: Harness, message: object) -> None:
    with pytest.raises(ValueError):
        await harness.bus.events.publish("a", message)  # type: ignore[arg-type]


async def test_a_subscriber_that_falls_behind_is_told_it_missed_events() -> None:
    events = InProcessEvents(queue_limit=3)
    async with await events.subscribe("a") as slow:
        for n in range(5):
            await events.publish("a", {"n": n})
        got = [await next_message(slow) for _ in range(3)]
    assert got == [MISSED, {"n": 3}, {"n": 4}]
