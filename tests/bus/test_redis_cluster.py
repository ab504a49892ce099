"""The Redis bus as a cluster sees it: two processes share one budget, a Redis restart
is survived, and a configured but unreachable Redis is never replaced by memory."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from supportdesk.bus import MISSED, BusUnavailable, Subscription, connect
from tests.bus.conftest import forget_namespace
from tests.redis_server import PrivateRedis, free_port, namespace

ROOT = Path(__file__).resolve().parents[2]


def test_two_processes_on_one_redis_share_one_budget(redis_url: str) -> None:
    """Two nodes hammering one bucket together get no more than one node's budget:
    burst + rate x window (a bucket per node would give each that much)."""
    rate, burst, window = 20.0, 5, 1.0
    space = namespace()
    start = time.time() + 1.5  # both processes are up and connected by then
    command = [sys.executable, "-m", "tests.bus.hammer", redis_url, space, "guesses"]
    args = [str(rate), str(burst), str(start), str(window)]
    nodes = [
        subprocess.Popen([*command, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    counts = [int(node.communicate(timeout=30)[0]) for node in nodes]
    # Every take Redis granted happened between `start` and now, by Redis's clock.
    ended = asyncio.run(redis_time(redis_url))
    asyncio.run(forget_namespace(redis_url, space))
    assert all(node.returncode == 0 for node in nodes)
    budget = burst + rate * (ended - start)
    assert burst <= sum(counts) <= budget, (counts, budget)
    # A bucket per node would have let each node have burst + rate x window.
    assert budget < 2 * (burst + rate * window), "the machine was too slow to tell"


async def redis_time(url: str) -> float:
    client = Redis.from_url(url)
    try:
        seconds, microseconds = await client.time()
    finally:
        await client.aclose()
    return float(seconds) + float(microseconds) / 1e6


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()


async def next_message(subscription: Subscription) -> dict[str, object]:
    async with asyncio.timeout(10.0):
        return await anext(subscription)


async def test_a_redis_restart_is_survived(
    private_redis: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "supportdesk.bus")
    bus = connect(private_redis.url, namespace=namespace())
    try:
        subscription = await bus.events.subscribe("console")
        await bus.events.publish("console", {"n": 1})
        assert await next_message(subscription) == {"n": 1}
        assert await bus.buckets.take("guesses", 1, 60)
        lease = await bus.leases.acquire("session:1", "node-a", 30)
        assert lease is not None

        private_redis.shutdown()
        # Down: the budget refuses (and says why), the lease is lost, nothing is faked.
        assert not await bus.buckets.take("guesses", 1, 60)
        assert "Redis unreachable for the cluster-wide budgets" in caplog.text
        assert not await bus.leases.renew(lease)
        assert await bus.tickets.take("x" * 32) is None
        with pytest.raises(BusUnavailable):
            await bus.events.publish("console", {"n": 2})
        with pytest.raises(BusUnavailable):
            await bus.tickets.issue("v", 30)
        with pytest.raises(BusUnavailable):
            await bus.leases.holder("session:1")
        assert not await bus.ping()

        private_redis.start()
        assert await bus.buckets.take("guesses", 1, 60)
        assert "Redis reachable again for the cluster-wide budgets" in caplog.text
        # The subscriber is told that it may have missed events, then hears new ones.
        assert await next_message(subscription) == MISSED
        received = asyncio.ensure_future(next_message(subscription))
        while not received.done():
            await bus.events.publish("console", {"n": 3})
            await asyncio.sleep(0.05)
        assert received.result() == {"n": 3}
        await subscription.aclose()
        # The fencing counter was lost with Redis, yet tokens still only grow.
        again = await bus.leases.acquire("session:1", "node-b", 30)
        assert again is not None and again.token > lease.token
    finally:
        await bus.close()


async def test_a_configured_redis_that_is_down_is_not_replaced_by_memory() -> None:
    bus = connect(f"redis://127.0.0.1:{free_port()}/0", namespace=namespace())
    try:
        assert bus.kind == "redis"
        assert not await bus.ping()
        assert [await bus.buckets.take("guesses", 1, 60) for _ in range(3)] == [False] * 3
        assert await bus.leases.acquire("k", "a", 5) is None
        with pytest.raises(BusUnavailable):
            await bus.events.subscribe("console")
    finally:
        await bus.close()


def test_no_url_means_in_process() -> None:
    assert connect(None).kind == "in-process"
    assert connect("").kind == "in-process"
    with pytest.raises(ValueError):
        connect(None, namespace="no spaces")
