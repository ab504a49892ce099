"""The second factor: required for every role by default (agents included), relaxed
for agents only by an explicit setting that start-up logs and the audit records;
codes are taken once (no replay); the enrolment secret lives on the server; a bad
value is a 400, never a 500."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from supportdesk import totp
from supportdesk.config import ConfigError, Settings, load_settings
from supportdesk.domain.agent_accounts import Role
from supportdesk.server.app import create_app
from supportdesk.server.state import desk_of_app
from supportdesk.store.agents import AgentAccounts
from supportdesk.store.database import create_engine
from supportdesk.store.migrate import upgrade
from tests.conftest import FixedClock
from tests.server.console_client import PASSWORD, add_agent, log_in, token_in


async def password_step(client: httpx.AsyncClient, username: str) -> httpx.Response:
    form = await client.get("/console/login")
    return await client.post(
        "/console/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token_in(form)},
    )


@pytest.mark.parametrize("role", list(Role))
async def test_every_role_needs_a_second_factor_by_default(
    app: FastAPI, client: httpx.AsyncClient, role: Role
) -> None:
    await add_agent(desk_of_app(app), "wer", role)
    first = await password_step(client, "wer")
    assert first.headers["location"] == "/console/login/totp"
    assert (await client.get("/console/")).headers["location"] == "/console/login/totp"


async def secret_of(app: FastAPI, username: str) -> str:
    async with desk_of_app(app).sessions() as db:
        agent = await AgentAccounts(db).by_username(username)
    assert agent and agent.totp_secret
    return agent.totp_secret


async def test_a_code_is_taken_once(app: FastAPI, client: httpx.AsyncClient) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna")
    assert (await log_in(client, desk, "anna")).headers["location"] == "/console/"
    code = totp.current_code(await secret_of(app, "anna"), desk.clock())
    results = []
    for _ in range(2):
        client.cookies.clear()
        await password_step(client, "anna")
        page = await client.get("/console/login/totp")
        results.append(
            await client.post(
                "/console/login/totp", data={"code": code, "csrf_token": token_in(page)}
            )
        )
    # Enrolment used the current step, so its code is spent; so is it the second time.
    assert [r.status_code for r in results] == [401, 401]


async def test_two_parallel_logins_with_one_code_let_one_in(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna")
    await log_in(client, desk, "anna")
    clock.now += timedelta(minutes=5)
    code = totp.current_code(await secret_of(app, "anna"), desk.clock())
    browsers = [httpx.AsyncClient(transport=client._transport, base_url="http://testserver")]
    browsers.append(httpx.AsyncClient(transport=client._transport, base_url="http://testserver"))
    pages = []
    for browser in browsers:
        await password_step(browser, "anna")
        pages.append(await browser.get("/console/login/totp"))
    answers = await asyncio.gather(
        *(
            browser.post("/console/login/totp", data={"code": code, "csrf_token": token_in(page)})
            for browser, page in zip(browsers, pages, strict=True)
        )
    )
    assert sorted(a.status_code for a in answers) == [303, 401]
    for browser in browsers:
        await browser.aclose()


async def test_the_enrolment_secret_is_the_servers_not_a_cookie(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna")
    await password_step(client, "anna")
    page = await client.get("/console/login/totp")
    shown = page.text.split("data-totp-secret>")[1].split("<")[0]
    assert "sd_totp_enrol" not in page.headers.get("set-cookie", "")
    # A secret the browser brings along counts for nothing, and garbage breaks nothing.
    chosen = totp.new_secret()
    for cookie in (chosen, "not base32 at all!", "A" * 5000):
        client.cookies.set("sd_totp_enrol", cookie, path="/console/login/totp")
        again = await client.get("/console/login/totp")
        assert again.status_code == 200 and f"data-totp-secret>{shown}<" in again.text
        forged = await client.post(
            "/console/login/totp",
            data={
                "code": totp.current_code(chosen, desk.clock()),
                "csrf_token": token_in(again),
            },
        )
        assert forged.status_code == 401
    done = await client.post(
        "/console/login/totp",
        data={"code": totp.current_code(shown, desk.clock()), "csrf_token": token_in(page)},
    )
    assert done.headers["location"] == "/console/"
    assert await secret_of(app, "anna") == shown


@pytest.mark.parametrize("code", ["12345", "1234567", "12a456", "١٢٣٤٥٦", "", "x" * 10000])
async def test_a_malformed_code_is_a_400(
    app: FastAPI, client: httpx.AsyncClient, code: str
) -> None:
    await add_agent(desk_of_app(app), "anna")
    await password_step(client, "anna")
    page = await client.get("/console/login/totp")
    answer = await client.post(
        "/console/login/totp", data={"code": code, "csrf_token": token_in(page)}
    )
    assert answer.status_code == 400
    assert "sechs Ziffern" in answer.text


@pytest.fixture
async def relaxed_app(
    make_settings: Callable[..., Settings], database_url: str, clock: FixedClock
) -> AsyncIterator[FastAPI]:
    settings = make_settings(database_url, SUPPORTDESK_SECURITY_AGENTS_WITHOUT_TOTP="true")
    engine = create_engine(settings.database.url)
    await upgrade(engine)
    await engine.dispose()
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


async def test_relaxing_agents_totp_is_explicit_logged_and_audited(
    relaxed_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    desk = desk_of_app(relaxed_app)
    entries = [e async for e in desk.audit.entries() if e.event_type == "security.totp_relaxed"]
    assert len(entries) == 1
    await add_agent(desk, "anna")
    await add_agent(desk, "sven", Role.SUPERVISOR)
    transport = httpx.ASGITransport(app=relaxed_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await password_step(client, "anna")).headers["location"] == "/console/"
        client.cookies.clear()
        # Only the agent role is relaxed.
        assert (await password_step(client, "sven")).headers["location"] == "/console/login/totp"
    succeeded = [e async for e in desk.audit.entries() if e.event_type == "login.succeeded"]
    assert "agents_without_totp" in succeeded[-1].data["second_factor"]


async def test_relaxing_logs_a_warning_at_start_up(
    make_settings: Callable[..., Settings], caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(None, SUPPORTDESK_SECURITY_AGENTS_WITHOUT_TOTP="true")
    engine = create_engine(settings.database.url)
    await upgrade(engine)
    await engine.dispose()
    application = create_app(settings)
    with caplog.at_level(logging.WARNING):
        async with application.router.lifespan_context(application):
            pass
    assert any("agents_without_totp" in record.getMessage() for record in caplog.records)


def test_the_old_switch_cannot_silently_relax(tmp_path: Path) -> None:
    config = tmp_path / "supportdesk.toml"
    config.write_text("[security]\nagent_totp_required = false\n")
    with pytest.raises(ConfigError, match="agents_without_totp"):
        load_settings(config, {})
    config.write_text("[security]\nagent_totp_required = true\n")
    assert not load_settings(config, {}).security.agents_without_totp
