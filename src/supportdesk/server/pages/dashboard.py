"""The console's start page: the agent's sessions, every open session, the queue.

The page is whole without script: a reload shows the truth. With script, its socket
(``server/dashboard_socket.py``) sends the tables again whenever a session changes on
any node, and ``static/console-dashboard.js`` puts them in and runs the clocks. The
page carries the socket's first ticket; a reconnect asks :func:`dashboard_ticket`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from supportdesk.bus import BusUnavailable
from supportdesk.server.agents.auth import SignedIn, check_csrf, require
from supportdesk.server.pages.console_overview import overview_counts
from supportdesk.server.pages.dashboard_rows import (
    Clock,
    DashboardRows,
    dashboard_rows,
    format_clock,
    whole_days,
)
from supportdesk.server.rendering import language_of
from supportdesk.server.state import Desk, desk_of

log = logging.getLogger(__name__)

router = APIRouter(include_in_schema=False)

DASHBOARD = "dashboard"
"""The dashboard socket's tickets carry this as their purpose and session number."""
SOCKET_PATH = "/ws/dashboard"


def tables_context(rows: DashboardRows, now: datetime) -> dict[str, Any]:
    """What ``console/dashboard_tables.html`` needs, for the page and the socket alike."""
    return {
        "rows": rows,
        "now": now,
        "clocks": Clock,
        "format_clock": format_clock,
        "whole_days": whole_days,
    }


def has_tables(rows: DashboardRows) -> bool:
    return any(table is not None for table in (rows.mine, rows.everyone, rows.queue))


async def socket_ticket(desk: Desk, signed_in: SignedIn) -> str | None:
    """A one-time ticket for the dashboard's socket, bound to this login; None while
    the bus is away (the page still works, it just does not update itself)."""
    try:
        return await desk.tickets.issue(
            signed_in.agent.id, DASHBOARD, DASHBOARD, desk.clock(), signed_in.login.id_digest
        )
    except BusUnavailable:
        log.warning("no dashboard socket ticket: the bus is unavailable")
        return None


@router.get("/console/")
async def dashboard(request: Request) -> Response:
    desk = desk_of(request)
    signed_in = await require(request)
    rows = await dashboard_rows(desk, signed_in.agent, language_of(request, desk.settings))
    async with desk.sessions() as db:
        counts = await overview_counts(db, signed_in)
    ticket = await socket_ticket(desk, signed_in) if has_tables(rows) else None
    return desk.pages.render(
        request,
        "console/dashboard.html",
        signed_in=signed_in,
        counts=counts,
        socket_url=f"{SOCKET_PATH}?ticket={ticket}" if ticket else None,
        **tables_context(rows, desk.clock()),
    )


@router.post("/console/dashboard/ticket")
async def dashboard_ticket(request: Request) -> Response:
    """A fresh ticket for a dashboard whose socket dropped (a node restarted, the
    network blinked), so it reconnects without a reload (CSRF token in
    ``X-CSRF-Token``). Signed out: the login redirect, and the page reloads."""
    desk = desk_of(request)
    signed_in = await require(request)
    check_csrf(signed_in, request.headers.get("x-csrf-token", ""))
    ticket = await socket_ticket(desk, signed_in)
    if ticket is None:
        return JSONResponse({"error": "try again later"}, status_code=503)
    return JSONResponse({"url": f"{SOCKET_PATH}?ticket={ticket}"})
