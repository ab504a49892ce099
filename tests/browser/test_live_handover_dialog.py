"""The live page's hand-over dialog in Chromium: Anna picks Bernd, who is online, and
hands the session over; the customer's side is told, Anna's page says she no longer
works on it, and Bernd's live page shows him responsible, in control."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.browser.test_player_browser import log_in
from tests.live_server import LiveServer, live_server
from tests.server.relay_parties import FakeApplet, add_agent, join_token

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("live-handover")) as running:
        add_agent(running, "anna")
        add_agent(running, "bernd")
        yield running


async def test_anna_hands_the_session_to_bernd_from_the_dialog(
    browser: Browser, server: LiveServer
) -> None:
    anna = await log_in(browser, server, "anna")
    bernd = await log_in(browser, server, "bernd")  # his overview open: he is online
    await anna.get_by_role("button", name="Neue Fernwartung").click()
    key = await anna.locator("[data-support-key]").inner_text()
    number = await anna.locator("[data-consultation-number]").inner_text()
    applet = await FakeApplet.connect(server, await join_token(server, key))
    await applet.next_control("consent_request")
    await applet.send({"type": "consent", "decision": "yes", "capabilities": ["view", "control"]})
    await anna.goto(f"{server.url}/console/sessions/{number}/live")
    await expect(anna.locator("[data-live]")).to_have_attribute("data-state", "active")
    await expect(anna.locator('[data-field="owner"]')).to_have_text("Anna (steuert)")

    await anna.get_by_role("button", name="Übergeben oder Kollegen hinzuziehen …").click()
    dialog = anna.get_by_role("dialog", name="Sitzung übergeben oder Kollegen hinzuziehen")
    await expect(dialog).to_be_visible()
    colleague = dialog.get_by_label("Kollegin oder Kollege")
    await expect(colleague.locator("option")).to_have_text(["Bernd"])
    await expect(dialog.get_by_label("Sitzung übergeben")).to_be_checked()
    SHOTS.mkdir(parents=True, exist_ok=True)
    await anna.screenshot(path=str(SHOTS / "live-handover-dialog.png"))
    await dialog.get_by_role("button", name="Bestätigen").click()

    left = await applet.next_control("agent_notice")  # who left is told first
    assert (left["change"], left["agent_name"]) == ("left", "Anna")
    notice = await applet.next_control("agent_notice")
    assert (notice["change"], notice["agent_name"]) == ("took_over", "Bernd")
    await expect(anna.locator("[data-team-status]")).to_have_text(
        "Sie arbeiten nicht mehr an dieser Sitzung."
    )
    await bernd.goto(f"{server.url}/console/sessions/{number}/live")
    await expect(bernd.locator("[data-live]")).to_have_attribute("data-state", "active")
    await expect(bernd.locator('[data-field="owner"]')).to_have_text("Bernd (steuert)")
    await expect(bernd.locator("[data-live]")).to_have_attribute("data-control", "yes")
    await bernd.screenshot(path=str(SHOTS / "live-handover-taken.png"))
    await applet.socket.close()
    for page in (anna, bernd):
        await page.context.close()
