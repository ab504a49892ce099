"""Resetting an agent's password from the admin page asks first, like locking: the
button's POST only shows the question; the password changes with the confirming POST,
which answers with the one-time password on the list (post/redirect/get)."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from supportdesk.domain.agent_accounts import Role
from supportdesk.server.state import desk_of_app
from supportdesk.store.agents import AgentAccounts
from tests.server.console_client import PASSWORD, add_agent, log_in, token_in


async def test_resetting_a_password_asks_first(app: FastAPI, client: httpx.AsyncClient) -> None:
    desk = desk_of_app(app)
    await add_agent(desk, "root-admin", Role.ADMIN)
    await add_agent(desk, "berta")
    await log_in(client, desk, "root-admin")
    async with desk.sessions() as db:
        before = await AgentAccounts(db).by_username("berta")
    assert before is not None

    page = await client.get("/console/admin/agents")
    assert 'name="action" value="reset-password"' in page.text
    form = {"action": "reset-password", "username": "berta", "csrf_token": token_in(page)}
    asked = await client.post("/console/admin/agents", data=form)
    assert asked.status_code == 200
    assert "Passwort von berta zurücksetzen?" in asked.text
    assert "Ja, Passwort zurücksetzen" in asked.text
    assert 'href="/console/admin/agents">Abbrechen' in asked.text
    assert 'name="action" value="reset-password"' in asked.text
    assert 'name="confirmed" value="yes"' in asked.text
    # Nothing happened yet: the old password still signs in, nothing is in the trail.
    async with desk.sessions() as db:
        unchanged = await AgentAccounts(db).by_username("berta")
    assert unchanged is not None and unchanged.password_hash == before.password_hash
    assert not [e async for e in desk.audit.entries() if e.event_type == "account.password_reset"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as berta:
        assert (await log_in(berta, desk, "berta", PASSWORD)).status_code == 303

    reset = await client.post(
        "/console/admin/agents", data={**form, "csrf_token": token_in(asked), "confirmed": "yes"}
    )
    assert reset.status_code == 303
    listed = await client.get(reset.headers["location"])
    one_time = re.search(r"data-one-time-password>([^<]+)<", listed.text)
    assert one_time and 'data-notice="password-reset"' in listed.text
    async with desk.sessions() as db:
        changed = await AgentAccounts(db).by_username("berta")
    assert changed is not None and changed.password_hash != before.password_hash
    resets = [e async for e in desk.audit.entries() if e.event_type == "account.password_reset"]
    assert [(e.actor, e.subject) for e in resets] == [("agent:root-admin", "agent:berta")]
