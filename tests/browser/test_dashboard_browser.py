"""The dashboard in a real browser: a key issued in another tab shows up with its
countdown ticking, and once the customer (another client) redeems it, the row says
so with the customer's name within 2 s, all without a reload; the session tables and
the queue share their column edges. The live page at 600x900 stacks its panels
instead of overlapping them. Screenshots go to the test's temporary folder
(``dashboard-screens``) for a person to look at."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.test_player_browser import log_in
from tests.live_server import LiveServer, live_server
from tests.server.relay_parties import add_agent

pytestmark = pytest.mark.browser
PROMPTLY = 2.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("dashboard")) as running:
        add_agent(running, "anna")
        add_agent(running, "sven", "supervisor")
        yield running


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dashboard-screens")


def seconds(figure: str) -> int:
    """``m:ss`` or ``h:mm:ss`` as seconds."""
    total = 0
    for part in figure.strip().split(":"):
        total = total * 60 + int(part)
    return total


async def issue_key(page: Page) -> tuple[str, str]:
    """Press "Neue Fernwartung" in a second tab of the same login: the key and number."""
    tab = await page.context.new_page()
    await tab.goto(page.url)
    await tab.get_by_role("button", name="Neue Fernwartung").click()
    key = (await tab.locator("[data-support-key]").inner_text()).strip()
    number = (await tab.locator("[data-consultation-number]").inner_text()).strip()
    await tab.close()
    return key, number


async def redeem(server: LiveServer, key: str, name: str) -> None:
    async with httpx.AsyncClient(base_url=server.url) as customer:
        answer = await customer.post("/api/v1/join", json={"name": name, "support_key": key})
    assert answer.status_code == 200, answer.text


async def test_a_redeemed_key_appears_without_a_reload(
    browser: Browser, server: LiveServer, screens: Path
) -> None:
    page = await log_in(browser, server, "anna")
    await page.set_viewport_size({"width": 1366, "height": 768})
    dashboard = page.locator("[data-dashboard]")
    await expect(dashboard).to_have_attribute("data-socket", "open")
    await page.evaluate("window.notReloaded = true")

    key, number = await issue_key(page)
    row = page.locator(f'[data-table="mine"] tr[data-session="{number}"]')
    await expect(row).to_have_attribute("data-state", "issued", timeout=PROMPTLY * 1000)
    await expect(row).to_contain_text("Schlüssel gültig noch")
    figure = row.locator("[data-clock=down] .figure")
    first = seconds(await figure.inner_text())
    assert 8 * 60 < first <= 10 * 60, first
    await asyncio.sleep(2.2)
    later = seconds(await figure.inner_text())
    assert 1 <= first - later <= 4, (first, later)  # it ticks down, once a second

    started = time.monotonic()
    await redeem(server, key, "Erika Mustermann")
    answered = time.monotonic()
    await expect(row).to_have_attribute("data-state", "redeemed", timeout=PROMPTLY * 1000)
    assert time.monotonic() - answered < PROMPTLY, time.monotonic() - started
    await expect(row).to_contain_text("Erika Mustermann")
    await expect(row).to_contain_text("Schlüssel eingelöst")
    await expect(row.locator("[data-clock=up]")).to_contain_text("Kunde wartet")
    assert await page.evaluate("window.notReloaded === true")  # no reload happened
    await page.screenshot(path=str(screens / "dashboard-agent-1366.png"), full_page=True)
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.screenshot(path=str(screens / "dashboard-agent-390.png"), full_page=True)
    assert await page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    await page.context.close()


async def test_the_supervisors_tables_line_up(
    browser: Browser, server: LiveServer, screens: Path
) -> None:
    page = await log_in(browser, server, "sven")
    await page.set_viewport_size({"width": 1366, "height": 768})
    key, _number = await issue_key(page)
    await redeem(server, key, "Otto Normal")
    await page.reload()
    tables = page.locator("table[data-table]")
    assert await tables.count() == 3  # mine, every open session, the queue
    edges = await page.evaluate(
        """() => [...document.querySelectorAll('table[data-table]')].map(
              (t) => [...t.querySelectorAll('thead th')].map((th) => {
                  const box = th.getBoundingClientRect();
                  return [Math.round(box.left), Math.round(box.right)]; }))"""
    )
    assert all(len(columns) == 6 for columns in edges), edges
    assert edges[0] == edges[1] == edges[2], edges
    await page.screenshot(path=str(screens / "dashboard-supervisor-1366.png"), full_page=True)
    await page.context.close()


async def test_the_live_page_stacks_its_panels_when_narrow(
    browser: Browser, server: LiveServer, screens: Path
) -> None:
    page = await log_in(browser, server, "anna")
    key, number = await issue_key(page)
    await redeem(server, key, "Erika Mustermann")
    await page.set_viewport_size({"width": 600, "height": 900})
    await page.goto(f"{server.url}/console/sessions/{number}/live")
    screen = await page.locator("[data-live] section.screen").bounding_box()
    side = await page.locator("[data-live] aside.side").bounding_box()
    assert screen and side
    # Stacked: the side panel starts below the screen, and neither is wider than the page.
    assert side["y"] >= screen["y"] + screen["height"], (screen, side)
    for box in (screen, side):
        assert box["x"] >= 0 and box["x"] + box["width"] <= 600, box
    overflowing = await page.evaluate(
        """() => [...document.querySelectorAll('[data-live] *')].filter((e) => {
              const box = e.getBoundingClientRect();
              return box.width > 0 && box.right > innerWidth + 1;
           }).map((e) => e.outerHTML.slice(0, 80))"""
    )
    assert not overflowing, overflowing
    await page.screenshot(path=str(screens / "live-600.png"), full_page=True)
    await page.context.close()
