"""Conformance of the cluster-wide token buckets, in-process and Redis."""

from __future__ import annotations

import asyncio

import pytest

from tests.bus.conftest import Harness


async def test_burst_then_refused(harness: Harness) -> None:
    buckets = harness.bus.buckets
    assert [await buckets.take("b", 0.001, 3) for _ in range(4)] == [True, True, True, False]


async def test_refills_at_the_rate(harness: Harness) -> None:
    buckets = harness.bus.buckets
    assert await buckets.take("b", 2, 1)
    assert not await buckets.take("b", 2, 1)
    await harness.advance(0.55)  # a little over one token at 2/s
    assert await buckets.take("b", 2, 1)
    assert not await buckets.take("b", 2, 1)


async def test_refill_stops_at_the_burst(harness: Harness) -> None:
    buckets = harness.bus.buckets
    assert await buckets.take("b", 50, 2)
    await harness.advance(0.2)  # ten tokens' worth at 50/s, but room for two
    assert [await buckets.take("b", 50, 2) for _ in range(3)] == [True, True, False]


async def test_buckets_are_separate_by_name(harness: Harness) -> None:
    buckets = harness.bus.buckets
    assert await buckets.take("one", 0.001, 1)
    assert not await buckets.take("one", 0.001, 1)
    assert await buckets.take("two", 0.001, 1)


async def test_fifty_parallel_takes_from_a_burst_of_five_get_exactly_five(
    harness: Harness,
) -> None:
    """The attacker's race: many requests at the same instant, on as many connections."""
    buckets = harness.bus.buckets
    granted = await asyncio.gather(*(buckets.take("race", 0.001, 5) for _ in range(50)))
    assert sum(granted) == 5


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (1, 0), (-1, 5)])
async def test_nonsense_limits_are_refused(harness: Harness, rate: float, burst: int) -> None:
    with pytest.raises(ValueError):
        await harness.bus.buckets.take("b", rate, burst)


@pytest.mark.parametrize("name", ["", "with space", "x" * 201, "new\nline"])
async def test_unusable_names_are_refused(harness: Harness, name: str) -> None:
    with pytest.raises(ValueError):
        await harness.bus.buckets.take(name, 1, 1)
