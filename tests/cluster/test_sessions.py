"""Live sessions on a three-node cluster behind HAProxy, with real processes: the agent
on one node and the customer through HAProxy meet wherever the session is served; a
key issued on one node is redeemed through any; SIGKILL of the node serving a live
session moves it to another node, where the customer's link resumes, the agent sees
the screen again, and the audit trail and the recording (now two segments) verify."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from tests.cluster.harness import Cluster, cluster
from tests.cluster.parties import (
    Live,
    add_agent,
    consented_session,
    holder,
    join_through,
    node,
    resume_through,
    screen_reaches_the_agent,
)
from tests.server.relay_parties import AgentBrowser, control_socket, next_of

LEASE_SECONDS = "2"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    environ = {"SUPPORTDESK_CLUSTER_LEASE_SECONDS": LEASE_SECONDS}
    with cluster(tmp_path_factory.mktemp("sessions"), nodes=3, environ=environ) as started:
        add_agent(started)
        yield started


@pytest.fixture
async def live(running: Cluster) -> AsyncIterator[Live]:
    async with consented_session(running) as session:
        yield session


async def test_the_agent_on_one_node_and_the_customer_through_haproxy_meet(
    running: Cluster, live: Live
) -> None:
    await screen_reaches_the_agent(live, node(running, "node-a"), b"RFB-update-1")
    # Whoever serves it, every node's console reads the same session.
    for name in running.names:
        page = await live.agent.http.get(f"{running.node_url(name)}/console/sessions/{live.number}")
        assert page.status_code == 200 and "Erika" in page.text


async def test_an_agent_on_a_node_that_does_not_serve_the_session_sees_the_screen(
    running: Cluster, live: Live
) -> None:
    serving = holder(running, live.number)
    elsewhere = next(name for name in running.names if name != serving)
    agent = await AgentBrowser.log_in(node(running, elsewhere), "anna")
    control = await control_socket(await agent.control_url(live.number), agent.server.url)
    try:
        await next_of(control, "state", state="active")
        there = replace(live, agent=agent, control=control)
        await screen_reaches_the_agent(there, node(running, elsewhere), b"RFB-handed-on")
        assert holder(running, live.number) == serving  # handed on, not moved
    finally:
        await control.close()
        await agent.close()


async def test_a_key_issued_on_one_node_is_spent_once_through_haproxy(running: Cluster) -> None:
    agent = await AgentBrowser.log_in(node(running, "node-b"), "anna")
    key, _number = await agent.new_session()
    await agent.close()
    await join_through(running, key)
    async with httpx.AsyncClient(base_url=running.node_url("node-c")) as customer:
        # Anyone but Erika (who may redeem it again until a link opens: docs/security.md).
        again = await customer.post("/api/v1/join", json={"name": "Mallory", "support_key": key})
    assert again.status_code != 200


async def test_sigkill_of_the_serving_node_moves_the_session_to_another(
    running: Cluster, live: Live
) -> None:
    serving = holder(running, live.number)
    survivor = next(name for name in running.names if name != serving)
    killed_at = time.monotonic()
    running.kill(serving)
    with pytest.raises(ConnectionClosed):
        while True:
            await asyncio.wait_for(live.applet.socket.recv(), 15)
    live.applet = await resume_through(running, live, killed_at + 30)
    state = await live.applet.next_control("state")
    assert state["state"] == "active"
    # The agent's live page comes back through a node that is alive.
    agent = await AgentBrowser.log_in(node(running, survivor), "anna")
    live.agent, old = agent, live.agent
    await old.close()
    live.control = await control_socket(await agent.control_url(live.number), agent.server.url)
    await next_of(live.control, "state", state="active", customer_link="connected")
    await screen_reaches_the_agent(live, node(running, survivor), b"RFB-update-after-kill")
    assert holder(running, live.number) != serving
    resumed_after = time.monotonic() - killed_at
    assert resumed_after < 30

    await live.control.send('{"type": "end"}')
    await live.applet.next_control("end")
    running.start(serving)
    trail = [
        json.loads(line)
        for line in running.supportdesk("audit", "export", node=survivor).splitlines()
    ]
    kinds = [e["event_type"] for e in trail if e["subject"] == live.number]
    assert "session.taken_over" in kinds and "session.link_restored" in kinds
    assert kinds.count("session.ended") == 1
    running.supportdesk("audit", "verify", node=survivor)
    running.supportdesk("recordings", "verify", live.number, node=survivor)
