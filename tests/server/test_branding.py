"""Branding through the real app and database: the generated stylesheet carries the
configured colours, the logo is served with its type, every portal page's footer links
the bank's legal pages in both languages, and the home page at night shows the 24-hour
service open on a line of its own while the hotlines are closed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from supportdesk.config import Settings
from supportdesk.server.app import create_app
from supportdesk.server.pages import browser_share, portal, program_download
from supportdesk.store.database import create_engine
from supportdesk.store.migrate import upgrade
from tests.brand_files import png_bytes, write_png
from tests.conftest import FixedClock
from tests.server.page_parts import part, parts
from tests.server.test_browser_share_route import agent_client, hidden, ready_page
from tests.server.test_support_sessions import customer

__all__ = ["agent_client"]  # a fixture, used by name

BERLIN = ZoneInfo("Europe/Berlin")
IMPRESSUM = "https://www.example-bank.de/impressum"
PRIVACY = "https://www.example-bank.de/datenschutz"


@pytest.fixture
async def settings(
    make_settings: Callable[..., Settings], database_url: str, tmp_path: Path
) -> Settings:
    """A bank that is not LIGA: its own PNG logo, colours and legal pages."""
    result = make_settings(
        database_url,
        SUPPORTDESK_BRAND_LOGO=str(write_png(tmp_path, width=6, height=3)),
        SUPPORTDESK_BRAND_PRIMARY_COLOR="#7A1F5C",
        SUPPORTDESK_BRAND_ACCENT_COLOR="#0b6e4f",
        SUPPORTDESK_BRAND_IMPRESSUM_URL=IMPRESSUM,
        SUPPORTDESK_BRAND_PRIVACY_URL=PRIVACY,
        SUPPORTDESK_PORTAL_BANK_NAME="Beispielbank eG",
    )
    engine = create_engine(result.database.url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    return result


def _routes(routes: list[object]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        inner = getattr(route, "original_router", None) or getattr(route, "router", None)
        if inner is not None and hasattr(inner, "routes"):
            yield from _routes(inner.routes)


def portal_pages() -> list[str]:
    """Every GET page of the portal's routers without a path parameter: a new page
    there is checked without anyone adding it here."""
    found = [
        route.path
        for router in (portal.router, browser_share.router, program_download.router)
        for route in _routes(list(router.routes))
        if "GET" in route.methods
        and "{" not in route.path
        and not route.path.startswith("/sprache")
    ]
    assert "/" in found and "/fernwartung" in found and "/serviceauftrag" in found
    return found


def assert_legal_footer(html: str, where: str) -> None:
    footer = part(html, "class", "site", tag="footer")
    links = {link.get("href") for link in footer.links if "data-legal" in link}
    assert links == {IMPRESSUM, PRIVACY}, where


async def test_the_stylesheet_carries_the_configured_colours(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    sheets = [str(tag.attributes["href"]) for tag in parts(page.text, "rel", "stylesheet")]
    href = next(sheet for sheet in sheets if "/branding/" in sheet)
    assert href.startswith("/branding/brand.css?v=")
    # After portal.css, so its values win over the built-in ones.
    assert page.text.index("/static/portal.css") < page.text.index(href)
    sheet = await client.get(href)
    assert sheet.status_code == 200
    assert sheet.headers["content-type"] == "text/css; charset=utf-8"
    assert "--brand-primary: #7a1f5c;" in sheet.text
    assert "--brand-accent: #0b6e4f;" in sheet.text
    # The portal's own stylesheet paints with those two properties.
    portal_css = (await client.get("/static/portal.css")).text
    assert "--brand: var(--brand-primary);" in portal_css
    assert "--brand-dark: var(--brand-accent);" in portal_css


async def test_the_logo_is_served_as_png_at_its_fixed_url(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    logo = part(page.text, "class", "logo", tag="img")
    assert str(logo.attributes["src"]).startswith("/branding/logo?v=")
    assert logo.attributes["alt"] == ""  # the bank's name stands beside it as text
    for url in (str(logo.attributes["src"]), "/branding/logo"):
        served = await client.get(url)
        assert served.status_code == 200
        assert served.headers["content-type"] == "image/png"
        assert served.headers["x-content-type-options"] == "nosniff"
        assert served.content == png_bytes(width=6, height=3)
    assert "Beispielbank eG" in part(page.text, "class", "brand", tag="div").text


async def test_the_default_logo_is_svg_and_cannot_run_anything(
    make_settings: Callable[..., Settings], clock: FixedClock
) -> None:
    app = create_app(make_settings(), clock=clock)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        served = await client.get("/branding/logo")
        assert served.headers["content-type"] == "image/svg+xml"
        assert served.content.lstrip().startswith(b"<svg")
        assert "sandbox" in served.headers["content-security-policy"]
        assert "default-src 'none'" in served.headers["content-security-policy"]
        sheet = await client.get("/branding/brand.css")
        assert "--brand-primary: #0066b3;" in sheet.text
        page = await client.get("/")
        footer = part(page.text, "class", "site", tag="footer")
        assert {link["href"] for link in footer.links if "data-legal" in link} == {
            "https://www.ligabank.de/impressum.html",
            "https://www.ligabank.de/datenschutz.html",
        }


@pytest.mark.parametrize("language", ["de", "en"])
async def test_every_portal_page_links_impressum_and_privacy(
    client: httpx.AsyncClient, language: str
) -> None:
    await client.get(f"/sprache/{language}")
    for path in portal_pages():
        page = await client.get(path, follow_redirects=True)
        assert page.status_code == 200, path
        assert f'<html lang="{language}">' in page.text, path
        assert_legal_footer(page.text, path)
        footer = part(page.text, "class", "site", tag="footer")
        words = {"de": ("Impressum", "Datenschutz"), "en": ("Legal notice", "Privacy")}[language]
        assert all(word in footer.text for word in words), (path, footer.text)
        # The legal pages are German: an English page says so to the browser.
        hreflangs = {link.get("hreflang") for link in footer.links if "data-legal" in link}
        assert hreflangs == ({None} if language == "de" else {"de"}), path
    # The page an unknown address, and the answer to a wrong key, show.
    missing = await client.get("/gibt-es-nicht")
    assert missing.status_code == 404
    assert_legal_footer(missing.text, "404")
    login = await client.get("/console/login")
    assert_legal_footer(login.text, "/console/login")


async def test_the_console_header_wears_the_brand(client: httpx.AsyncClient) -> None:
    login = await client.get("/console/login")
    assert "/branding/brand.css?v=" in login.text
    assert str(part(login.text, "class", "logo", tag="img").attributes["src"]).startswith(
        "/branding/logo?v="
    )


async def test_at_night_the_blocking_service_is_open_and_the_hotlines_closed(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    clock.now = datetime(2026, 11, 30, 23, 30, tzinfo=BERLIN)  # Monday night
    page = await client.get("/")
    service = part(page.text, "data-service", "online-banking")
    assert "24-Stunden-Sperrservice für Onlinemedien" in service.text
    assert part(service_html(page.text), "data-status").text == "rund um die Uhr erreichbar"
    assert "geschlossen" not in service.text
    assert {link["href"] for link in service.links} == {"tel:+499414095387"}
    assert "0941 4095-387" in service.text and "Auswahl 1" in service.text
    # It comes before the hotlines, on a line of its own: no line's "closed" beside it.
    assert page.text.index('data-service="online-banking"') < page.text.index("data-hotline=")
    for line in ("online-banking", "profi-cash-ebics"):
        status = part(page.text, "data-hotline", line)
        assert "geschlossen — wieder erreichbar morgen ab" in status.text, status.text
        assert "24-Stunden-Sperrservice" not in status.text
    # On a public holiday at 3 in the morning too.
    clock.now = datetime(2026, 12, 25, 3, 0, tzinfo=BERLIN)
    page = await client.get("/")
    assert part(service_html(page.text), "data-status").text == "rund um die Uhr erreichbar"


def service_html(html: str) -> str:
    """The round-the-clock section alone."""
    start = html.index('<section class="round-the-clock"')
    return html[start : html.index("</section>", start)]


async def test_the_english_home_page_gives_international_numbers(
    client: httpx.AsyncClient, clock: FixedClock
) -> None:
    clock.now = datetime(2026, 11, 30, 23, 30, tzinfo=BERLIN)
    await client.get("/sprache/en")
    page = await client.get("/")
    service = part(page.text, "data-service", "online-banking")
    assert "24-hour blocking service for online media" in service.text
    assert "reachable around the clock" in service.text and "+49 941 4095-387" in service.text
    for line, numbers in {
        "online-banking": ["+49 941 4095-387"],
        "pos-card-process": ["+49 721 1209 66003", "+49 721 1209 66008"],
    }.items():
        text = part(page.text, "data-hotline", line).text
        for number in numbers:
            assert number in text, (line, text)
    assert "0941 4095-387" not in page.text and "0721 1209" not in page.text
    remote = await client.get("/fernwartung")
    assert "+49 941 4095-387" in remote.text
    # German pages keep the numbers as they are dialled at home.
    await client.get("/sprache/de")
    german = await client.get("/")
    assert "0941 4095-387" in german.text and "+49 941" not in german.text


async def test_the_answers_to_the_join_form_carry_the_footer_too(
    app: FastAPI, agent_client: httpx.AsyncClient
) -> None:
    """The pages only a POST shows: the choice after "Weiter >>" and the screen-sharing
    page, where leaving ends the session, so its legal links open a new window."""
    _issued, ready = await ready_page(app, agent_client)
    assert_legal_footer(ready, "join_ready")
    async with await customer(app) as browser:
        csrf = hidden(ready, "csrf_token")
        browser.cookies.set("sd_csrf", csrf)
        share = await browser.post(
            "/fernwartung/browser",
            data={"join_token": hidden(ready, "join_token"), "csrf_token": csrf},
        )
    assert share.status_code == 200
    assert_legal_footer(share.text, "browser_share")
    footer = part(share.text, "class", "site", tag="footer")
    legal = [link for link in footer.links if "data-legal" in link]
    assert all(link["target"] == "_blank" and link["rel"] == "noopener" for link in legal)
    assert footer.text.count("(öffnet in einem neuen Fenster)") == 2
    # Everywhere else they open in place.
    home = await agent_client.get("/")
    assert 'target="_blank"' not in home.text
