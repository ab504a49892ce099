"""Agents log in with password and, where their role needs it, a TOTP code."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from supportdesk.domain.agent_accounts import Role
from supportdesk.server.state import desk_of_app
from tests.conftest import FixedClock
from tests.server.console_client import PASSWORD, add_agent, console_token, log_in, token_in


async def test_agent_logs_in_sees_dashboard_and_logs_out(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna", name="Anna Berger")
    response = await log_in(client, desk, "anna")
    assert response.status_code == 303 and response.headers["location"] == "/console/"
    cookie = client.cookies.get("sd_agent")
    assert cookie and len(cookie) >= 22  # ≥ 128 bits, URL-safe
    dashboard = await client.get("/console/")
    assert dashboard.status_code == 200 and "Neue Fernwartung" in dashboard.text
    await client.post("/console/logout", data={"csrf_token": token_in(dashboard)})
    # The old cookie is dead on the server, not just forgotten by the browser.
    client.cookies.set("sd_agent", cookie)
    after = await client.get("/console/")
    assert after.status_code == 303 and after.headers["location"] == "/console/login"


async def test_unknown_account_and_wrong_password_look_the_same(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna")
    wrong = await log_in(client, desk, "anna", "falsches passwort!")
    unknown = await log_in(client, desk, "niemand", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    strip = lambda text: token_in_free(text)  # noqa: E731
    assert strip(wrong.text).replace("anna", "") == strip(unknown.text).replace("niemand", "")


def token_in_free(text: str) -> str:
    import re

    return re.sub(r'name="csrf_token" value="[^"]+"', "", text)


async def test_failed_logins_are_throttled_per_account(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna")
    for _ in range(6):
        assert (await log_in(client, desk, "anna", "falsch falsch falsch")).status_code == 401
    # Now even the right password is refused, with the same answer...
    assert (await log_in(client, desk, "anna")).status_code == 401
    # ...until the back-off has passed.
    clock.now += timedelta(minutes=16)
    assert (await log_in(client, desk, "anna")).status_code == 303


async def test_idle_and_absolute_timeouts(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna")
    await log_in(client, desk, "anna")
    clock.now += timedelta(minutes=16)
    assert (await client.get("/console/")).status_code == 303
    await log_in(client, desk, "anna")
    logged_in_at = clock.now
    for _ in range(8 * 6 + 2):  # busy all day, a request every ten minutes
        clock.now += timedelta(minutes=10)
        response = await client.get("/console/")
        if response.status_code != 200:
            break
    assert response.status_code == 303
    # Logged out right after the eight-hour mark, not before and not later.
    assert timedelta(hours=8) < clock.now - logged_in_at <= timedelta(hours=8, minutes=10)


async def test_disabling_ends_the_login_at_once(app: FastAPI, client: httpx.AsyncClient) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna")
    await log_in(client, desk, "anna")
    assert (await client.get("/console/")).status_code == 200
    from supportdesk.accounts import AccountAdmin

    await AccountAdmin(desk.audit).set_disabled("anna", True, "test", desk.clock())
    assert (await client.get("/console/")).status_code == 303


async def test_supervisor_must_enrol_totp_then_use_it(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "sven", Role.SUPERVISOR)
    form = await client.get("/console/login")
    first = await client.post(
        "/console/login",
        data={"username": "sven", "password": PASSWORD, "csrf_token": token_in(form)},
    )
    assert first.headers["location"] == "/console/login/totp"
    set_cookie = first.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie
    # Half logged in is not logged in.
    assert (await client.get("/console/")).headers["location"] == "/console/login/totp"
    page = await client.get("/console/login/totp")
    assert 'src="data:image/svg+xml' in page.text  # the QR code
    bad = await client.post(
        "/console/login/totp", data={"code": "000000", "csrf_token": token_in(page)}
    )
    assert bad.status_code == 401
    client.cookies.clear()
    assert (await log_in(client, desk, "sven")).headers["location"] == "/console/"
    assert (await client.get("/console/")).status_code == 200
    # Enrolled now: the next login asks for a code and shows no QR code.
    client.cookies.clear()
    clock.now += timedelta(minutes=2)
    assert (await log_in(client, desk, "sven")).headers["location"] == "/console/"


async def test_state_changing_forms_need_the_csrf_token(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna")
    await log_in(client, desk, "anna")
    assert (
        await client.post("/console/sessions", data={"csrf_token": "forged"})
    ).status_code == 400
    good = await client.post("/console/sessions", data={"csrf_token": await console_token(client)})
    assert good.status_code == 303


async def test_roles_limit_what_pages_show(app: FastAPI, client: httpx.AsyncClient) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna")
    await log_in(client, desk, "anna")
    assert (await client.get("/console/admin/agents")).status_code == 403
    assert (await client.get("/console/audit")).status_code == 403
