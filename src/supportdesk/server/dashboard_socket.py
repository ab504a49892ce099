"""The dashboard's socket: the tables again, each time what they show has changed.

An agent socket like the live page's (``agents/sockets.py``): a one-time ticket from an
allowed Origin opens it, and it closes (4401) when its login ends on any node. While
open it waits for a session change anywhere in the cluster (``cluster/
session_changes.py``), or at most ``REFRESH_SECONDS`` for what the bus does not carry
(a new service request), reads the rows from the store and, if they differ from what
it sent last, sends ``{"type": "tables", "html": ...}``: the same template the page
renders. The browser counts the clocks itself, so nothing is sent while nothing
changes.

It also closes (4401) once the login has been idle longer than the console allows:
an open dashboard is not activity, and a screen left alone must not keep showing
customers' names after the login it was opened in would have lapsed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import timedelta
from typing import Final

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from supportdesk.server.agents.socket_register import CLOSE_CODE
from supportdesk.server.agents.sockets import agent_for_socket, while_signed_in
from supportdesk.server.pages.dashboard import DASHBOARD, SOCKET_PATH, tables_context
from supportdesk.server.pages.dashboard_rows import DashboardRows, dashboard_rows
from supportdesk.server.rendering import language_of
from supportdesk.server.state import Desk, desk_of
from supportdesk.store.agents import Agent, AgentAccounts

router = APIRouter(include_in_schema=False)

REFRESH_SECONDS: Final = 15.0
SETTLE_SECONDS: Final = 0.1
"""After a change, wait this long, so a burst of changes (redeemed, then the program's
link, then the consent request) is read and sent once."""
IDLE_REASON: Final = "the login was idle too long"
FIRST: Final = asyncio.FIRST_COMPLETED


@router.websocket(SOCKET_PATH)
async def dashboard_socket(socket: WebSocket) -> None:
    desk = desk_of(socket)
    agent, login = await agent_for_socket(socket, DASHBOARD, DASHBOARD)
    if agent is None or login is None:
        # Closing before accept answers the upgrade with 403.
        await socket.close(code=CLOSE_CODE, reason="not allowed")
        return
    await socket.accept()
    async with while_signed_in(desk, socket, login):
        await _serve(desk, socket, agent, login)


async def _serve(desk: Desk, socket: WebSocket, agent: Agent, login: str) -> None:
    language = language_of(socket, desk.settings)
    closed = asyncio.create_task(_until_closed(socket))
    sent: DashboardRows | None = None
    try:
        with desk.session_changes.watch() as changed:
            while not closed.done():
                if await _idle(desk, login):
                    await socket.close(code=CLOSE_CODE, reason=IDLE_REASON)
                    return
                changed.clear()
                rows = await dashboard_rows(desk, agent, language)
                if rows != sent:
                    now = desk.clock()
                    html = desk.pages.render_text(
                        socket, "console/dashboard_tables.html", **tables_context(rows, now)
                    )
                    message = {"type": "tables", "html": html, "now": now.isoformat()}
                    await socket.send_text(json.dumps(message))
                    sent = rows
                woken = asyncio.create_task(changed.wait())
                try:
                    await asyncio.wait({closed, woken}, timeout=REFRESH_SECONDS, return_when=FIRST)
                finally:
                    woken.cancel()
                await asyncio.sleep(SETTLE_SECONDS)
    except (WebSocketDisconnect, RuntimeError):
        return  # the browser went away while a send was under way
    finally:
        closed.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await closed


async def _until_closed(socket: WebSocket) -> None:
    """Read until the browser closes (it sends nothing the server acts on)."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while (await socket.receive())["type"] != "websocket.disconnect":
            pass


async def _idle(desk: Desk, login: str) -> bool:
    """Whether the login has gone unused longer than ``security.login_idle_minutes``
    (or is gone: the register closes the socket then, this only answers)."""
    async with desk.sessions() as db:
        found = await AgentAccounts(db).login_session(login)
    if found is None:
        return True
    idle = timedelta(minutes=desk.settings.security.login_idle_minutes)
    return desk.clock() - found.last_seen_at > idle
