"""An agent's sockets end when the agent's login does.

A WebSocket is authenticated once, on the upgrade; what happens to the account later
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

from starlette.websockets import WebSocket

from supportdesk.server.state import Desk
from supportdesk.store.agents import AgentAccounts


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
