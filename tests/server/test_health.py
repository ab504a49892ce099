"""Liveness and readiness, including a database that is behind on migrations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from supportdesk.config import Settings
from supportdesk.server.app import create_app


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"
    assert ready.json()["node"] == "127.0.0.1:8080"  # [cluster] node_id unset: host:port


async def test_readyz_fails_on_an_unmigrated_database(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["database"] == "schema out of date"


async def test_readyz_fails_when_the_database_is_unreachable(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings("postgresql://nobody@127.0.0.1:9/none")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["database"] == "unreachable"
