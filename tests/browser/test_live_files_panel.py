"""The live page's "Dateien" panel in a real browser: an offer the customer leaves
unanswered is withdrawn after ``transfer.answer_seconds``, and the agent reads why."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.agent_login import sign_in_page
from tests.live_server import LiveServer, live_server
from tests.server.relay_parties import PASSWORD, FakeApplet, add_agent

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("files-panel")
    (folder / "supportdesk.toml").write_text("[transfer]\nanswer_seconds = 2\n")
    with live_server(folder) as running:
        add_agent(running, "anna")
        yield running


async def test_an_unanswered_offer_is_withdrawn_and_the_agent_is_told_why(
    browser: Browser, server: LiveServer, tmp_path: Path
) -> None:
    page = await browser.new_page(viewport={"width": 1400, "height": 1000})
    await sign_in_page(page, server.url, "anna", PASSWORD)
    await page.get_by_role("button", name="Neue Fernwartung").click()
    key = await page.locator("[data-support-key]").inner_text()
    number = await page.locator("[data-consultation-number]").inner_text()
    async with httpx.AsyncClient(base_url=server.url) as customer:
        joined = await customer.post("/api/v1/join", json={"name": "Erika", "support_key": key})
    applet = await FakeApplet.connect(server, joined.json()["token"])
    await applet.next_control("consent_request")
    await applet.send(
        {"type": "consent", "decision": "yes", "capabilities": ["view", "file_transfer"]}
    )
    listening = asyncio.create_task(applet.drain(30))  # the customer never answers
    try:
        await page.goto(server.url + f"/console/sessions/{number}/live")
        guide = tmp_path / "Anleitung.pdf"
        guide.write_bytes(b"%PDF-1.4\n" * 500)
        await page.get_by_label("Datei an den Kunden senden").set_input_files(str(guide))
        await page.get_by_role("button", name="Datei senden").click()
        row = page.locator("[data-files] li", has_text="Anleitung.pdf")
        await expect(row).to_have_attribute("data-state", "offered")
        await expect(row).to_have_attribute("data-state", "cancelled", timeout=15000)
        await expect(row).to_contain_text("abgebrochen (Zeit abgelaufen)")
        withdrawn = [m for m in applet.control if m["type"] == "file_cancel"]
        assert withdrawn and withdrawn[0]["reason"] == "timeout"
    finally:
        listening.cancel()
        await applet.socket.close()
        await page.close()
