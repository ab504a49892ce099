"""The people of a cluster test: an agent on one node, a customer's program through
HAProxy, and what each of them does (join, consent, resume, look at the screen)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from supportdesk.link.frames import encode_frame
from tests.cluster.harness import Cluster
from tests.live_server import LiveServer
from tests.server.relay_parties import (
    PASSWORD,
    AgentBrowser,
    FakeApplet,
    control_socket,
    next_of,
)

__all__ = [
    "Live",
    "add_agent",
    "consented_session",
    "holder",
    "join_through",
    "node",
    "resume_through",
    "screen_reaches_the_agent",
    "ws",
]


def add_agent(running: Cluster, login: str = "anna") -> None:
    """An agent account, made with the command line of node-a."""
    done = subprocess.run(
        [sys.executable, "-m", "supportdesk", "agents", "add", login,
         "--name", "Anna Agent", "--role", "agent", "--password-stdin"],
        input=PASSWORD + "\n", cwd=running.workdir / running.names[0],
        env=running.node_environ(running.names[0]), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def node(running: Cluster, name: str) -> LiveServer:
    return LiveServer(running.node_url(name), running.workdir / name, None)  # type: ignore[arg-type]


def holder(running: Cluster, number: str) -> str:
    """The node whose lease the session is under, as the cluster's Redis has it."""
    value = subprocess.run(
        ["redis-cli", "-u", running.environ["SUPPORTDESK_BUS_REDIS_URL"], "GET",
         f"{running.environ['SUPPORTDESK_BUS_NAMESPACE']}:lease:session:{number}"],
        capture_output=True, text=True, timeout=10, check=True,
    ).stdout.split()  # fmt: skip
    assert len(value) == 3, value
    return value[1]


def ws(url: str) -> str:
    return url.replace("http", "ws", 1)


@dataclass
class Live:
    """A consented session: the agent on one node, the applet through HAProxy."""

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


@asynccontextmanager
async def consented_session(running: Cluster, agent_node: str = "node-a") -> AsyncIterator[Live]:
    """The agent on ``agent_node`` issues a key; the customer joins and consents to being
    seen through HAProxy; the agent's live page is open."""
    agent = await AgentBrowser.log_in(node(running, agent_node), "anna")
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
    live = Live(agent, number, secret, applet, control)
    try:
        yield live
    finally:
        await live.agent.close()
        for socket in (live.applet.socket, live.control):
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
