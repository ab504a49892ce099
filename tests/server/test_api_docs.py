"""/api/docs and the OpenAPI document: for signed-in staff by default, for everyone or
nobody by configuration ([server] api_docs)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from supportdesk.config import Settings
from supportdesk.server.app import create_app
from supportdesk.store.database import create_engine
from supportdesk.store.migrate import upgrade
from tests.live_server import live_server
from tests.server.relay_parties import AgentBrowser, add_agent

DOCS = ("/api/docs", "/api/v1/openapi.json")


@pytest.fixture
def site(make_settings: Callable[..., Settings]) -> Callable[..., AsyncIterator[httpx.AsyncClient]]:
    async def open_site(**environ: str) -> AsyncIterator[httpx.AsyncClient]:
        settings = make_settings(**environ)
        engine = create_engine(settings.database.url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://desk") as c:
                yield c

    return open_site


async def test_by_default_nobody_signed_out_reads_the_docs(site) -> None:  # type: ignore[no-untyped-def]
    """They were public: a map of every endpoint for whoever probes the server."""
    async for client in site():
        for path in DOCS:
            answer = await client.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"] == "/console/login"
        assert "openapi" not in (await client.get("/")).text.lower()


async def test_public_when_configured(site) -> None:  # type: ignore[no-untyped-def]
    async for client in site(SUPPORTDESK_SERVER_API_DOCS="public"):
        spec = (await client.get("/api/v1/openapi.json")).json()
        assert "/api/v1/hotlines" in spec["paths"]
        assert "/api/v1/service-requests" in spec["paths"]
        assert "/api/v1/openapi.json" not in spec["paths"]
        assert "swagger" in (await client.get("/api/docs")).text.lower()


async def test_off_when_configured(site) -> None:  # type: ignore[no-untyped-def]
    async for client in site(SUPPORTDESK_SERVER_API_DOCS="off"):
        for path in DOCS:
            assert (await client.get(path)).status_code == 404


async def test_signed_in_staff_read_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with live_server(tmp_path) as server:
        add_agent(server, "anna")
        agent = await AgentBrowser.log_in(server, "anna")
        try:
            spec = (await agent.http.get("/api/v1/openapi.json")).json()
            assert "/api/v1/join" in spec["paths"]
            assert (await agent.http.get("/api/docs")).status_code == 200
        finally:
            await agent.close()
