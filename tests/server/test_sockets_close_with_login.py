"""An agent's open sockets close at once when her login ends, with default settings:
signing out closes the console socket and the viewer before the logout is answered,
so a chat or an "end" sent afterwards never reaches the customer; disabling the
account, resetting its password or changing its role from the command line (another
process, beside a server that shares Redis with it) closes them within a second or
so, not at the next periodic check; and the single node without Redis still finds a
change made from the command line by its own check of the store."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tests.live_server import LiveServer, live_server
from tests.redis_server import ensure_shared_redis, namespace
from tests.server.relay_parties import (
    TOKEN,
    AgentBrowser,
    FakeApplet,
    add_agent,
)
from tests.server.test_agent_sockets_end_with_login import watched_browser_session

# Far below the 5 s the old periodic check took, far above the promised 1 s.
PROMPTLY = 3.0
AGENTS = ("anna", "bert", "carla", "dora", "emil")
BUS: dict[str, str] = {}  # the server's bus, which the command line is told too


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The real server with default settings on a Redis bus it shares with the CLI."""
    folder = tmp_path_factory.mktemp("sockets-close")
    BUS.update(
        SUPPORTDESK_BUS_REDIS_URL=ensure_shared_redis(), SUPPORTDESK_BUS_NAMESPACE=namespace()
    )
    with live_server(folder, **BUS) as running:
        for name in AGENTS:
            add_agent(running, name)
        yield running


async def closed_with(socket: ClientConnection, within: float = PROMPTLY) -> int:
    async with asyncio.timeout(within):
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await socket.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def send_quietly(socket: ClientConnection, message: dict[str, str]) -> None:
    """Send if the socket still takes it (it may already be closed: also fine)."""
    with contextlib.suppress(ConnectionClosed):
        await socket.send(json.dumps(message))


async def customer_heard(link: FakeApplet, seconds: float) -> list[dict[str, object]]:
    await link.drain(seconds)
    return link.control


def cli(server: LiveServer, *args: str, bus: dict[str, str] | None = None) -> None:
    """``supportdesk agents ...`` beside the server, on its bus if it has one."""
    done = subprocess.run(
        [sys.executable, "-m", "supportdesk", "agents", *args],
        cwd=server.workdir, capture_output=True, text=True, timeout=60,
        env={**os.environ, **(bus or {})},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


async def test_signing_out_closes_both_sockets_before_the_answer(server: LiveServer) -> None:
    agent, _number, control, video, link = await watched(server, "anna")
    dashboard = await agent.http.get("/console/")
    token = TOKEN.search(dashboard.text)
    assert token
    out = await agent.http.post("/console/logout", data={"csrf_token": token.group(1)})
    assert out.status_code == 303
    # Sent after the logout was answered: must not reach the customer or end anything.
    await send_quietly(control, {"type": "chat", "text": "nach dem Abmelden"})
    await send_quietly(control, {"type": "end"})
    assert await closed_with(control) == 4401
    assert await closed_with(video) == 4401
    heard = await customer_heard(link, 1.0)
    assert not [m for m in heard if m.get("type") == "chat"], heard
    assert not [m for m in heard if m.get("type") == "end"], heard


@pytest.mark.parametrize(
    ("username", "command"),
    [
        ("bert", ("disable", "bert")),
        ("carla", ("reset-password", "carla")),
        ("dora", ("set-role", "dora", "supervisor")),
    ],
)
async def test_a_change_from_the_command_line_closes_the_sockets_promptly(
    server: LiveServer, username: str, command: tuple[str, ...]
) -> None:
    _agent, _number, control, video, link = await watched(server, username)
    await asyncio.to_thread(cli, server, *command, bus=BUS)
    # The command announced the change before it returned: what the agent sends now
    # must not reach the customer.
    await send_quietly(control, {"type": "chat", "text": "danach"})
    assert await closed_with(control) == 4401
    assert await closed_with(video) == 4401
    heard = await customer_heard(link, 1.0)
    assert not [m for m in heard if m.get("type") == "chat"], heard


async def watched(
    server: LiveServer, username: str
) -> tuple[AgentBrowser, str, ClientConnection, ClientConnection, FakeApplet]:
    """An agent watching a consented browser session, and the customer's link."""
    agent, number, control, video, link = await watched_browser_session(server, username)
    # The agent's chat reaches the customer while she is signed in.
    await control.send(json.dumps({"type": "chat", "text": "guten Tag"}))
    assert (await link.next_control("chat"))["text"] == "guten Tag"
    link.control.clear()
    return agent, number, control, video, link


@pytest.fixture(scope="module")
def single_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One node, no Redis: the command line cannot tell it, its store check must."""
    folder = tmp_path_factory.mktemp("sockets-close-single")
    with live_server(folder) as running:
        add_agent(running, "emil")
        yield running


async def test_without_a_bus_the_nodes_own_check_finds_a_disabled_account(
    single_node: LiveServer,
) -> None:
    _agent, _number, control, video, _link = await watched(single_node, "emil")
    await asyncio.to_thread(cli, single_node, "disable", "emil")
    assert await closed_with(control) == 4401
    assert await closed_with(video) == 4401
