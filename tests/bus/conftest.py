"""The bus under test: every conformance test runs once in-process (on a fake clock)
and once on the real Redis (on real time, in a namespace of its own)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis

from supportdesk.bus import Bus, connect
from tests.redis_server import ensure_shared_redis, namespace


class FakeClock:
    """Monotonic seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Harness:
    bus: Bus
    clock: FakeClock | None
    namespace: str

    async def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass: at once on the fake clock, for real against Redis."""
        if self.clock is not None:
            self.clock.now += seconds
        else:
            await asyncio.sleep(seconds)


@pytest.fixture(scope="session")
def redis_url() -> str:
    return ensure_shared_redis()


async def forget_namespace(url: str, prefix: str) -> None:
    client = Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture(params=["in-process", "redis"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    space = namespace()
    if request.param == "in-process":
        clock = FakeClock()
        yield Harness(connect(None, clock=clock), clock, space)
        return
    url: str = request.getfixturevalue("redis_url")
    bus = connect(url, namespace=space)
    try:
        yield Harness(bus, None, space)
    finally:
        await bus.close()
        await forget_namespace(url, space)
