"""Shared fixtures: settings on a real database (SQLite file or PostgreSQL), the app, a client."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import Browser, async_playwright
from sqlalchemy.engine import make_url

from supportdesk.config import Settings, load_settings
from supportdesk.server.app import create_app
from supportdesk.store.database import create_engine
from supportdesk.store.migrate import upgrade
from tests.live_server import CHROMIUM, CHROMIUM_ARGS

POSTGRES_URL = os.environ.get(
    "SUPPORTDESK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


async def _postgres_available() -> bool:
    try:
        connection = await asyncpg.connect(POSTGRES_URL, timeout=3)
    except (OSError, asyncpg.PostgresError):
        return False
    await connection.close()
    return True


@pytest.fixture(scope="session")
async def postgres_server() -> str:
    """The test PostgreSQL; started (Debian's service) if it is down, never skipped."""
    if not await _postgres_available() and shutil.which("service"):
        starting = await asyncio.create_subprocess_exec(
            "service", "postgresql", "start", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        await asyncio.wait_for(starting.wait(), 120)
        for _ in range(50):
            if await _postgres_available():
                break
            await asyncio.sleep(0.2)
    if not await _postgres_available():
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_URL} and did not start "
            "(SUPPORTDESK_TEST_POSTGRES_URL names another)"
        )
    return POSTGRES_URL


@pytest.fixture
async def postgres_database(postgres_server: str) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"supportdesk_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(postgres_server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = make_url(postgres_server).set(database=name)
    yield url.render_as_string(hide_password=False)
    admin = await asyncpg.connect(postgres_server)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs the test once on an SQLite file and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'supportdesk.db'}"
    url: str = request.getfixturevalue("postgres_database")
    return url


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[..., Settings]:
    def make(database_url: str | None = None, **environ: str) -> Settings:
        env = {"SUPPORTDESK_DATA_DIR": str(tmp_path / "var"), **environ}
        env["SUPPORTDESK_DATABASE_URL"] = database_url or (
            f"sqlite+aiosqlite:///{tmp_path / 'supportdesk.db'}"
        )
        return load_settings(_empty_config(tmp_path), env)

    return make


def _empty_config(folder: Path) -> Path:
    path = folder / "supportdesk.toml"
    if not path.exists():
        path.write_text("# test configuration: defaults only\n")
    return path


@pytest.fixture
async def settings(make_settings: Callable[..., Settings], database_url: str) -> Settings:
    """Settings on a migrated database (both back ends)."""
    result = make_settings(database_url)
    engine = create_engine(result.database.url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    return result


class FixedClock:
    """A clock tests can set and move."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FixedClock:
    from zoneinfo import ZoneInfo

    return FixedClock(datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")))


@pytest.fixture
async def app(settings: Settings, clock: FixedClock) -> AsyncIterator[FastAPI]:
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


CHROMIUM_INSTALLED = Path(CHROMIUM).exists()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian chromium, headless, driven by Playwright."""
    if not CHROMIUM_INSTALLED:
        pytest.skip("Debian chromium is not installed (make test installs it)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()
