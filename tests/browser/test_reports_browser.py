"""The reports page in Chromium on the real server, with a month of sessions seeded in
its database: the charts' bars are the database's counts, the CSV the page offers has
the page's numbers, nothing breaks the CSP, and the page reads in German and English
(screenshots in test-artifacts/)."""

from __future__ import annotations

import csv
import io
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy.ext.asyncio import create_async_engine

from supportdesk.store.database import session_factory
from tests.agent_login import sign_in_page
from tests.browser.share_parties import ARTIFACTS, PASSWORD
from tests.live_server import LiveServer, live_server
from tests.report_seed import BERLIN, seed_month

pytestmark = pytest.mark.browser


def add(server_dir: Any, username: str, role: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "supportdesk", "agents", "add", username,
         "--name", username.title(), "--role", role, "--password-stdin"],
        input=PASSWORD + "\n", cwd=server_dir, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("reports")) as running:
        for name, role in (("anna", "agent"), ("bernd", "agent"), ("sophie", "supervisor")):
            add(running.workdir, name, role)
        yield running


def database(server: LiveServer) -> str:
    found = sorted(server.workdir.rglob("*.db"))
    assert found
    return str(found[0])


async def seed(server: LiveServer) -> None:
    with sqlite3.connect(database(server)) as db:
        if db.execute("SELECT count(*) FROM support_sessions").fetchone()[0]:
            return
        ids = [r[0] for r in db.execute("SELECT id FROM agents WHERE role = 'agent'")]
    engine = create_async_engine(f"sqlite+aiosqlite:///{database(server)}")
    try:
        await seed_month(session_factory(engine), ids, datetime(2026, 11, 1, tzinfo=BERLIN))
    finally:
        await engine.dispose()


def db_counts(server: LiveServer) -> dict[str, Any]:
    """Direct SQL: what the charts must show."""
    with sqlite3.connect(database(server)) as db:
        one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "total": one("SELECT count(*) FROM support_sessions"),
            "ran": one("SELECT count(*) FROM support_sessions WHERE started_at IS NOT NULL"),
            "declined": one("SELECT count(*) FROM support_sessions WHERE state = 'declined'"),
            "key_expired": one(
                "SELECT count(*) FROM support_sessions WHERE state = 'expired' "
                "AND redeemed_at IS NULL"
            ),
            "answers": one("SELECT count(*) FROM survey_answers"),
            "solved_yes": one("SELECT count(*) FROM survey_answers WHERE solved = 'yes'"),
            "diagnostics": one(
                "SELECT count(*) FROM support_sessions WHERE capabilities_used LIKE '%diagnostics%'"
            ),
        }


async def bars(page: Page, chart: str) -> list[tuple[str, int]]:
    found: list[list[Any]] = await page.evaluate(
        """(chart) => [...document.querySelectorAll(`svg[data-chart="chart-${chart}"] rect.bar`)]
            .map((r) => [r.dataset.label, Number(r.dataset.value)])""",
        chart,
    )
    return [(label, int(value)) for label, value in found]


@pytest.mark.parametrize("language", ["de", "en"])
async def test_reports_match_the_database_and_the_csv(
    server: LiveServer, browser: Browser, language: str
) -> None:
    await seed(server)
    ARTIFACTS.mkdir(exist_ok=True)
    context = await browser.new_context(
        ignore_https_errors=True, viewport={"width": 1280, "height": 900}, accept_downloads=True
    )
    page = await context.new_page()
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text else 0)
    await sign_in_page(page, server.url, "sophie", PASSWORD)
    if language == "en":
        await page.goto(server.url + "/sprache/en?next=/console/")
    await page.get_by_role("link", name="Berichte" if language == "de" else "Reports").click()
    await page.get_by_label("Von" if language == "de" else "From").fill("2026-11-01")
    await page.get_by_label("Bis" if language == "de" else "To").fill("2026-11-30")
    await page.get_by_role("button", name="Anzeigen" if language == "de" else "Show").click()
    await expect(page.locator("[data-report-scope]")).to_contain_text("01.11.2026 – 30.11.2026")

    counts = db_counts(server)
    days = await bars(page, "days")
    assert len(days) == 30 and sum(v for _l, v in days) == counts["total"]
    assert sum(v for _l, v in await bars(page, "hours")) == counts["total"]
    assert sum(v for _l, v in await bars(page, "durations")) == counts["ran"]
    outcomes = [v for _l, v in await bars(page, "outcomes")]
    assert outcomes[6] == counts["declined"] and outcomes[7] == counts["key_expired"]
    assert [v for _l, v in await bars(page, "capabilities")][3] == counts["diagnostics"]
    assert sum(v for _l, v in await bars(page, "stars")) <= counts["answers"]
    assert (
        dict(await bars(page, "solved"))["Ja" if language == "de" else "Yes"]
        == counts["solved_yes"]
    )
    totals = page.locator("[data-report-totals]")
    await expect(totals.locator('[data-total="sessions"] strong')).to_have_text(
        str(counts["total"])
    )
    # Each chart is an image with a name, and has its table of the same numbers.
    for chart in ("days", "outcomes"):
        figure = page.locator(f'figure[data-report="{chart}"]')
        await expect(figure.locator("svg[role=img] title").first).not_to_be_empty()
        cells = [int(c) for c in await figure.locator("td[data-count]").all_text_contents()]
        assert cells == [v for _l, v in await bars(page, chart)]
    # A hostile comment is shown as text.
    comments = page.locator("[data-report-comments]")
    await expect(comments).to_contain_text('<script>alert("x")</script>')
    assert await page.evaluate("() => document.querySelectorAll('main script').length") == 0

    async with page.expect_download() as download:
        await page.locator("[data-report-csv]").click()
    path = await (await download.value).path()
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    for chart in ("days", "hours", "durations", "outcomes", "capabilities", "stars", "solved"):
        exported = [int(r[2]) for r in rows if r[0] == chart]
        assert exported == [v for _l, v in await bars(page, chart)], chart
    assert int(next(r[2] for r in rows if r[:2] == ["total", "sessions"])) == counts["total"]

    await page.screenshot(path=str(ARTIFACTS / f"reports-{language}.png"), full_page=True)
    assert not violations, violations
    await context.close()
