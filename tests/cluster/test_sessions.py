"""Live sessions on a three-node cluster behind HAProxy, with real processes: the agent
on one node and the customer through HAProxy meet wherever the session is served; a
key issued on one node is redeemed through any; SIGKILL of the node serving a live
session moves it to another node, where the customer's link resumes, the agent sees
the screen again, and the audit trail and the recording (now two segments) verify."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from supportdesk.link.frames import encode_frame
from tests.cluster.harness import Cluster, cluster
from tests.live_server import LiveServer
from tests.redis_server import ensure_shared_redis
from tests.server.relay_parties import (
    PASSWORD,
    AgentBrowser,
    FakeApplet,
    control_socket,
    next_of,
)

LEASE_SECONDS = "2"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    environ = {"SUPPORTDESK_CLUSTER_LEASE_SECONDS": LEASE_SECONDS}
    with cluster(tmp_path_factory.mktemp("sessions"), nodes=3, environ=environ) as started:
        done = subprocess.run(
            [sys.executable, "-m", "supportdesk", "agents", "add", "anna",
             "--name", "Anna Agent", "--role", "agent", "--password-stdin"],
            input=PASSWORD + "\n", cwd=started.workdir / "node-a",
            env=started.node_environ("node-a"), capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        yield started


def node(running: Cluster, name: str) -> LiveServer:
    return LiveServer(running.node_url(name), running.workdir / name, None)  # type: ignore[arg-type]


def holder(running: Cluster, number: str) -> str:
    """The node whose lease the session is under, as Redis has it."""
    value = subprocess.run(
        ["redis-cli", "-u", ensure_shared_redis(), "GET",
         f"{running.environ['SUPPORTDESK_BUS_NAMESPACE']}:lease:session:{number}"],
        capture_output=True, text=True, timeout=10, check=True,
    ).stdout.split()  # fmt: skip
    assert len(value) == 3, value
    return value[1]


def ws(url: str) -> str:
    return url.replace("http", "ws", 1)


@dataclass
class Live:
    """A consented session: the agent (on ``agent_node``), the applet through HAProxy."""

    agent: AgentBrowser
    number: str
    secret: str
    applet: FakeApplet
    control: ClientConnection


async def join_through(running: Cluster, key: str) -> str:
    async with httpx.AsyncClient(base_url=running.url) as customer:
        answer = await customer.post("/api/v1/join", json={"name": "Erika", "support_key": key})
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


@pytest.fixture
async def live(running: Cluster) -> AsyncIterator[Live]:
    agent = await AgentBrowser.log_in(node(running, "node-a"), "anna")
    key, number = await agent.new_session()
    token = await join_through(running, key)
    applet = FakeApplet(
        await connect(
            f"{ws(running.url)}/ws/applet?session={number}",
            additional_headers={"Authorization": f"Bearer {token}"},
        )
    )
    await applet.next_control("consent_request")
    await applet.send({"type": "consent", "decision": "yes", "capabilities": ["view"]})
    secret = (await applet.next_control("resume"))["secret"]
    control = await control_socket(await agent.control_url(number), agent.server.url)
    await next_of(control, "state", state="active")
    yield Live(agent, number, secret, applet, control)
    await agent.close()
    for socket in (applet.socket, control):
        await socket.close()


async def screen_reaches_the_agent(live: Live, server: LiveServer, payload: bytes) -> None:
    """A viewer opened by the agent gets what the applet sends on its channel."""
    await live.control.send('{"type": "viewer_ticket"}')
    ticket = (await next_of(live.control, "viewer_ticket"))["ticket"]
    viewer = await connect(
        f"{ws(server.url)}/ws/viewer/{live.number}?ticket={ticket}",
        additional_headers={"Origin": server.url},
    )
    channel = (await live.applet.next_control("open"))["channel"]
    await live.applet.socket.send(encode_frame(channel, payload))
    received = b""
    while payload not in received:
        received += await asyncio.wait_for(viewer.recv(), 10)  # type: ignore[operator]
    await viewer.close()


async def test_the_agent_on_one_node_and_the_customer_through_haproxy_meet(
    running: Cluster, live: Live
) -> None:
    await screen_reaches_the_agent(live, node(running, "node-a"), b"RFB-update-1")
    # Whoever serves it, every node's console reads the same session.
    for name in running.names:
        page = await live.agent.http.get(f"{running.node_url(name)}/console/sessions/{live.number}")
        assert page.status_code == 200 and "Erika" in page.text


async def test_a_key_issued_on_one_node_is_spent_once_through_haproxy(running: Cluster) -> None:
    agent = await AgentBrowser.log_in(node(running, "node-b"), "anna")
    key, _number = await agent.new_session()
    await agent.close()
    await join_through(running, key)
    async with httpx.AsyncClient(base_url=running.node_url("node-c")) as customer:
        again = await customer.post("/api/v1/join", json={"name": "Erika", "support_key": key})
    assert again.status_code != 200


async def resume_through(running: Cluster, live: Live, deadline: float) -> FakeApplet:
    """What the applet does after its link broke: try again until a node takes it."""
    while True:
        try:
            socket = await connect(
                f"{ws(running.url)}/ws/applet?session={live.number}",
                additional_headers={"Authorization": f"Resume {live.number} {live.secret}"},
                open_timeout=3,
            )
            return FakeApplet(socket)
        except (InvalidStatus, OSError, TimeoutError) as refused:
            status = getattr(getattr(refused, "response", None), "status_code", None)
            assert status in (None, 502, 503), f"refused for good: {refused!r}"
            assert time.monotonic() < deadline, "no node took the session up"
            await asyncio.sleep(0.5)


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
