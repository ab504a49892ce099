"""HSTS and the cookies' ``Secure`` and ``__Host-`` follow the configured public address,
not the request: behind a TLS proxy every request reaches the node as plain http
(tests/server/test_behind_tls_proxy.py shows it through HAProxy)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from supportdesk.config import Settings
from supportdesk.server.app import create_app
from supportdesk.store.database import create_engine
from supportdesk.store.migrate import upgrade


@pytest.fixture
async def https_site(make_settings: Callable[..., Settings]) -> AsyncIterator[httpx.AsyncClient]:
    """The app configured for https://desk.example, asked over plain http."""
    settings = make_settings(SUPPORTDESK_SERVER_PUBLIC_URL="https://desk.example")
    engine = create_engine(settings.database.url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://desk.example") as c:
            yield c


async def test_hsts_from_the_configured_address(https_site: httpx.AsyncClient) -> None:
    response = await https_site.get("/healthz")
    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_cookies_are_host_and_secure_though_the_request_came_as_http(
    https_site: httpx.AsyncClient,
) -> None:
    page = await https_site.get("/console/login")
    (cookie,) = [c for c in page.headers.get_list("set-cookie") if "sd_csrf" in c]
    assert cookie.startswith("__Host-sd_csrf=")
    assert "secure" in cookie.lower() and "path=/" in cookie.lower()
    language = await https_site.get("/sprache/en", follow_redirects=False)
    assert all("secure" in c.lower() for c in language.headers.get_list("set-cookie"))
