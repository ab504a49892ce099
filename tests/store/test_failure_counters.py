"""Failure counters under real concurrency, on SQLite and PostgreSQL: an attempt is
counted before it is decided, so parallel attempts cannot all slip under a budget."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from supportdesk.config import Settings
from supportdesk.store.database import create_engine, session_factory
from supportdesk.store.failure_counters import FailureCount, FailureCounters

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BUDGET = 5


def under_budget(count: FailureCount) -> bool:
    return count.failures < BUDGET


@pytest.fixture
async def sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings.database.url)
    yield session_factory(engine)
    await engine.dispose()


async def test_forty_parallel_attempts_reserve_at_most_the_budget(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    counters = FailureCounters(sessions)
    keys = ["login:account:anna", "login:client:c1"]
    results = await asyncio.gather(*(counters.reserve(keys, NOW, under_budget) for _ in range(40)))
    assert sum(results) == BUDGET
    assert (await counters.get("login:account:anna")).failures == BUDGET
    assert (await counters.get("login:client:c1")).failures == BUDGET


async def test_parallel_failures_are_all_counted(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    counters = FailureCounters(sessions)
    counts = await asyncio.gather(*(counters.record_failure("redeem:c2", NOW) for _ in range(20)))
    assert sorted(counts) == list(range(1, 21))
    assert (await counters.get("redeem:c2")).failures == 20


async def test_a_refused_attempt_counts_nothing_and_a_released_one_is_given_back(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    counters = FailureCounters(sessions)
    assert await counters.reserve(["a"], NOW, under_budget)
    assert not await counters.reserve(["a", "b"], NOW, lambda count: count.failures == 0)
    assert (await counters.get("a")) == FailureCount(1, NOW)
    assert (await counters.get("b")).failures == 0
    await counters.release(["a"])
    assert (await counters.get("a")).failures == 0
    later = NOW + timedelta(seconds=3)
    assert await counters.reserve(["a"], later, under_budget)
    await counters.reset("a")
    assert (await counters.get("a")).failures == 0
