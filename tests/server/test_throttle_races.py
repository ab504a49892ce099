"""Throttles under real concurrency, through the real app on SQLite and PostgreSQL:
parallel attempts are counted before any is evaluated, so no more than the budget is
ever evaluated, the right secret among many wrong ones gains nothing, and nothing
answers 500."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from supportdesk import totp
from supportdesk.domain.support_key import ClientBackoff
from supportdesk.server.pages.login import LOGIN_BACKOFF
from supportdesk.server.state import Desk, desk_of_app
from tests.server.console_client import PASSWORD, add_agent, log_in, token_in
from tests.server.test_support_sessions import customer, issue_key

# What one address or account may try at once, as it may one after another: the free
# failures, and the one whose failure starts the wait.
LOGIN_BUDGET = LOGIN_BACKOFF.free_failures + 1
REDEEM_BUDGET = ClientBackoff().free_failures + 1


async def audit(desk: Desk, event_type: str) -> list[dict[str, Any]]:
    return [
        dict(entry.data) async for entry in desk.audit.entries() if entry.event_type == event_type
    ]


async def test_parallel_passwords_are_evaluated_at_most_up_to_the_budget(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna")
    form = await client.get("/console/login")

    async def attempt(password: str) -> httpx.Response:
        return await client.post(
            "/console/login",
            data={"username": "anna", "password": password, "csrf_token": token_in(form)},
        )

    passwords = [f"falsches passwort {n:02}" for n in range(30)] + [PASSWORD]
    answers = await asyncio.gather(*(attempt(p) for p in passwords))
    statuses = Counter(answer.status_code for answer in answers)
    assert set(statuses) <= {303, 401}, statuses
    failed = await audit(desk, "login.failed")
    evaluated = sum(1 for data in failed if data["stage"] == "password") + statuses[303]
    assert evaluated <= LOGIN_BUDGET, (evaluated, statuses)
    # The budget is spent: the right password alone is refused now, unevaluated.
    if statuses[303] == 0:
        assert (await attempt(PASSWORD)).status_code == 401


async def test_forty_parallel_wrong_passwords_give_no_500(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    form = await client.get("/console/login")
    answers = await asyncio.gather(
        *(
            client.post(
                "/console/login",
                data={
                    "username": f"user{n % 3}",
                    "password": "x" * 12,
                    "csrf_token": token_in(form),
                },
            )
            for n in range(40)
        )
    )
    assert {answer.status_code for answer in answers} == {401}
    failed = await audit(desk, "login.failed")
    # Per client address the budget holds too, across account names.
    assert sum(1 for data in failed if data["stage"] == "password") <= LOGIN_BUDGET


async def test_parallel_totp_codes_are_evaluated_at_most_up_to_the_budget(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna")
    assert (await log_in(client, desk, "anna")).headers["location"] == "/console/"
    async with desk.sessions() as db:
        from supportdesk.store.agents import AgentAccounts

        agent = await AgentAccounts(db).by_username("anna")
    assert agent and agent.totp_secret
    client.cookies.clear()
    form = await client.get("/console/login")
    first = await client.post(
        "/console/login",
        data={"username": "anna", "password": PASSWORD, "csrf_token": token_in(form)},
    )
    assert first.headers["location"] == "/console/login/totp"
    page = await client.get("/console/login/totp")
    right = totp.code_for_step(agent.totp_secret, totp.step_of(desk.clock()) + 1)
    wrong = [f"{n:06}" for n in range(39) if f"{n:06}" != right]
    answers = await asyncio.gather(
        *(
            client.post("/console/login/totp", data={"code": code, "csrf_token": token_in(page)})
            for code in [*wrong, right]
        )
    )
    statuses = Counter(answer.status_code for answer in answers)
    assert set(statuses) <= {303, 401}, statuses
    failed = [d for d in await audit(desk, "login.failed") if d["stage"] == "totp"]
    evaluated = sum(1 for data in failed if data.get("code") != "throttled") + statuses[303]
    assert evaluated <= LOGIN_BUDGET, (evaluated, statuses)


async def test_parallel_wrong_keys_from_one_address_are_evaluated_up_to_the_budget(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    desk.remote.answer_time = timedelta(0)
    await add_agent(desk, "anna")
    await log_in(client, desk, "anna")
    issued = await issue_key(client)
    prefix = issued["key"].replace(" ", "")[:3]
    guesses = [f"{prefix}{n:09}" for n in range(40)]
    async with await customer(app, "203.0.113.9") as program:
        answers = await asyncio.gather(
            *(
                program.post("/api/v1/join", json={"name": "Erika Muster", "support_key": g})
                for g in guesses
            )
        )
    assert 500 not in {answer.status_code for answer in answers}
    refused = await audit(desk, "support_key.redemption_failed")
    looked_at = [data for data in refused if data["reason"] != "throttled"]
    assert len(looked_at) <= REDEEM_BUDGET, Counter(data["reason"] for data in refused)


async def test_parallel_wrong_guesses_from_many_addresses_void_the_key(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """The key's own count ("void after 5 wrong tries") loses no try to a race."""
    desk = desk_of_app(app)
    desk.remote.answer_time = timedelta(0)
    await add_agent(desk, "anna")
    await log_in(client, desk, "anna")
    issued = await issue_key(client)
    key = issued["key"].replace(" ", "")
    wrong = [f"{key[:3]}{(int(key[3:]) + n) % 10**9:09}" for n in range(1, 21)]

    async def guess(n: int, text: str) -> int:
        async with await customer(app, f"198.51.100.{n + 1}") as program:
            answer = await program.post(
                "/api/v1/join", json={"name": "Erika Muster", "support_key": text}
            )
            return answer.status_code

    statuses = await asyncio.gather(*(guess(n, text) for n, text in enumerate(wrong)))
    assert 500 not in statuses
    async with await customer(app, "198.51.100.200") as program:
        right = await program.post(
            "/api/v1/join", json={"name": "Erika Muster", "support_key": key}
        )
    assert right.status_code != 200  # void: 20 wrong tries were counted against it
    refused = await audit(desk, "support_key.redemption_failed")
    assert refused[-1]["reason"] == "void"
