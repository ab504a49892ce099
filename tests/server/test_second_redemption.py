"""The key the support program may redeem again, through the real app and database:
after "Weiter >>" on the portal the same customer types the same name and key into
the program (``POST /api/v1/join``) and gets a new join token that replaces the first;
anyone else, a session whose link opened, an expired key or token get the one refusal,
counted as every refusal is. Parallel second redemptions on two nodes of one
PostgreSQL leave exactly one working token."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from supportdesk.config import Settings
from supportdesk.domain.audit_chain import pseudonymise
from supportdesk.domain.session_events import SessionState
from supportdesk.server.app import create_app
from supportdesk.server.remote_support import GUESS_BUCKET, normalise_address
from supportdesk.server.state import Desk, desk_of_app
from supportdesk.store.database import create_engine
from supportdesk.store.migrate import upgrade
from tests.conftest import FixedClock
from tests.server.console_client import add_agent, log_in
from tests.server.test_support_sessions import CUSTOMER, customer, issue_key, join

ADDRESS = "198.51.100.7"
TOKEN = re.compile(r"--token=(\S+)<")


@pytest.fixture
async def agent_client(app: FastAPI, client: httpx.AsyncClient) -> httpx.AsyncClient:
    desk = desk_of_app(app)
    desk.remote.answer_time = timedelta(0)
    await add_agent(desk, "anna", name="Anna Berger")
    await log_in(client, desk, "anna")
    return client


async def on_the_portal(app: FastAPI, key: str, address: str = ADDRESS) -> str:
    """Name and key on the portal, "Weiter >>": the choice page's join token."""
    async with await customer(app, address) as browser:
        ready = await join(browser, key)
    assert ready.status_code == 200, ready.text
    token = TOKEN.search(ready.text)
    assert token
    return token.group(1)


async def in_the_program(
    app: FastAPI, key: str, name: str = CUSTOMER, address: str = ADDRESS
) -> httpx.Response:
    """What the program started by hand does (applet/join.py ``redeem_by_hand``)."""
    async with await customer(app, address) as program:
        return await program.post("/api/v1/join", json={"name": name, "support_key": key})


async def refusals(desk: Desk) -> list[dict[str, Any]]:
    return [
        dict(entry.data)
        async for entry in desk.audit.entries()
        if entry.event_type == "support_key.redemption_failed"
    ]


async def failures_of(desk: Desk, address: str = ADDRESS) -> int:
    client = pseudonymise(
        normalise_address(address), desk.keys.pseudonym_key, purpose="client-address"
    )
    return (await desk.counters.get(f"redeem:{client}")).failures


async def test_the_same_customer_gets_a_new_token_and_the_first_stops_working(
    app: FastAPI, agent_client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    issued = await issue_key(agent_client)
    first = await on_the_portal(app, issued["key"])
    # Typed as the program's window takes it: no spaces, the name with extra blanks.
    answer = await in_the_program(app, issued["key"].replace(" ", ""), f"  {CUSTOMER} ")
    assert answer.status_code == 200, answer.text
    ticket = answer.json()
    assert ticket["consultation_number"] == issued["number"]
    assert ticket["verification_code"] == issued["code"]
    assert ticket["token"] != first
    assert await desk.remote.peek_join_token(first, desk.clock()) is None
    assert await desk.remote.take_join_token(first, desk.clock()) is None
    session = await desk.remote.take_join_token(ticket["token"], desk.clock())
    assert session is not None and str(session.consultation_number) == issued["number"]
    assert session.state is SessionState.REDEEMED
    assert await desk.remote.customer_name(issued["number"]) == CUSTOMER
    redeemed = [
        e.data
        for e in await desk.audit.for_subject(issued["number"])
        if e.event_type == "support_key.redeemed"
    ]
    assert len(redeemed) == 2
    assert "again" not in redeemed[0] and redeemed[1]["again"] is True
    assert redeemed[0]["customer"] == redeemed[1]["customer"]  # pseudonymous, the same
    assert CUSTOMER not in repr(redeemed)
    assert await refusals(desk) == []
    assert await failures_of(desk) == 0


async def test_the_choice_pages_lead_to_the_download(
    app: FastAPI, agent_client: httpx.AsyncClient
) -> None:
    issued = await issue_key(agent_client)
    async with await customer(app) as browser:
        ready = await join(browser, issued["key"])
        program = ready.text[ready.text.index('data-way="program"') :]
        assert '<a class="button primary" href="/fernwartung/programm"' in program
        assert "denselben Namen und denselben Support-Schlüssel" in program
        # The command stays, folded, for Linux users with the Python package.
        python = program[program.index('<details class="python-package">') :]
        assert "Für Linux-Nutzer mit dem Python-Paket" in python
        assert re.search(r"data-join-command>supportdesk join --server \S+ --token=\S+<", python)
        # The browser's sharing page: its fallback for browsers that cannot share.
        token = TOKEN.search(ready.text)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', ready.text)
        assert token and csrf
        browser.cookies.set("sd_csrf", csrf.group(1))
        share = await browser.post(
            "/fernwartung/browser",
            data={"join_token": token.group(1), "csrf_token": csrf.group(1)},
        )
    assert share.status_code == 200
    assert share.text.count('href="/fernwartung/programm" data-program-download') == 2


async def test_another_name_is_refused_and_the_first_token_still_works(
    app: FastAPI, agent_client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    issued = await issue_key(agent_client)
    first = await on_the_portal(app, issued["key"])
    answer = await in_the_program(app, issued["key"], "Mallory Mustermann")
    assert answer.status_code == 404
    assert answer.json() == {"detail": "no remote-support session for this name and key"}
    assert await desk.remote.peek_join_token(first, desk.clock()) is not None
    assert await refusals(desk) == [{"reason": "already_redeemed", "again": "other_customer"}]
    assert await failures_of(desk) == 1  # counted against the client's back-off


async def test_after_the_link_opened_even_the_same_customer_is_refused(
    app: FastAPI, agent_client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    issued = await issue_key(agent_client)
    first = await on_the_portal(app, issued["key"])
    assert await desk.remote.take_join_token(first, desk.clock()) is not None  # the link
    answer = await in_the_program(app, issued["key"])
    assert answer.status_code == 404
    assert await refusals(desk) == [{"reason": "already_redeemed", "again": "link_opened"}]


async def test_an_expired_key_or_token_is_refused(
    app: FastAPI, agent_client: httpx.AsyncClient, clock: FixedClock
) -> None:
    desk = desk_of_app(app)
    # The token runs out first (5 minutes after the portal, by default) ...
    issued = await issue_key(agent_client)
    await on_the_portal(app, issued["key"])
    clock.now += timedelta(minutes=5)
    assert (await in_the_program(app, issued["key"])).status_code == 404
    # ... and with tokens that live longer, the key's own 10 minutes still hold.
    desk.remote.join_token_lifetime = timedelta(minutes=30)
    issued = await issue_key(agent_client)
    first = await on_the_portal(app, issued["key"], "198.51.100.8")
    clock.now += timedelta(minutes=10)
    assert (await in_the_program(app, issued["key"], address="198.51.100.8")).status_code == 404
    assert await desk.remote.peek_join_token(first, desk.clock()) is not None
    assert [r["again"] for r in await refusals(desk)] == ["token_expired", "key_expired"]


async def test_refused_second_redemptions_count_like_any_other(
    app: FastAPI, agent_client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    issued = await issue_key(agent_client)
    await on_the_portal(app, issued["key"])
    for name in ("Mallory Mustermann", "Max Mustermann", "Eve Beispiel"):
        assert (await in_the_program(app, issued["key"], name)).status_code == 404
    # Three failures from this address: the client's back-off holds even the right
    # customer now (the clock stands still), without looking at any key.
    assert (await in_the_program(app, issued["key"])).status_code == 404
    assert (await refusals(desk))[-1] == {"reason": "throttled"}
    # Another address, but the global guessing budget is spent: refused before any key.
    while await desk.remote.guesses.take(GUESS_BUCKET, 1, 60):
        pass
    answer = await in_the_program(app, issued["key"], address="198.51.100.9")
    assert answer.status_code == 404
    assert (await refusals(desk))[-1] == {"reason": "rate_limited"}


async def test_parallel_second_redemptions_leave_one_working_token(
    app: FastAPI, agent_client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    issued = await issue_key(agent_client)
    first = await on_the_portal(app, issued["key"])
    answers = await asyncio.gather(*(in_the_program(app, issued["key"]) for _ in range(6)))
    tokens = [first] + [a.json()["token"] for a in answers if a.status_code == 200]
    assert len(tokens) > 1
    working = [t for t in tokens if await desk.remote.peek_join_token(t, desk.clock())]
    assert len(working) == 1


# -- two nodes on one PostgreSQL ------------------------------------------------------


@pytest.fixture
async def two_nodes(
    make_settings: Callable[..., Settings], postgres_database: str, clock: FixedClock
) -> AsyncIterator[list[FastAPI]]:
    engine = create_engine(make_settings(postgres_database).database.url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    async with contextlib.AsyncExitStack() as stack:
        apps = []
        for name in ("node-a", "node-b"):
            app = create_app(
                make_settings(postgres_database, SUPPORTDESK_CLUSTER_NODE_ID=name), clock=clock
            )
            await stack.enter_async_context(app.router.lifespan_context(app))
            desk_of_app(app).remote.answer_time = timedelta(0)
            apps.append(app)
        yield apps


@pytest.mark.postgres
async def test_parallel_second_redemptions_on_two_nodes_leave_one_working_token(
    two_nodes: list[FastAPI],
) -> None:
    a, b = two_nodes
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=a), base_url="http://testserver"
    ) as agent:
        await add_agent(desk_of_app(a), "anna", name="Anna Berger")
        await log_in(agent, desk_of_app(a), "anna")
        issued = await issue_key(agent)
    first = await on_the_portal(a, issued["key"])
    # The customer's program, started twice (a double click), and a retry, on both
    # nodes at once, each from its own address so no back-off interferes.
    answers = await asyncio.gather(
        *(
            in_the_program(node, issued["key"], address=f"198.51.100.{20 + n}")
            for n, node in enumerate([a, b, a, b, a, b, a, b])
        )
    )
    assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers]
    tokens = [first] + [answer.json()["token"] for answer in answers]
    assert len(set(tokens)) == len(tokens)
    for desk in (desk_of_app(a), desk_of_app(b)):
        working = [t for t in tokens if await desk.remote.peek_join_token(t, desk.clock())]
        assert len(working) == 1
    # The one that works opens the session once, on either node; the key is spent then.
    (last,) = working
    desk = desk_of_app(b)
    assert await desk.remote.take_join_token(last, desk.clock()) is not None
    again = await in_the_program(a, issued["key"], address="198.51.100.40")
    assert again.status_code == 404
    redeemed = [
        e
        for e in await desk.audit.for_subject(issued["number"])
        if e.event_type == "support_key.redeemed"
    ]
    assert len(redeemed) == 1 + len(answers)
    assert (await desk.audit.verify()).ok
