"""The register of agents' open sockets across nodes: a login ended on one node closes
its sockets on another at once (through the bus, in-process or Redis), and stops the
task serving each; the store check closes a socket whose login ended where no bus
reached. The sockets here are stand-ins that note their close; the real sockets are
in ``test_sockets_close_with_login.py``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from starlette.websockets import WebSocket

from supportdesk.bus import Events, InProcessEvents
from supportdesk.bus import connect as connect_bus
from supportdesk.config import Settings
from supportdesk.domain.agent_accounts import Role
from supportdesk.server.agents.socket_register import AgentSockets
from supportdesk.store.agents import AgentAccounts
from supportdesk.store.database import create_engine, session_factory
from tests.bus.conftest import forget_namespace
from tests.redis_server import ensure_shared_redis, namespace

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


class StandInSocket:
    def __init__(self) -> None:
        self.closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        if not self.closed.done():
            self.closed.set_result(code)


@pytest.fixture(params=["in-process", "redis"])
async def events(request: pytest.FixtureRequest) -> AsyncIterator[Events]:
    if request.param == "in-process":
        yield InProcessEvents()
        return
    url, space = ensure_shared_redis(), namespace()
    bus = connect_bus(url, namespace=space)
    yield bus.events
    await bus.close()
    await forget_namespace(url, space)


async def serve(register: AgentSockets, socket: StandInSocket, login: str, agent: int) -> str:
    """What an endpoint does: serve until the peer leaves (here: never)."""
    async with register.serving(cast(WebSocket, socket), login, agent):
        await asyncio.Event().wait()
    return "stopped"


async def test_a_login_ended_on_one_node_closes_its_sockets_on_another(
    settings: Settings, events: Events
) -> None:
    engine = create_engine(settings.database.url)
    sessions = session_factory(engine)
    nodes = [AgentSockets(sessions, events, lambda: NOW, timedelta(hours=8), 60) for _ in "ab"]
    followers = [asyncio.create_task(node.follow()) for node in nodes]
    try:
        await asyncio.sleep(0.3)  # both subscribed
        mine, hers, other = StandInSocket(), StandInSocket(), StandInSocket()
        serving: list[asyncio.Task[Any]] = [
            asyncio.create_task(serve(nodes[1], mine, "login-1", 7)),
            asyncio.create_task(serve(nodes[1], hers, "login-2", 7)),
            asyncio.create_task(serve(nodes[1], other, "login-3", 8)),
        ]
        await asyncio.sleep(0.05)
        assert nodes[1].open_count() == 3
        await nodes[0].ended(login="login-1")  # logout on node a
        async with asyncio.timeout(5):
            assert await mine.closed == 4401
            assert await serving[0] == "stopped"
        await nodes[0].ended(agent_id=7)  # disabled on node a: every login of agent 7
        async with asyncio.timeout(5):
            assert await hers.closed == 4401
            await asyncio.wait(serving[:2])
        assert all(task.done() and not task.cancelled() for task in serving[:2])
        assert not other.closed.done() and nodes[1].open_count() == 1
        serving[2].cancel()
    finally:
        for task in followers:
            task.cancel()
        await asyncio.gather(*followers, return_exceptions=True)
        await engine.dispose()


async def test_the_store_check_closes_sockets_of_logins_ended_elsewhere(
    settings: Settings,
) -> None:
    engine = create_engine(settings.database.url)
    sessions = session_factory(engine)
    async with sessions.begin() as db:
        accounts = AgentAccounts(db)
        anna = await accounts.add("anna", "Anna", Role.AGENT, "x", NOW)
        await accounts.start_login_session(anna.id, "login-anna", True, NOW)
        await accounts.start_login_session(anna.id, "login-old", True, NOW - timedelta(hours=9))
    register = AgentSockets(sessions, InProcessEvents(), lambda: NOW, timedelta(hours=8), 60)
    alive, expired, gone = StandInSocket(), StandInSocket(), StandInSocket()
    tasks = [
        asyncio.create_task(serve(register, alive, "login-anna", anna.id)),
        asyncio.create_task(serve(register, expired, "login-old", anna.id)),
        asyncio.create_task(serve(register, gone, "login-ended-elsewhere", anna.id)),
    ]
    await asyncio.sleep(0.05)
    await register.recheck()
    assert await expired.closed == 4401 and await gone.closed == 4401
    assert not alive.closed.done()
    async with sessions.begin() as db:
        await AgentAccounts(db).set_disabled(anna.id, True)
    await register.recheck()
    assert await alive.closed == 4401
    await asyncio.wait(tasks, timeout=5)
    assert all(task.done() for task in tasks)
    await engine.dispose()
