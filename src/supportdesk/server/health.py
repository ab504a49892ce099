"""Liveness and readiness probes for load balancers and orchestration."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from supportdesk.server.state import desk_of
from supportdesk.store.migrate import current_revision, head_revision

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and serving."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """The database answers and carries the newest schema; ``node`` names this node."""
    desk = desk_of(request)
    node = desk.settings.node_id
    try:
        async with desk.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        revision = await current_revision(desk.engine)
    except Exception as exc:  # any failure means not ready; say which
        log.warning("readiness check failed", extra={"error": repr(exc)})
        return JSONResponse({"status": "unavailable", "database": "unreachable", "node": node}, 503)
    if revision != head_revision():
        return JSONResponse(
            {
                "status": "unavailable",
                "database": "schema out of date",
                "revision": revision,
                "node": node,
            },
            503,
        )
    return JSONResponse({"status": "ok", "database": "ok", "revision": revision, "node": node})
