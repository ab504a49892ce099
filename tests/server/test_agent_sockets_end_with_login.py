"""An agent's open sockets end with the agent's login: signing out, or an administrator
disabling the account from the command line (another process), closes the control
socket and the screen socket of a live session, and the tickets they minted go dead."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.live_server import LiveServer, live_server
from tests.server.relay_parties import (
    TOKEN,
    AgentBrowser,
    FakeApplet,
    add_agent,
    control_socket,
    join_token,
    next_of,
)
from tests.server.test_relay_browser import browser_link

CHECK_SECONDS = "0.3"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("agent-sockets")
    with live_server(folder, SUPPORTDESK_SECURITY_SOCKET_CHECK_SECONDS=CHECK_SECONDS) as running:
        for name in ("anna", "bert", "carla"):
            add_agent(running, name)
        yield running


async def watched_browser_session(
    server: LiveServer, username: str
) -> tuple[AgentBrowser, str, ClientConnection, ClientConnection, FakeApplet]:
    """A browser session the agent watches: its number, control and video sockets, and
    the customer's link."""
    agent = await AgentBrowser.log_in(server, username, fresh=True)
    key, number = await agent.new_session()
    link = await browser_link(server, await join_token(server, key))
    request = await link.next_control("consent_request")
    await link.send(
        {"type": "consent", "decision": "yes", "consent_sha256": request["consent_sha256"]}
    )
    control = await control_socket(await agent.control_url(number), server.url)
    await next_of(control, "state", state="active")
    await control.send('{"type": "viewer_ticket"}')
    ticket = (await next_of(control, "viewer_ticket"))["ticket"]
    video = await connect(
        server.url.replace("http", "ws", 1) + f"/ws/video/{number}?ticket={ticket}",
        additional_headers={"Origin": server.url},
    )
    return agent, number, control, video, link


async def closed_with(socket: ClientConnection) -> int:
    async with asyncio.timeout(10):
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await socket.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_signing_out_closes_the_agents_sockets(server: LiveServer) -> None:
    agent, number, control, video, _link = await watched_browser_session(server, "anna")
    # A ticket minted before the logout is worth nothing after it.
    await control.send('{"type": "viewer_ticket"}')
    spare = (await next_of(control, "viewer_ticket"))["ticket"]
    dashboard = await agent.http.get("/console/")
    token = TOKEN.search(dashboard.text)
    assert token
    out = await agent.http.post("/console/logout", data={"csrf_token": token.group(1)})
    assert out.status_code == 303
    assert await closed_with(control) == 4401
    assert await closed_with(video) == 4401
    with pytest.raises(InvalidStatus):
        await connect(
            server.url.replace("http", "ws", 1) + f"/ws/video/{number}?ticket={spare}",
            additional_headers={"Origin": server.url},
        )


async def test_disabling_the_account_elsewhere_closes_its_sockets(server: LiveServer) -> None:
    _agent, _number, control, video, _link = await watched_browser_session(server, "bert")
    disabled = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "supportdesk", "agents", "disable", "bert"],
        cwd=server.workdir, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert disabled.returncode == 0, disabled.stderr
    assert await closed_with(control) == 4401
    assert await closed_with(video) == 4401


async def test_a_signed_in_agent_keeps_watching(server: LiveServer) -> None:
    _agent, _number, control, _video, _link = await watched_browser_session(server, "carla")
    await asyncio.sleep(float(CHECK_SECONDS) * 5)
    await control.send(json.dumps({"type": "chat", "text": "noch da"}))
    assert (await next_of(control, "chat"))["text"] == "noch da"


async def test_a_fresh_control_ticket_needs_the_logins_csrf_token(server: LiveServer) -> None:
    agent, number, control, _video, _link = await watched_browser_session(server, "carla")
    url = f"/console/sessions/{number}/control-ticket"
    assert (await agent.http.post(url)).status_code == 400
    assert (await agent.http.post(url, headers={"X-CSRF-Token": "forged"})).status_code == 400
    page = await agent.http.get(f"/console/sessions/{number}/live")
    csrf = re.search(r'data-csrf="([^"]+)"', page.text)
    assert csrf
    answer = await agent.http.post(url, headers={"X-CSRF-Token": csrf.group(1)})
    assert answer.status_code == 200
    assert answer.json()["url"].startswith(f"/ws/control/{number}?ticket=")
    await control.close()
