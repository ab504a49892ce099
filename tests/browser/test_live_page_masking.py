"""The agent's live page is told, not left guessing: while the customer's PC masks a
secret field it says "Geschützte Eingabe – für den Berater ausgeblendet", while the
Sichtschutz is on it says so, and the line goes when the masks do."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, expect

from tests.browser.test_live_page_link import agent_with_a_key
from tests.live_server import LiveServer, live_server
from tests.server.relay_parties import FakeApplet, add_agent, join_token

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("live-masking")) as running:
        add_agent(running, "anna")
        yield running


async def test_the_live_page_says_when_the_customer_masks(
    browser: Browser, server: LiveServer
) -> None:
    page, key, number = await agent_with_a_key(browser, server)
    applet = await FakeApplet.connect(server, await join_token(server, key))
    await applet.next_control("consent_request")
    await applet.send({"type": "consent", "decision": "yes", "capabilities": ["view"]})
    await page.goto(f"{server.url}/console/sessions/{number}/live")
    notice = page.locator("[data-notice]")
    await expect(page.locator("[data-live]")).to_have_attribute("data-state", "active")

    await applet.send({"type": "masking", "kinds": ["secret_input"]})
    await expect(notice).to_have_text("Geschützte Eingabe – für den Berater ausgeblendet")
    await expect(notice).to_be_visible()
    await applet.send({"type": "masking", "kinds": ["privacy", "secret_input"]})
    await expect(notice).to_have_text(
        "Sichtschutz an: Der Kunde gibt etwas Vertrauliches ein. Sitzung und Chat laufen weiter."
    )
    await applet.send({"type": "masking", "kinds": []})
    await expect(notice).to_be_hidden()
