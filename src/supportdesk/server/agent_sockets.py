"""Agents' WebSockets: who may open one, and that it ends when the agent's login does.

A socket opens with a one-time ticket (``server/relay/socket_tickets.py``) from an
allowed Origin. It is authenticated once, on the upgrade; what happens to the account later
(the agent signs out, an administrator disables the account, the login reaches its
absolute limit) must still reach the open socket. Each agent socket is watched: every
``security.socket_check_seconds`` the login is looked up in the store, so a change
made by any node or by the command line closes it (4401) within that time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import urlsplit

from starlette.websockets import WebSocket

from supportdesk.server.state import Desk, desk_of
from supportdesk.store.agents import Agent, AgentAccounts


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def allowed_origins(desk: Desk) -> set[str]:
    return {origin_of(desk.settings.server.base_url), *desk.settings.server.allowed_origins}


async def agent_for_socket(
    socket: WebSocket, number: str, purpose: str
) -> tuple[Agent, str] | tuple[None, None]:
    """The agent a ticket was minted for, and the login it was minted in; or nothing,
    for a foreign Origin, a bad ticket, an ended login or a disabled account."""
    desk = desk_of(socket)
    if socket.headers.get("origin") not in allowed_origins(desk):
        return None, None
    ticket = await desk.tickets.take_ticket(
        socket.query_params.get("ticket", ""), number, purpose, desk.clock()
    )
    if ticket is None or not await login_alive(desk, ticket.login):
        return None, None
    async with desk.sessions() as db:
        agent = await AgentAccounts(db).by_id(ticket.agent_id)
    return (agent, ticket.login) if agent and not agent.disabled else (None, None)


async def login_alive(desk: Desk, login_digest: str) -> bool:
    """Whether the login behind a socket still stands: not signed out, the account not
    disabled, the absolute limit not reached."""
    async with desk.sessions() as db:
        accounts = AgentAccounts(db)
        login = await accounts.login_session(login_digest)
        if login is None:
            return False
        agent = await accounts.by_id(login.agent_id)
    limit = timedelta(hours=desk.settings.security.login_absolute_hours)
    return agent is not None and not agent.disabled and desk.clock() - login.created_at < limit


async def _close_when_login_ends(desk: Desk, socket: WebSocket, login_digest: str) -> None:
    every = desk.settings.security.socket_check_seconds
    while True:
        await asyncio.sleep(every)
        if not await login_alive(desk, login_digest):
            with contextlib.suppress(Exception):
                await socket.close(code=4401, reason="signed out or account disabled")
            return


@contextlib.asynccontextmanager
async def while_signed_in(desk: Desk, socket: WebSocket, login_digest: str) -> AsyncIterator[None]:
    """Serve the socket inside this block; it is closed if the login ends meanwhile."""
    watch = asyncio.create_task(_close_when_login_ends(desk, socket, login_digest))
    try:
        yield
    finally:
        watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watch
