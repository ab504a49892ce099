"""What the nodes of a cluster share through Redis, with real processes: three nodes
together look at no more support keys than the one cluster-wide budget allows, and a
Redis restart (everything forgotten) is survived by a live session and by the budget."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from supportdesk.domain.support_key import GLOBAL_GUESS_BURST, GLOBAL_GUESS_RATE_LIMIT, SupportKey
from tests.cluster.harness import Cluster, cluster
from tests.cluster.parties import (
    add_agent,
    consented_session,
    holder,
    node,
    screen_reaches_the_agent,
)
from tests.redis_server import PrivateRedis

ATTEMPTS_PER_NODE = 70


def refusals(running: Cluster) -> Counter[str]:
    """The reasons of every refused redemption in the audit trail."""
    trail = [json.loads(line) for line in running.supportdesk("audit", "export").splitlines()]
    return Counter(
        str(e["data"]["reason"])
        for e in trail
        if e["event_type"] == "support_key.redemption_failed"
    )


@pytest.fixture
def budget_cluster(tmp_path: Path) -> Iterator[Cluster]:
    with cluster(tmp_path, nodes=3) as running:
        yield running


async def test_three_nodes_together_look_at_no_more_keys_than_the_one_budget(
    budget_cluster: Cluster,
) -> None:
    running = budget_cluster

    async def guess(client: httpx.AsyncClient, n: int) -> int:
        # Each guess from an address of its own: the per-client back-off never applies,
        # only the cluster-wide budget stands between an attacker and the keys.
        answer = await client.post(
            f"{running.node_url(running.names[n % 3])}/api/v1/join",
            json={"name": "Mallory", "support_key": SupportKey.generate().grouped()},
            headers={"X-Forwarded-For": f"198.51.{n // 250}.{n % 250 + 1}"},
        )
        return answer.status_code

    attempts = 3 * ATTEMPTS_PER_NODE
    limits = httpx.Limits(max_connections=attempts)
    started = time.monotonic()
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        statuses = await asyncio.gather(*(guess(client, n) for n in range(attempts)))
    elapsed = time.monotonic() - started
    assert statuses == [404] * attempts  # every refusal looks the same
    reasons = refusals(running)
    assert sum(reasons.values()) == attempts
    looked_at = attempts - reasons["rate_limited"]
    allowed = GLOBAL_GUESS_BURST + GLOBAL_GUESS_RATE_LIMIT * elapsed
    assert GLOBAL_GUESS_BURST <= looked_at <= allowed + 1, (looked_at, elapsed, reasons)
    assert reasons["throttled"] == 0  # it was the shared budget, not the back-off


@pytest.fixture
def redis_restart_cluster(tmp_path: Path) -> Iterator[tuple[Cluster, PrivateRedis]]:
    redis = PrivateRedis(tmp_path)
    redis.start()
    (tmp_path / "nodes").mkdir()
    try:
        environ = {"SUPPORTDESK_CLUSTER_LEASE_SECONDS": "2"}
        with cluster(tmp_path / "nodes", nodes=3, environ=environ, redis_url=redis.url) as c:
            add_agent(c)
            yield c, redis
    finally:
        redis.kill()


async def test_a_redis_restart_is_survived(
    redis_restart_cluster: tuple[Cluster, PrivateRedis],
) -> None:
    running, redis = redis_restart_cluster
    async with consented_session(running) as live:
        serving = holder(running, live.number)
        spare_key, _spare = await live.agent.new_session()

        redis.shutdown()  # leases, tickets and the budget are gone with it
        async with httpx.AsyncClient(base_url=running.url) as customer:
            answer = await customer.post(
                "/api/v1/join", json={"name": "Erika", "support_key": spare_key}
            )
        assert answer.status_code == 404  # fail closed: no budget, no redemption
        # The live session goes on meanwhile: the serving node keeps its relay.
        await asyncio.sleep(3)
        assert live.applet.socket.close_code is None and live.control.close_code is None

        redis.start()  # empty
        assert await leased_by(running, live.number) == serving  # taken again by it
        # Tickets work again, and the picture reaches the agent on the same session.
        await screen_reaches_the_agent(live, node(running, "node-a"), b"RFB-after-redis")
        # The key refused during the outage was not spent: it redeems now.
        async with httpx.AsyncClient(base_url=running.url) as customer:
            answer = await customer.post(
                "/api/v1/join", json={"name": "Erika", "support_key": spare_key}
            )
        assert answer.status_code == 200, answer.text

        await live.control.send('{"type": "end"}')
        await live.applet.next_control("end")
    assert refusals(running)["rate_limited"] == 1
    running.supportdesk("audit", "verify")


async def leased_by(running: Cluster, number: str, tries: int = 50) -> str | None:
    """The node that holds the session's lease once one does (None: nobody in time)."""
    for _ in range(tries):
        try:
            return holder(running, number)
        except AssertionError:  # no lease (yet)
            await asyncio.sleep(0.2)
    return None
