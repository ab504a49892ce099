"""Three server nodes on one database and one Redis redeem support keys together no
faster than the one documented budget (1 attempt/s, burst 60), not three times it."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest

from supportdesk.bus import InProcessBuckets
from supportdesk.config import Settings
from supportdesk.domain.support_key import GLOBAL_GUESS_BURST, GLOBAL_GUESS_RATE_LIMIT, SupportKey
from supportdesk.server.app import create_app
from supportdesk.server.state import desk_of_app
from supportdesk.store.database import create_engine
from supportdesk.store.migrate import upgrade
from tests.bus.conftest import forget_namespace
from tests.conftest import FixedClock
from tests.redis_server import ensure_shared_redis, namespace

NODES = 3


@pytest.fixture
async def cluster_settings(
    make_settings: Callable[..., Settings], database_url: str
) -> AsyncIterator[Settings]:
    """Settings every node shares: one migrated database, one Redis, one namespace."""
    redis_url = ensure_shared_redis()
    space = namespace()
    result = make_settings(
        database_url, SUPPORTDESK_BUS_REDIS_URL=redis_url, SUPPORTDESK_BUS_NAMESPACE=space
    )
    engine = create_engine(result.database.url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    yield result
    await forget_namespace(redis_url, space)


async def test_nodes_on_one_redis_share_the_guessing_budget(
    cluster_settings: Settings, clock: FixedClock
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        desks = []
        for _ in range(NODES):
            node = create_app(cluster_settings, clock=clock)
            await stack.enter_async_context(node.router.lifespan_context(node))
            desk = desk_of_app(node)
            desk.remote.answer_time = timedelta(0)
            assert not isinstance(desk.remote.guesses, InProcessBuckets)
            desks.append(desk)
        attempts = NODES * (GLOBAL_GUESS_BURST + 10)
        started = time.monotonic()
        for n in range(attempts):
            # Round robin over the nodes, from as many addresses as the per-client
            # back-off lets through: only the global budget can stop these.
            desk = desks[n % NODES]
            guess = str(SupportKey.generate())
            await desk.remote.redeem("Mallory", guess, f"203.0.113.{n % 250}", desk.clock())
        elapsed = time.monotonic() - started
        reasons = [
            entry.data["reason"]
            async for entry in desks[0].audit.entries()
            if entry.event_type == "support_key.redemption_failed"
        ]
    assert len(reasons) == attempts
    looked_at = attempts - reasons.count("rate_limited")
    # A bucket per node would have let NODES x 60 through at once.
    assert (
        GLOBAL_GUESS_BURST
        <= looked_at
        <= GLOBAL_GUESS_BURST + GLOBAL_GUESS_RATE_LIMIT * (elapsed + 1)
    ), (looked_at, elapsed)
