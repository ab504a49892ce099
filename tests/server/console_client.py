"""Driving the console like a browser would: forms with CSRF tokens, cookies, TOTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from sqlalchemy import select

from supportdesk.accounts import AccountAdmin
from supportdesk.domain.agent_accounts import Role
from supportdesk.server.state import Desk
from supportdesk.store.models import AgentRow
from tests import totp_codes

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
    """Password, then TOTP enrolment or code (every role needs one by default)."""
    form = await client.get("/console/login")
    response = await client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": token_in(form)},
    )
    if response.status_code != 303 or response.headers["location"] != "/console/login/totp":
        return response
    page = await client.get("/console/login/totp")
    secret_match = SECRET.search(page.text)
    async with desk.sessions() as db:
        row = await db.scalar(select(AgentRow).where(AgentRow.username == username))
    assert row is not None
    secret = secret_match.group(1) if secret_match else row.totp_secret
    assert secret
    code = totp_codes.code(secret, desk.clock())
    assert code, f"{username} used this TOTP step and the next: move the test's clock"
    return await client.post(
        "/console/login/totp", data={"code": code, "csrf_token": token_in(page)}
    )


async def console_token(client: httpx.AsyncClient) -> str:
    return token_in(await client.get("/console/"))
