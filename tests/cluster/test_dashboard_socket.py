"""The dashboard's socket on a real two-node cluster (PostgreSQL, Redis): a key issued,
redeemed and ended through the other node reaches the dashboard open on this one
within 2 s each; nobody opens the socket without a ticket of a live login, nor from a
foreign page; locking the account from the command line closes it (4401)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.cluster.harness import Cluster, cluster
from tests.cluster.parties import add_agent, node, ws
from tests.server.relay_parties import TOKEN, AgentBrowser

PROMPTLY = 2.0  # the promise for a newly redeemed session
SOCKET_URL = re.compile(r'data-socket-url="([^"]+)"')


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with cluster(tmp_path_factory.mktemp("dashboard-cluster"), nodes=2) as started:
        for login in ("anna", "bert"):
            add_agent(started, login)
        yield started


async def open_dashboard(agent: AgentBrowser) -> tuple[ClientConnection, str]:
    """The dashboard page and its socket, as the page's script opens it; the first
    tables it sends."""
    page = await agent.http.get("/console/")
    found = SOCKET_URL.search(page.text)
    assert found, page.text
    socket = await connect(
        ws(agent.server.url) + found.group(1).replace("&amp;", "&"),
        additional_headers={"Origin": agent.server.url},
    )
    return socket, await next_tables(socket)


async def next_tables(socket: ClientConnection, within: float = PROMPTLY) -> str:
    async with asyncio.timeout(within):
        while True:
            message = json.loads(await socket.recv())
            if message["type"] == "tables":
                assert message["now"]
                return str(message["html"])


async def tables_until(socket: ClientConnection, pattern: str, within: float = PROMPTLY) -> str:
    """The first tables (sent from now on) that match ``pattern``, within ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        html = await next_tables(socket, max(0.01, deadline - time.monotonic()))
        if re.search(pattern, html, re.S):
            return html


def row(number: str, state: str) -> str:
    return rf'<tr data-session="{re.escape(number)}" data-state="{state}"'


async def test_a_key_issued_redeemed_and_ended_on_another_node_reaches_the_dashboard(
    running: Cluster,
) -> None:
    agent = await AgentBrowser.log_in(node(running, "node-a"), "anna")
    socket, first = await open_dashboard(agent)
    assert 'data-table="mine"' in first
    # The same login on node-b: the key is issued there, the customer redeems there.
    elsewhere = AgentBrowser(
        node(running, "node-b"),
        httpx.AsyncClient(base_url=running.node_url("node-b"), cookies=agent.http.cookies),
    )
    key, number = await elsewhere.new_session()
    html = await tables_until(socket, row(number, "issued"))
    waiting = html[html.index(f'data-session="{number}"') :].split("</tr>")[0]
    assert 'data-clock="down"' in waiting and "Schlüssel gültig noch" in waiting

    started = time.monotonic()
    async with httpx.AsyncClient(base_url=running.node_url("node-b")) as customer:
        joined = await customer.post(
            "/api/v1/join", json={"name": "Erika Mustermann", "support_key": key}
        )
    assert joined.status_code == 200, joined.text
    html = await tables_until(socket, row(number, "redeemed"))
    assert time.monotonic() - started < PROMPTLY + 1.0  # the join answers slowly by design
    redeemed = html[html.index(f'data-session="{number}"') :].split("</tr>")[0]
    assert "Erika Mustermann" in redeemed and "Kunde wartet" in redeemed

    dashboard = await elsewhere.http.get("/console/")
    token = TOKEN.search(dashboard.text)
    assert token
    ended = await elsewhere.http.post(
        f"/console/sessions/{number}/end", data={"csrf_token": token.group(1), "confirmed": "yes"}
    )
    assert ended.status_code == 303
    html = await tables_until(socket, row(number, "ended"))
    assert "Erika Mustermann" not in html  # the name goes with the session's end
    await socket.close()
    await elsewhere.http.aclose()
    await agent.close()


async def test_no_socket_without_a_live_login_or_from_a_foreign_page(running: Cluster) -> None:
    url = ws(running.node_url("node-a")) + "/ws/dashboard"
    origin = {"Origin": running.node_url("node-a")}
    for attempt in (url, url + "?ticket=made-up-ticket-0123456789"):
        with pytest.raises(InvalidStatus) as refused:
            await connect(attempt, additional_headers=origin)
        assert refused.value.response.status_code == 403
    async with httpx.AsyncClient(base_url=running.node_url("node-a")) as stranger:
        assert (await stranger.get("/console/")).status_code == 303
        answer = await stranger.post("/console/dashboard/ticket")
        assert answer.status_code == 303 and answer.headers["location"] == "/console/login"

    agent = await AgentBrowser.log_in(node(running, "node-a"), "anna")
    page = await agent.http.get("/console/")
    found = SOCKET_URL.search(page.text)
    assert found
    ticket_url = ws(agent.server.url) + found.group(1).replace("&amp;", "&")
    with pytest.raises(InvalidStatus):  # a foreign page's script, with a real ticket
        await connect(ticket_url, additional_headers={"Origin": "https://evil.example"})
    # The page's own script opens it; the same ticket a second time does not.
    opened = await connect(ticket_url, additional_headers={"Origin": agent.server.url})
    assert 'data-table="mine"' in await next_tables(opened)
    with pytest.raises(InvalidStatus):
        await connect(ticket_url, additional_headers={"Origin": agent.server.url})
    await opened.close()
    # A fresh ticket for a reconnect needs the page's CSRF token.
    assert (await agent.http.post("/console/dashboard/ticket")).status_code == 400
    token = TOKEN.search(page.text)
    assert token
    fresh = await agent.http.post(
        "/console/dashboard/ticket", headers={"X-CSRF-Token": token.group(1)}
    )
    assert fresh.status_code == 200 and fresh.json()["url"].startswith("/ws/dashboard?ticket=")
    await agent.close()


async def test_locking_the_account_closes_the_open_dashboard(running: Cluster) -> None:
    agent = await AgentBrowser.log_in(node(running, "node-b"), "bert", fresh=True)
    socket, _ = await open_dashboard(agent)
    # Locked from the command line of the other node: the bus carries it to node-b.
    await asyncio.to_thread(running.supportdesk, "agents", "disable", "bert", node="node-a")
    async with asyncio.timeout(3.0):
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    await agent.close()
