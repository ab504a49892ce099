"""Driving the console like a browser would: forms with CSRF tokens, cookies, TOTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx

from supportdesk import totp
from supportdesk.accounts import AccountAdmin
from supportdesk.domain.agent_accounts import Role
from supportdesk.server.state import Desk

PASSWORD = "korrekt pferd batterie heftklammer"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
SECRET = re.compile(r"data-totp-secret>([A-Z2-7]+)<")


def token_in(page: httpx.Response) -> str:
    match = TOKEN.search(page.text)
    assert match, f"no CSRF token on {page.url}"
    return match.group(1)


async def add_agent(desk: Desk, username: str, role: Role = Role.AGENT, name: str = "") -> None:
    await AccountAdmin(desk.audit).add(
        username, name or username.title(), role, PASSWORD, "test", datetime.now(UTC)
    )


async def log_in(
    client: httpx.AsyncClient, desk: Desk, username: str, password: str = PASSWORD
) -> httpx.Response:
    """Password, then TOTP enrolment or code when the role asks for one."""
    form = await client.get("/console/login")
    response = await client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": token_in(form)},
    )
    if response.status_code != 303 or response.headers["location"] != "/console/login/totp":
        return response
    page = await client.get("/console/login/totp")
    secret_match = SECRET.search(page.text)
    if secret_match:
        secret = secret_match.group(1)
    else:
        async with desk.sessions() as db:
            from supportdesk.store.agents import AgentAccounts

            agent = await AgentAccounts(db).by_username(username)
        assert agent and agent.totp_secret
        secret = agent.totp_secret
    return await client.post(
        "/console/login/totp",
        data={"code": totp.current_code(secret, desk.clock()), "csrf_token": token_in(page)},
    )


async def console_token(client: httpx.AsyncClient) -> str:
    return token_in(await client.get("/console/"))
