"""Three nodes on one PostgreSQL and one Redis share their sessions: a key issued on
one is redeemed on another; a change on one reaches the session object another node
has in hand (through the bus); parallel redemptions of one key on every node let
exactly one customer in; the customer's name is sealed in the database, never clear."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from supportdesk.config import Settings
from supportdesk.domain.agent_accounts import Role
from supportdesk.domain.consent_texts import consent_text
from supportdesk.domain.session_events import ConsentRequested, EndReason, SessionState
from supportdesk.server.app import create_app
from supportdesk.server.state import Desk, desk_of_app
from supportdesk.store.agents import Agent, AgentAccounts
from supportdesk.store.database import create_engine
from supportdesk.store.migrate import upgrade
from supportdesk.store.models import SupportSessionRow
from supportdesk.store.support_sessions import SupportSessionRecords
from tests.bus.conftest import forget_namespace
from tests.conftest import FixedClock
from tests.redis_server import ensure_shared_redis, namespace

NAME = "Zacharias Quendelbrück"


@pytest.fixture
async def nodes(
    make_settings: Callable[..., Settings], postgres_database: str, clock: FixedClock
) -> AsyncIterator[list[Desk]]:
    redis_url, space = ensure_shared_redis(), namespace()
    engine = create_engine(make_settings(postgres_database).database.url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    async with contextlib.AsyncExitStack() as stack:
        desks = []
        for name in ("node-a", "node-b", "node-c"):
            settings = make_settings(
                postgres_database,
                SUPPORTDESK_BUS_REDIS_URL=redis_url,
                SUPPORTDESK_BUS_NAMESPACE=space,
                SUPPORTDESK_CLUSTER_NODE_ID=name,
            )
            app = create_app(settings, clock=clock)
            await stack.enter_async_context(app.router.lifespan_context(app))
            desk = desk_of_app(app)
            desk.remote.answer_time = timedelta(0)
            desks.append(desk)
        yield desks
    await forget_namespace(redis_url, space)


async def _agent(desk: Desk) -> Agent:
    async with desk.sessions.begin() as db:
        return await AgentAccounts(db).add("anna", "Anna Agent", Role.AGENT, "x", desk.clock())


async def _eventually(check: Callable[[], bool]) -> None:
    for _ in range(100):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("never happened")


async def test_a_key_issued_on_one_node_is_redeemed_on_another(nodes: list[Desk]) -> None:
    a, b, c = nodes
    issued = await a.remote.issue(await _agent(a), a.clock())
    ticket = await b.remote.redeem(NAME, issued.key.grouped(), "198.51.100.7", b.clock())
    assert ticket is not None and ticket.consultation_number == issued.consultation_number
    number = issued.consultation_number
    # Every node reads the session as it is now, name included, ...
    for desk in nodes:
        session = await desk.remote.session(number)
        assert session is not None and session.state is SessionState.REDEEMED
        assert await desk.remote.customer_name(number) == NAME
    # ... and the join token opens it on a third.
    assert (await c.remote.take_join_token(ticket.token, c.clock())) is not None
    # The same key again, on the node that issued it: spent.
    assert await a.remote.redeem(NAME, issued.key.grouped(), "198.51.100.7", a.clock()) is None


async def test_a_change_on_one_node_reaches_the_object_another_holds(nodes: list[Desk]) -> None:
    a, b, _ = nodes
    issued = await a.remote.issue(await _agent(a), a.clock())
    number = issued.consultation_number
    held = await b.remote.session(number)
    assert held is not None
    seen = []
    b.remote.listeners.append(lambda s: asyncio.sleep(0, seen.append(s.state)))
    assert await a.remote.end(number, EndReason.AGENT, a.clock())
    await _eventually(lambda: held.state is SessionState.ENDED)
    assert SessionState.ENDED in seen
    assert not await b.remote.end(number, EndReason.AGENT, b.clock()), "ended twice"


async def test_a_read_meanwhile_does_not_undo_a_change_not_yet_committed(
    nodes: list[Desk],
) -> None:
    # A change stores the next version inside its transaction; a read without the lock
    # (a page, a socket looking the session up) still sees the committed row before it
    # and must not roll the object the relay holds back to it (the relay would then
    # publish the old state, and consoles would wait for "active" that never came).
    a = nodes[0]
    issued = await a.remote.issue(await _agent(a), a.clock())
    number = issued.consultation_number
    assert await a.remote.redeem(NAME, issued.key.grouped(), "198.51.100.7", a.clock())
    held = await a.remote.session(number)
    assert held is not None and held.state is SessionState.REDEEMED
    async with a.remote.audit.work() as work:
        records = SupportSessionRecords(work.session)
        session = await a.remote.sessions.locked(records, number)
        assert session is held
        session.apply(ConsentRequested(a.clock(), consent_text().render("Anna Agent")))
        await a.remote.sessions.store(records, session)
        meanwhile = await a.remote.session(number)  # another connection: the old row
        assert meanwhile is held and held.state is SessionState.AWAITING_CONSENT
    assert (await a.remote.session(number)) is held
    assert held.state is SessionState.AWAITING_CONSENT


async def test_parallel_redemptions_on_every_node_let_one_customer_in(nodes: list[Desk]) -> None:
    a = nodes[0]
    issued = await a.remote.issue(await _agent(a), a.clock())
    # Each a different customer: the same one may redeem again before a link opens
    # (tests/server/test_second_redemption.py has that race).
    tickets = await asyncio.gather(
        *(
            desk.remote.redeem(
                f"Kunde {chr(65 + n)}", issued.key.grouped(), f"198.51.100.{n}", desk.clock()
            )
            for n, desk in enumerate(nodes * 4)
        )
    )
    assert len([t for t in tickets if t is not None]) == 1


async def test_the_name_is_sealed_in_the_row_and_gone_at_the_end(nodes: list[Desk]) -> None:
    a = nodes[0]
    issued = await a.remote.issue(await _agent(a), a.clock())
    await a.remote.redeem(NAME, issued.key.grouped(), "198.51.100.7", a.clock())
    number = issued.consultation_number

    async def row() -> SupportSessionRow:
        async with a.sessions() as db:
            found = await db.scalar(
                select(SupportSessionRow).where(SupportSessionRow.consultation_number == number)
            )
        assert found is not None
        return found

    stored = await row()
    assert stored.customer_name_sealed and "Zacharias" not in stored.customer_name_sealed
    assert "Zacharias" not in (stored.live_state or "")
    await a.remote.end(number, EndReason.AGENT, a.clock())
    assert (await row()).customer_name_sealed is None
