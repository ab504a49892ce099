"""The API's documentation (/api/docs and /api/v1/openapi.json), for whom the
configuration allows it: signed-in staff by default, everyone, or nobody
(``[server] api_docs``). A map of every endpoint is no help to a customer and a
help to whoever probes the server, so it is not public unless the bank wants it.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse, JSONResponse

from supportdesk.server.agents.auth import require
from supportdesk.server.state import desk_of

OPENAPI_URL = "/api/v1/openapi.json"
DOCS_URL = "/api/docs"

router = APIRouter(include_in_schema=False)


async def _allowed(request: Request) -> None:
    """Raise unless this request may read the docs: a sign-in page for "staff"
    without a login (agents/auth.require), 404 when they are "off"."""
    who = desk_of(request).settings.server.api_docs
    if who == "off":
        raise HTTPException(404)
    if who == "staff":
        await require(request)


@router.get(OPENAPI_URL)
async def openapi_document(request: Request) -> JSONResponse:
    await _allowed(request)
    app: FastAPI = request.app
    return JSONResponse(app.openapi())


@router.get(DOCS_URL)
async def api_docs(request: Request) -> HTMLResponse:
    await _allowed(request)
    return get_swagger_ui_html(openapi_url=OPENAPI_URL, title="supportdesk API")
