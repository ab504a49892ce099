"""The audit page and the console's detail lists in a real browser on the real server:
an auditor filters by keyboard and the filter lands in the address (a link), the event
code sits small under its name, a download arrives as a file; detail lists print words
in the page's font and only codes in a monospace one. A screenshot of the filtered
audit page goes to the test's temporary folder (``audit-screens``)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.browser.test_player_browser import log_in
from tests.live_server import LiveServer, live_server
from tests.server.relay_parties import add_agent

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("audit-pages")) as running:
        add_agent(running, "anna")
        add_agent(running, "rita", "auditor")
        yield running


async def test_detail_lists_print_words_in_the_page_font(
    browser: Browser, server: LiveServer
) -> None:
    page = await log_in(browser, server, "anna")
    await page.get_by_role("button", name="Neue Fernwartung").click()
    number = await page.locator("[data-consultation-number]").inner_text()
    await page.goto(f"{server.url}/console/sessions/{number}")
    font = "(e) => getComputedStyle(e).fontFamily"
    body_font = await page.locator("body").evaluate(font)
    state_font = await page.locator("dd[data-state]").evaluate(font)
    code_font = await page.locator("dl.receipt dd.code").first.evaluate(font)
    assert state_font == body_font and "monospace" not in state_font
    assert "monospace" in code_font
    await page.context.close()


async def test_an_auditor_filters_by_keyboard_and_downloads(
    browser: Browser, server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    page = await log_in(browser, server, "rita")
    await page.goto(f"{server.url}/console/audit")
    rows = page.locator("tr[data-sequence]")
    await expect(rows.first).to_be_visible()
    # The code is there for the auditor, but small and under the name.
    name = page.locator("[data-event-name]").first
    code = page.locator("[data-event-code]").first
    name_size = float((await name.evaluate("(e) => getComputedStyle(e).fontSize"))[:-2])
    code_size = float((await code.evaluate("(e) => getComputedStyle(e).fontSize"))[:-2])
    assert code_size < name_size
    code_box, name_box = await code.bounding_box(), await name.bounding_box()
    assert code_box and name_box and code_box["y"] > name_box["y"]  # below, not beside
    await page.get_by_label("Ereignis").select_option(label="Angemeldet")
    await page.get_by_label("Handelnder").fill("rita")
    await page.get_by_label("Handelnder").press("Enter")
    await expect(page).to_have_url(re.compile(r"event=login\.succeeded&actor=rita"))
    names = await page.locator("[data-event-name]").all_inner_texts()
    assert names and set(names) == {"Angemeldet"}
    actors = await page.locator("[data-actor]").all_inner_texts()
    assert set(actors) == {"rita (Mitarbeiter)"}
    times = await page.locator("[data-time]").all_inner_texts()
    assert all(re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d", t) for t in times), times
    await page.screenshot(
        path=str(tmp_path_factory.mktemp("audit-screens") / "audit-filtered.png"), full_page=True
    )
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="CSV (Excel)").click()
    download = await waiting.value
    assert re.fullmatch(r"audit-trail-\d{8}-\d{6}\.csv", download.suggested_filename)
    saved = await download.path()
    text = (await asyncio.to_thread(Path(saved).read_bytes)).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("Laufnummer;") and len(lines) == 1 + len(names)
    assert all(";login.succeeded;" in line for line in lines[1:])
    await page.context.close()
