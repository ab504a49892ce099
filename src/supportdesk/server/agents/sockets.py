"""Agents' WebSockets: who may open one, and that it ends when the agent's login does.

A socket opens with a one-time ticket (``server/relay/socket_tickets.py``) from an
allowed Origin. It is authenticated once, on the upgrade; what happens to the account
later must still reach the open socket: :func:`while_signed_in` registers it with the
node's :class:`~supportdesk.server.agents.socket_register.AgentSockets`, which closes
it (4401) and stops serving it when its login ends, on this node or any other.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import urlsplit

from starlette.websockets import WebSocket

from supportdesk.server.agents.socket_register import CLOSE_CODE, CLOSE_REASON
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
    limit = timedelta(hours=desk.settings.security.login_absolute_hours)
    async with desk.sessions() as db:
        alive = await AgentAccounts(db).logins_alive([login_digest], desk.clock() - limit)
    return login_digest in alive


@contextlib.asynccontextmanager
async def while_signed_in(desk: Desk, socket: WebSocket, login_digest: str) -> AsyncIterator[None]:
    """Serve the socket inside this block; when the login ends meanwhile the socket is
    closed (4401) and the block is cancelled, so nothing more it received takes effect."""
    async with desk.sessions() as db:
        found = await AgentAccounts(db).login_session(login_digest)
    if found is None:  # ended between the ticket and here: serve a closed socket
        with contextlib.suppress(Exception):
            await socket.close(code=CLOSE_CODE, reason=CLOSE_REASON)
        yield
        return
    async with desk.agent_sockets.serving(socket, login_digest, found.agent_id):
        yield
