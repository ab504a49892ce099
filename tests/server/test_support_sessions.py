"""Support keys from the console to the portal: issue, redeem once, expire, brute force,
and the customer's name kept out of every store."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from supportdesk.bus import InProcessBuckets
from supportdesk.config import Settings
from supportdesk.domain.session_events import SessionState
from supportdesk.domain.support_key import (
    GLOBAL_GUESS_BURST,
    GLOBAL_GUESS_RATE_LIMIT,
    KEY_DIGITS,
    SupportKey,
)
from supportdesk.server.state import Desk, desk_of_app
from supportdesk.store.models import SupportSessionRow
from tests.conftest import FixedClock
from tests.server.console_client import add_agent, console_token, log_in, token_in

CUSTOMER = "Zacharias Quendelbrück"


async def issue_key(client: httpx.AsyncClient) -> dict[str, str]:
    page = await client.post(
        "/console/sessions",
        data={"csrf_token": await console_token(client)},
        follow_redirects=True,
    )
    assert page.status_code == 200 and "/key" in str(page.url)

    def field(name: str) -> str:
        match = re.search(rf"data-{name}>([^<]+)<", page.text)
        assert match, name
        return match.group(1)

    return {
        "key": field("support-key"),
        "number": field("consultation-number"),
        "code": field("verification-code"),
    }


async def join(client: httpx.AsyncClient, key: str, name: str = CUSTOMER) -> httpx.Response:
    form = await client.get("/fernwartung/start")
    return await client.post(
        "/fernwartung/start",
        data={"name": name, "support_key": key, "csrf_token": token_in(form)},
    )


@pytest.fixture
async def agent_client(app: FastAPI, client: httpx.AsyncClient) -> httpx.AsyncClient:
    desk = desk_of_app(app)
    desk.remote.answer_time = timedelta(0)
    await add_agent(desk, "anna", name="Anna Berger")
    await log_in(client, desk, "anna")
    return client


async def customer(app: FastAPI, address: str = "198.51.100.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_issue_redeem_once_and_the_agent_sees_the_name(
    app: FastAPI, agent_client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    issued = await issue_key(agent_client)
    assert re.fullmatch(r"\d{3}( \d{3})+", issued["key"])
    assert len(issued["key"].replace(" ", "")) == KEY_DIGITS
    async with await customer(app) as browser:
        ready = await join(browser, issued["key"])
        assert ready.status_code == 200
        assert issued["number"] in ready.text and issued["code"] in ready.text
        command = re.search(r"data-join-command>([^<]+)<", ready.text)
        assert command and "--token=" in command.group(1)
        assert issued["key"].replace(" ", "") not in ready.text  # a join token, not the key
        again = await join(browser, issued["key"], name="Mallory Mustermann")
        assert again.status_code == 404  # spent, for anyone but this customer
    detail = await agent_client.get(f"/console/sessions/{issued['number']}")
    assert CUSTOMER in detail.text
    assert "Schlüssel eingelöst" in detail.text
    async with desk.sessions() as db:
        row = await db.scalar(select(SupportSessionRow))
    assert row is not None and row.state == SessionState.REDEEMED.value
    assert issued["key"].replace(" ", "") not in repr(row.__dict__)  # only digests stored
    events = [e.event_type for e in await desk.audit.for_subject(issued["number"])]
    assert events[:2] == ["support_key.issued", "support_key.redeemed"]


async def test_join_token_opens_the_session_once(
    app: FastAPI, agent_client: httpx.AsyncClient, clock: FixedClock
) -> None:
    desk = desk_of_app(app)
    issued = await issue_key(agent_client)
    async with await customer(app) as browser:
        ready = await join(browser, issued["key"])
    token = re.search(r"--token=(\S+)<", ready.text)
    assert token
    session = await desk.remote.take_join_token(token.group(1), desk.clock())
    assert session is not None and str(session.consultation_number) == issued["number"]
    assert await desk.remote.take_join_token(token.group(1), desk.clock()) is None


async def test_expired_key_is_refused_and_marked(
    app: FastAPI, agent_client: httpx.AsyncClient, clock: FixedClock
) -> None:
    desk = desk_of_app(app)
    issued = await issue_key(agent_client)
    clock.now += timedelta(minutes=10, seconds=1)
    async with await customer(app) as browser:
        assert (await join(browser, issued["key"])).status_code == 404
    assert await desk.remote.expire_due(desk.clock()) == [issued["number"]]
    page = await agent_client.get(f"/console/sessions/{issued['number']}")
    assert "abgelaufen" in page.text


async def test_five_wrong_tries_void_a_key(
    app: FastAPI, agent_client: httpx.AsyncClient, clock: FixedClock
) -> None:
    issued = await issue_key(agent_client)
    digits = issued["key"].replace(" ", "")
    async with await customer(app) as browser:
        for attempt in range(5):
            # Same first digits (the bucket wrong tries count against), other ending.
            wrong = digits[:-4] + f"{(int(digits[-4:]) + attempt + 1) % 10000:04d}"
            clock.now += timedelta(minutes=1)  # let the client's back-off pass
            assert (await join(browser, wrong)).status_code == 404
        clock.now += timedelta(minutes=1)
        assert (await join(browser, digits)).status_code == 404


async def test_agent_ends_a_waiting_session(app: FastAPI, agent_client: httpx.AsyncClient) -> None:
    issued = await issue_key(agent_client)
    page = await agent_client.get(f"/console/sessions/{issued['number']}")
    ended = await agent_client.post(
        f"/console/sessions/{issued['number']}/end",
        data={"csrf_token": token_in(page), "confirmed": "yes"},
    )
    assert ended.status_code == 303
    page = await agent_client.get(f"/console/sessions/{issued['number']}")
    assert "(durch den Berater)" in page.text  # the end reason in words, not its code
    async with await customer(app) as browser:
        assert (await join(browser, issued["key"])).status_code == 404


async def test_refusals_take_the_same_time(app: FastAPI, agent_client: httpx.AsyncClient) -> None:
    desk = desk_of_app(app)
    desk.remote.answer_time = timedelta(milliseconds=200)
    issued = await issue_key(agent_client)
    timings = []
    async with await customer(app) as browser:
        await join(browser, issued["key"])  # now used
        for key in (issued["key"], "000 000 000 000", "123 456 789 012"):
            started = time.monotonic()
            assert (await join(browser, key, name="Mallory Mustermann")).status_code == 404
            timings.append(time.monotonic() - started)
    assert all(t >= 0.2 for t in timings), timings


async def test_brute_force_from_many_addresses_redeems_nothing(
    app: FastAPI, agent_client: httpx.AsyncClient, clock: FixedClock
) -> None:
    """Many wrong keys from many addresses: the global bucket, the per-client back-off
    and the per-key void all hold, and no key is redeemed."""
    desk = desk_of_app(app)
    live = [await issue_key(agent_client) for _ in range(3)]
    tickets = 0
    attempts = 0
    started = time.monotonic()
    for round_ in range(200):
        address = f"203.0.113.{round_ % 250}"
        guess = SupportKey.generate()
        ticket = await desk.remote.redeem("Mallory", str(guess), address, desk.clock())
        attempts += 1
        tickets += ticket is not None
    assert tickets == 0
    # The global bucket lets its burst through, plus what refilled (1/s) while the loop
    # ran; the rest were refused before any key was looked at.
    refilled = int(GLOBAL_GUESS_RATE_LIMIT * (time.monotonic() - started)) + 1
    failures = [e async for e in desk.audit.entries() if e.event_type.endswith("failed")]
    reasons = [e.data["reason"] for e in failures]
    assert reasons.count("rate_limited") >= attempts - GLOBAL_GUESS_BURST - refilled
    # One address hammering is slowed by its own back-off, with the global budget full
    # again (else whether a token has refilled by now decides what the attempts meet):
    # two free failures, a third, then throttled (written once per window).
    desk.remote.guesses = InProcessBuckets()
    for _ in range(5):
        await desk.remote.redeem("Mallory", "111 111 111 111", "192.0.2.99", desk.clock())
    later = [e.data.get("reason") async for e in desk.audit.entries()][-4:]
    assert later == ["unknown", "unknown", "unknown", "throttled"]
    # The real keys still work for their customers afterwards (after the bucket refills).
    clock.now += timedelta(minutes=2)
    desk.remote.guesses = InProcessBuckets()  # a fresh, full budget
    async with await customer(app, "198.51.100.20") as browser:
        assert (await join(browser, live[0]["key"])).status_code == 200


async def test_customer_name_is_nowhere_in_the_database_or_logs(
    app: FastAPI,
    agent_client: httpx.AsyncClient,
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    desk: Desk = desk_of_app(app)
    issued = await issue_key(agent_client)
    async with await customer(app) as browser:
        await join(browser, issued["key"])
    page = await agent_client.get(f"/console/sessions/{issued['number']}")
    assert CUSTOMER in page.text  # the agent sees it while the session lives
    await agent_client.post(
        f"/console/sessions/{issued['number']}/end",
        data={"csrf_token": token_in(page), "confirmed": "yes"},
    )
    assert await desk.remote.customer_name(issued["number"]) is None
    if settings.database.url.startswith("sqlite"):
        await desk.engine.dispose()  # flush the WAL into the file
        database = Path(settings.database.url.split(":///", 1)[1])
        stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    else:
        stored = await _every_row_as_text(desk)
    assert b"Quendelbr" not in stored
    assert "Quendelbr".encode("utf-16-le") not in stored
    assert "Quendelbr" not in caplog.text


async def _every_row_as_text(desk: Desk) -> bytes:
    """All rows of all tables of the PostgreSQL database, as JSON text."""
    from sqlalchemy import text

    async with desk.engine.connect() as connection:
        tables = await connection.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        )
        dump = []
        for table in list(tables):
            rows = await connection.scalars(text(f'SELECT row_to_json(t)::text FROM "{table}" t'))
            dump.extend(rows)
    assert any("support_key.redeemed" in row for row in dump)  # the dump sees the data
    return "\n".join(dump).encode("utf-8")
