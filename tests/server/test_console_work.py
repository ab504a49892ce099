"""The console's daily work: the request queue, supervisors' view, admin, audit page."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from supportdesk.domain.agent_accounts import Role
from supportdesk.domain.service_requests import ContactKind, ServiceRequestDraft
from supportdesk.server.state import desk_of_app
from tests.server.console_client import PASSWORD, add_agent, console_token, log_in, token_in


async def test_request_queue_assign_status_and_notes(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna", name="Anna Berger")
    filed = await desk.service_requests.file(
        ServiceRequestDraft(
            "online-banking",
            "HBCI-Schlüsseldatei lässt sich nicht öffnen.",
            ContactKind.PHONE,
            "0941 123456",
        ),
        desk.clock(),
    )
    reference = str(filed.reference)
    await log_in(client, desk, "anna")
    dashboard = await client.get("/console/")
    assert f'data-request="{reference}"' in dashboard.text
    page = await client.get(f"/console/requests/{reference}")
    assert "0941 123456" in page.text and "eingegangen" in page.text
    token = token_in(page)
    await client.post(
        f"/console/requests/{reference}", data={"action": "assign", "csrf_token": token}
    )
    await client.post(
        f"/console/requests/{reference}",
        data={"action": "status", "status": "in_progress", "csrf_token": token},
    )
    await client.post(
        f"/console/requests/{reference}",
        data={"action": "note", "note": "Rückruf vereinbart für 14 Uhr", "csrf_token": token},
    )
    page = await client.get(f"/console/requests/{reference}")
    assert re.search(r"data-assigned>Anna Berger<", page.text)
    assert re.search(r"data-status>in Bearbeitung<", page.text)
    assert "Rückruf vereinbart für 14 Uhr" in page.text
    # new → in progress is fine; in progress → new is not a move the life cycle has.
    refused = await client.post(
        f"/console/requests/{reference}",
        data={"action": "status", "status": "new", "csrf_token": token},
    )
    assert refused.headers["location"].endswith("?error=status")
    events = [e.event_type for e in await desk.audit.for_subject(reference)]
    assert events == [
        "service_request.assigned",
        "service_request.status_changed",
        "service_request.note_added",
    ]
    # The customer's status page follows.
    assert (await desk.service_requests.look_up(filed.reference, filed.secret)).status.value == (  # type: ignore[union-attr]
        "in_progress"
    )


async def test_supervisor_sees_everyones_open_sessions(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "anna")
    await add_agent(desk, "sven", Role.SUPERVISOR, name="Sven Ober")
    await log_in(client, desk, "anna")
    issued = await client.post(
        "/console/sessions",
        data={"csrf_token": await console_token(client)},
        follow_redirects=True,
    )
    number = re.search(r"data-consultation-number>([^<]+)<", issued.text)
    assert number
    client.cookies.clear()
    await log_in(client, desk, "sven")
    dashboard = await client.get("/console/")
    assert "Alle offenen Sitzungen" in dashboard.text
    assert f'data-session="{number.group(1)}"' in dashboard.text


async def test_admin_adds_and_disables_agents(app: FastAPI, client: httpx.AsyncClient) -> None:
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
    assert added.status_code == 303
    listed = await client.get(added.headers["location"])
    password = re.search(r"data-one-time-password>([^<]+)<", listed.text)
    assert password and len(password.group(1)) >= 16
    duplicate = await client.post(
        "/console/admin/agents",
        data={
            "action": "add",
            "username": "berta",
            "display_name": "Berta Zwei",
            "role": "agent",
            "csrf_token": token_in(page),
        },
    )
    assert duplicate.status_code == 422 and "taken" in duplicate.text
    await client.post(
        "/console/admin/agents",
        data={
            "action": "disable",
            "username": "berta",
            "confirmed": "yes",
            "csrf_token": token_in(page),
        },
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as other:
        assert (await log_in(other, desk, "berta", password.group(1))).status_code == 401
    events = [e.event_type async for e in desk.audit.entries()]
    assert "account.created" in events and "account.disabled" in events


async def test_admin_changes_a_role_and_the_login_ends(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "root-admin", Role.ADMIN)
    await add_agent(desk, "anna")
    await log_in(client, desk, "root-admin")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as anna:
        await log_in(anna, desk, "anna")
        assert (await anna.get("/console/")).status_code == 200
        page = await client.get("/console/admin/agents")
        changed = await client.post(
            "/console/admin/agents",
            data={
                "action": "set-role",
                "username": "anna",
                "role": "supervisor",
                "csrf_token": token_in(page),
            },
        )
        assert changed.status_code == 303
        assert (await anna.get("/console/")).headers["location"] == "/console/login"
    own = await client.post(
        "/console/admin/agents",
        data={
            "action": "set-role",
            "username": "root-admin",
            "role": "agent",
            "csrf_token": token_in(page),
        },
    )
    assert own.status_code == 422
    entries = [e async for e in desk.audit.entries() if e.event_type == "account.role_changed"]
    assert [e.data for e in entries] == [{"from": "agent", "to": "supervisor"}]


async def test_auditor_sees_a_verified_chain(app: FastAPI, client: httpx.AsyncClient) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "rita", Role.AUDITOR)
    await log_in(client, desk, "rita")
    page = await client.get("/console/audit")
    assert page.status_code == 200
    assert "login.succeeded" in page.text and "data-verify" not in page.text
    checked = await client.post("/console/audit/verify", data={"csrf_token": token_in(page)})
    assert checked.status_code == 200
    assert 'data-verify="ok"' in checked.text and "login.succeeded" in checked.text
    assert PASSWORD not in page.text
