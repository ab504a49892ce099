"""Accessibility audit of every page: axe-core (npm ``axe-core``) injected by Playwright
into Debian chromium runs the WCAG 2.0, 2.1 and 2.2 A and AA rules on each stop of
:mod:`tests.browser.page_tour` (every portal page, and every console page as each role
that sees it differently), in German and English, at 1366x768 and 390x844. No serious
or critical violation may remain.

A new page cannot be missed: the GET routes are read from the FastAPI app itself, and
every one must either have been reached by a stop (the URL a stop ends on matches it) or
be named in ``NOT_PAGES`` with the reason it is not a page. The report of each run (the
stops, the route each ended on, every violation of any impact) is printed and written
to ``test-artifacts/accessibility/<language>-<viewport>.txt``.

The contexts bypass the page's Content-Security-Policy: only so that Playwright may
inject axe's script; the pages' own behaviour does not depend on it.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from playwright.async_api import Browser, Page
from starlette.routing import compile_path

from supportdesk.config import load_settings
from supportdesk.server.app import create_app
from tests.browser import page_tour
from tests.browser.page_tour import STOPS, Desk
from tests.conftest import CHROMIUM_INSTALLED
from tests.live_server import LiveServer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM_INSTALLED, reason="Debian chromium is not installed"),
]
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
REPORTS = ROOT / "test-artifacts" / "accessibility"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}
VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}

# GET routes that are not pages a person reads, each with the reason.
NOT_PAGES: dict[str, str] = {
    "/healthz": "liveness probe for the load balancer (JSON)",
    "/readyz": "readiness probe for the load balancer (JSON)",
    "/metrics": "Prometheus metrics (text)",
    "/branding/brand.css": "the bank's colours, a stylesheet",
    "/branding/logo": "the bank's logo, an image",
    "/api/v1/hotlines": "REST API (JSON)",
    "/api/v1/openapi.json": "the API's OpenAPI document (JSON)",
    "/api/docs": "Swagger UI for developers (scripts from a CDN)",
    "/sprache/{language}": "sets the language cookie and redirects back (303), no page",
    "/fernwartung/browser": "GET redirects to the form; the page answers a POST",
    "/fernwartung/programm/{slug}": "a program file; its 'not built' page is audited",
    "/console/sessions/{number}/files/{transfer_id}": "download of a transferred file",
    "/console/sessions/{number}/colleagues": "JSON for the live page's hand-over dialog",
    "/console/reports.csv": "the reports' numbers as a CSV download",
}  # fmt: skip


def app_routes() -> list[tuple[str, set[str], re.Pattern[str]]]:
    """Every HTTP route of the app: its path format, its methods, the pattern it matches."""
    folder = Path(__import__("tempfile").mkdtemp())
    config = folder / "supportdesk.toml"
    config.write_text("")
    settings = load_settings(
        config,
        {
            "SUPPORTDESK_DATA_DIR": str(folder),
            "SUPPORTDESK_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'routes.db'}",
        },
    )
    app = create_app(settings)  # routes only: the lifespan (database, bus) never runs
    return [
        (route.path, set(route.methods), compile_path(route.path)[0])
        for route in iter_route_contexts(app.routes)
        if route.path and route.methods
    ]


def get_routes() -> set[str]:
    """The GET routes: each is a page or named in NOT_PAGES."""
    return {path for path, methods, _ in app_routes() if "GET" in methods}


@dataclass
class Visited:
    stop: str
    route: str | None
    url: str
    violations: list[dict[str, Any]]
    seconds: float

    @property
    def blocking(self) -> list[dict[str, Any]]:
        return [v for v in self.violations if v["impact"] in BLOCKING]


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with page_tour.chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with page_tour.running_server(tmp_path_factory.mktemp("a11y")) as running:
        yield running


@pytest.fixture(scope="module")
async def desk(server: LiveServer, browser: Browser) -> AsyncIterator[Desk]:
    async for made in page_tour.desk_with_state(server, browser):
        yield made


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe's violations on the page with every folded section opened: axe skips hidden
    content, and the legal text of /fernwartung lives in <details>."""
    await page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
    await page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = await page.evaluate(
        """(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags},
                                        resultTypes: ['violations']})""",
        WCAG_TAGS,
    )
    return list(result["violations"])


def route_of(url: str, routes: list[tuple[str, set[str], re.Pattern[str]]]) -> str | None:
    """The route a page's address belongs to; a page answering a POST (a form's
    confirmation step) may have a route without GET, then it is named with its method."""
    path = re.sub(r"^https?://[^/]+", "", url).split("?")[0]
    matching = [(route, methods) for route, methods, pattern in routes if pattern.match(path)]
    for route, methods in matching:
        if "GET" in methods:
            return route
    return next((f"{sorted(methods)[0]} {route}" for route, methods in matching), None)


def describe(violation: dict[str, Any]) -> str:
    nodes = violation["nodes"]
    where = "; ".join(
        f"{' '.join(n['target'])}: {n.get('failureSummary', '').splitlines()[-1].strip()}"
        for n in nodes[:3]
    )
    more = f" (+{len(nodes) - 3} more)" if len(nodes) > 3 else ""
    return f"{violation['impact']} {violation['id']}: {violation['help']} — {where}{more}"


def report(name: str, visited: list[Visited]) -> str:
    lines = [f"axe-core {WCAG_TAGS} — {name}: {len(visited)} pages"]
    for v in visited:
        route = v.route or "(no route: 404)"
        lines.append(f"  {v.stop:<45} {route:<40} {len(v.violations)} issue(s) {v.seconds:4.1f} s")
        lines += [f"      {describe(x)}" for x in v.violations]
    text = "\n".join(lines)
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"{name}.txt").write_text(text + "\n")
    return text


def test_no_stale_excuses() -> None:
    """Every route excused as "not a page" still exists."""
    assert not set(NOT_PAGES) - set(get_routes()), set(NOT_PAGES) - set(get_routes())


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
@pytest.mark.parametrize("language", ["de", "en"])
async def test_every_page_has_no_serious_violation(
    browser: Browser, desk: Desk, language: str, viewport: str
) -> None:
    routes = app_routes()
    visited: list[Visited] = []
    async with page_tour.open_rooms(
        browser, desk, language, VIEWPORTS[viewport], bypass_csp=True
    ) as rooms:
        for stop in STOPS:
            started = time.monotonic()
            page = await stop.visit(rooms)
            lang = await page.evaluate("document.documentElement.lang")
            assert lang == language, (stop.name, lang)
            violations = await axe_violations(page)
            route = route_of(page.url, routes)
            assert (route is not None) == stop.routed, (stop.name, page.url, route)
            visited.append(
                Visited(stop.name, route, page.url, violations, time.monotonic() - started)
            )
    text = report(f"{language}-{viewport}", visited)
    print(text)

    missed = get_routes() - {v.route for v in visited} - set(NOT_PAGES)
    assert not missed, f"GET routes no stop reached (add a stop, or excuse in NOT_PAGES): {missed}"
    blocking = [f"{v.stop}: {describe(x)}" for v in visited for x in v.blocking]
    assert not blocking, "serious or critical violations:\n" + "\n".join(blocking)
