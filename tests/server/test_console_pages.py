"""The console's pages as a bank ships them: forms that create something redirect (a
reload repeats nothing), errors inside the console in the user's language, a start
page for admins, confirmation before ending a session or locking an account, the
current page marked in the navigation."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from supportdesk.domain.agent_accounts import Role
from supportdesk.domain.session_events import SessionState
from supportdesk.server.state import Desk, desk_of_app
from supportdesk.store.agents import AgentAccounts
from supportdesk.store.models import AgentRow, SupportSessionRow
from supportdesk.store.support_sessions import SupportSessionRecords
from tests.conftest import FixedClock
from tests.server.console_client import add_agent, console_token, log_in, token_in

HTML = {"accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
KEY = re.compile(r"data-support-key>([^<]+)<")


async def _count(desk: Desk, row: type[SupportSessionRow] | type[AgentRow]) -> int:
    async with desk.sessions() as db:
        return await db.scalar(select(func.count()).select_from(row)) or 0


async def _state(desk: Desk, number: str) -> SessionState:
    async with desk.sessions() as db:
        summary = await SupportSessionRecords(db).get(number)
    assert summary is not None
    return summary.state


async def _new_key(client: httpx.AsyncClient) -> tuple[httpx.Response, str]:
    posted = await client.post(
        "/console/sessions", data={"csrf_token": await console_token(client)}
    )
    assert posted.status_code == 303
    match = re.fullmatch(r"/console/sessions/([^/]+)/key", posted.headers["location"])
    assert match, posted.headers["location"]
    return posted, match.group(1)


async def test_a_new_key_is_shown_again_on_reload_and_issued_once(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna")
    await log_in(client, desk, "anna")
    posted, number = await _new_key(client)
    first = await client.get(posted.headers["location"])
    again = await client.get(posted.headers["location"])
    assert first.status_code == again.status_code == 200
    key = KEY.search(first.text)
    assert key and KEY.search(again.text) and KEY.search(again.text).group(1) == key.group(1)  # type: ignore[union-attr]
    assert f"data-consultation-number>{number}<" in again.text
    assert await _count(desk, SupportSessionRow) == 1  # the reload issued nothing
    clear = key.group(1).replace(" ", "")
    assert clear not in posted.headers["location"]
    async with desk.sessions() as db:
        row = await db.scalar(select(SupportSessionRow))
    assert row is not None and clear not in repr(vars(row))  # only the hash is stored
    # Once the key has expired, the page is the session's, without a key.
    clock.now += timedelta(minutes=desk.settings.security.support_key_minutes, seconds=1)
    late = await client.get(posted.headers["location"])
    assert late.status_code == 303 and late.headers["location"] == f"/console/sessions/{number}"


async def test_another_login_never_sees_the_key(
    app: FastAPI, client: httpx.AsyncClient, clock: FixedClock
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna")
    await add_agent(desk, "sven", Role.SUPERVISOR)
    await log_in(client, desk, "anna")
    posted, number = await _new_key(client)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as other:
        await log_in(other, desk, "sven")
        seen = await other.get(posted.headers["location"])
        assert seen.status_code == 303  # the supervisor gets the session page, keyless
        assert seen.headers["location"] == f"/console/sessions/{number}"
    # The key travels from the POST to the page sealed for this login alone: Anna's
    # second login (another browser) with the same cookie gets no key.
    sealed = posted.cookies["sd_support_key"]
    shown = await client.get(posted.headers["location"])
    key = KEY.search(shown.text)
    assert key and key.group(1).replace(" ", "") not in sealed
    clock.now += timedelta(seconds=30)  # a fresh TOTP step for the second login
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as second:
        await log_in(second, desk, "anna")
        second.cookies.set("sd_support_key", sealed, path=posted.headers["location"])
        elsewhere = await second.get(posted.headers["location"])
        assert elsewhere.status_code == 303
        assert elsewhere.headers["location"] == f"/console/sessions/{number}"


async def test_adding_an_agent_redirects_and_a_reload_adds_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "root-admin", Role.ADMIN)
    await log_in(client, desk, "root-admin")
    page = await client.get("/console/admin/agents")
    added = await client.post(
        "/console/admin/agents",
        data={
            "action": "add",
            "username": "berta",
            "display_name": "Berta Kunz",
            "role": "agent",
            "csrf_token": token_in(page),
        },
    )
    assert added.status_code == 303 and added.headers["location"] == "/console/admin/agents"
    listed = await client.get(added.headers["location"])
    assert "Das Konto berta wurde angelegt." in listed.text
    password = re.search(r"data-one-time-password>([^<]+)<", listed.text)
    assert password and password.group(1) not in added.headers["location"]
    reloaded = await client.get(added.headers["location"])
    assert "data-one-time-password" not in reloaded.text  # shown once
    assert await _count(desk, AgentRow) == 2


async def test_forbidden_is_a_german_console_page_and_json_for_scripts(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna")
    await log_in(client, desk, "anna")
    page = await client.get("/console/admin/agents", headers=HTML)
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert "Für Ihre Rolle nicht freigegeben" in page.text
    assert '<body class="console">' in page.text and "Konsolennavigation" in page.text
    assert "your role does not allow" not in page.text
    scripted = await client.get("/console/admin/agents", headers={"accept": "application/json"})
    assert scripted.status_code == 403
    assert scripted.json() == {"detail": "your role does not allow this"}
    api = await client.post(
        "/api/v1/service-requests/status", headers=HTML, json={"reference": "x", "secret": "y"}
    )
    assert api.headers["content-type"].startswith("application/json")


async def test_an_unknown_session_number_is_the_consoles_404(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna")
    await log_in(client, desk, "anna")
    page = await client.get("/console/sessions/2026-0000-0000", headers=HTML)
    assert page.status_code == 404
    assert '<body class="console">' in page.text and "Nicht gefunden" in page.text
    assert "Zurück zur Übersicht" in page.text
    assert "Zurück zu den Hotlines" not in page.text  # not the customer portal's page
    client.cookies.set("sd_lang", "en")
    english = await client.get("/console/sessions/2026-0000-0000", headers=HTML)
    assert english.status_code == 404 and "Not found" in english.text


async def test_ending_a_session_asks_first(app: FastAPI, client: httpx.AsyncClient) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna")
    await log_in(client, desk, "anna")
    _, number = await _new_key(client)
    page = await client.get(f"/console/sessions/{number}")
    asked = await client.post(
        f"/console/sessions/{number}/end", data={"csrf_token": token_in(page)}
    )
    assert asked.status_code == 200
    assert f"Sitzung {number} beenden?" in asked.text and "Ja, Sitzung beenden" in asked.text
    assert f'href="/console/sessions/{number}">Abbrechen' in asked.text
    assert await _state(desk, number) is SessionState.ISSUED  # nothing happened yet
    ended = await client.post(
        f"/console/sessions/{number}/end", data={"csrf_token": token_in(asked), "confirmed": "yes"}
    )
    assert ended.status_code == 303
    assert await _state(desk, number) is SessionState.ENDED


async def test_locking_an_account_asks_first(app: FastAPI, client: httpx.AsyncClient) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "root-admin", Role.ADMIN)
    await add_agent(desk, "berta")
    await log_in(client, desk, "root-admin")
    page = await client.get("/console/admin/agents")
    form = {"action": "disable", "username": "berta", "csrf_token": token_in(page)}
    asked = await client.post("/console/admin/agents", data=form)
    assert asked.status_code == 200
    assert "Konto berta sperren?" in asked.text and "Ja, sperren" in asked.text
    async with desk.sessions() as db:
        berta = await AgentAccounts(db).by_username("berta")
    assert berta is not None and not berta.disabled
    locked = await client.post("/console/admin/agents", data={**form, "confirmed": "yes"})
    assert locked.status_code == 303
    async with desk.sessions() as db:
        berta = await AgentAccounts(db).by_username("berta")
    assert berta is not None and berta.disabled


async def test_the_navigation_marks_the_current_page(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "root-admin", Role.ADMIN)
    await log_in(client, desk, "root-admin")
    agents = await client.get("/console/admin/agents")
    assert '<a href="/console/admin/agents" aria-current="page">' in agents.text
    assert agents.text.count('aria-current="page"') == 1
    dashboard = await client.get("/console/")
    assert '<a href="/console/" aria-current="page">' in dashboard.text
    assert dashboard.text.count('aria-current="page"') == 1


async def test_an_admin_starts_on_their_work_with_counts(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "root-admin", Role.ADMIN)
    await add_agent(desk, "anna")
    await log_in(client, desk, "root-admin")
    page = await client.get("/console/")
    assert "data-overview" in page.text
    assert '<h2><a href="/console/admin/agents">Mitarbeiter</a></h2>' in page.text
    assert "Konten: 2 · Gesperrt: 0" in page.text
    assert '<h2><a href="/console/audit">Revisionsprotokoll</a></h2>' in page.text
    audit = re.search(r"Einträge: (\d+)<", page.text)
    assert audit and int(audit.group(1)) >= 3  # two accounts created, one login
    assert "Gespeichert: 0" in page.text
    assert 'href="/console/recordings"' not in page.text  # an admin does not play them
    assert "Neue Fernwartung" not in page.text
