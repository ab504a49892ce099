"""Conformance of leases with fencing tokens, in-process and Redis."""

from __future__ import annotations

import asyncio

import pytest

from tests.bus.conftest import Harness


async def test_one_holder_at_a_time(harness: Harness) -> None:
    leases = harness.bus.leases
    lease = await leases.acquire("session:1", "node-a", 5)
    assert lease is not None
    assert (lease.key, lease.holder, lease.ttl) == ("session:1", "node-a", 5)
    assert await leases.acquire("session:1", "node-b", 5) is None
    assert await leases.acquire("session:1", "node-a", 5) is None  # not twice either
    held = await leases.holder("session:1")
    assert held is not None
    assert (held.holder, held.token) == ("node-a", lease.token)
    assert 0 < held.ttl <= 5


async def test_nobody_holds_a_fresh_key(harness: Harness) -> None:
    assert await harness.bus.leases.holder("session:none") is None


async def test_renewing_keeps_the_lease(harness: Harness) -> None:
    leases = harness.bus.leases
    lease = await leases.acquire("k", "node-a", 1.0)
    assert lease is not None
    for _ in range(3):  # 1.2 s in all: past the first ttl, held by renewing
        await harness.advance(0.4)
        assert await leases.renew(lease)
    held = await leases.holder("k")
    assert held is not None and held.token == lease.token


async def test_takeover_after_expiry_gets_a_higher_token_and_fences_the_old_holder(
    harness: Harness,
) -> None:
    """Node A pauses past its lease; B takes over. A's late renew and release must
    fail, and B's token is larger, so a store can refuse A's late writes."""
    leases = harness.bus.leases
    old = await leases.acquire("k", "node-a", 0.2)
    assert old is not None
    await harness.advance(0.3)
    assert await leases.holder("k") is None
    new = await leases.acquire("k", "node-b", 5)
    assert new is not None
    assert new.token > old.token
    assert not await leases.renew(old)
    assert not await leases.release(old)
    held = await leases.holder("k")
    assert held is not None and (held.holder, held.token) == ("node-b", new.token)


async def test_a_stale_lease_of_the_same_holder_is_fenced_too(harness: Harness) -> None:
    leases = harness.bus.leases
    first = await leases.acquire("k", "node-a", 5)
    assert first is not None and await leases.release(first)
    second = await leases.acquire("k", "node-a", 5)
    assert second is not None and second.token > first.token
    assert not await leases.renew(first)
    assert not await leases.release(first)
    assert await leases.renew(second)


async def test_release_frees_the_key_and_tokens_keep_growing(harness: Harness) -> None:
    leases = harness.bus.leases
    tokens = []
    for holder in ("a", "b", "c", "a"):
        lease = await leases.acquire("k", holder, 5)
        assert lease is not None
        tokens.append(lease.token)
        assert await leases.release(lease)
        assert not await leases.release(lease)
    assert tokens == sorted(set(tokens))


async def test_twenty_parallel_acquirers_one_winner(harness: Harness) -> None:
    leases = harness.bus.leases
    got = await asyncio.gather(*(leases.acquire("k", f"node-{i}", 5) for i in range(20)))
    winners = [lease for lease in got if lease is not None]
    assert len(winners) == 1
    held = await leases.holder("k")
    assert held is not None and held.holder == winners[0].holder


async def test_keys_are_separate(harness: Harness) -> None:
    leases = harness.bus.leases
    assert await leases.acquire("k1", "a", 5) is not None
    assert await leases.acquire("k2", "b", 5) is not None


@pytest.mark.parametrize("ttl", [0, -1])
async def test_a_ttl_must_be_positive(harness: Harness, ttl: float) -> None:
    with pytest.raises(ValueError):
        await harness.bus.leases.acquire("k", "a", ttl)
