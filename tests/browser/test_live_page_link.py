"""The agent's live page while the customer's link is away: it says so, counts the
seconds, and clears when the customer is back."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from websockets.asyncio.client import connect

from tests.browser.test_browser_share_resume import proxied_server
from tests.browser.test_player_browser import log_in
from tests.live_server import LiveServer, live_server
from tests.server.relay_parties import FakeApplet, add_agent, join_token

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(
        tmp_path_factory.mktemp("live-link"), SUPPORTDESK_SESSION_RECONNECT_GRACE_SECONDS="60"
    ) as running:
        add_agent(running, "anna")
        yield running


async def agent_with_a_key(browser: Browser, server: LiveServer) -> tuple[Page, str, str]:
    """Anna signed in at ``server.url``, having issued a key: page, key, number."""
    page = await log_in(browser, server, "anna")
    await page.get_by_role("button", name="Neue Fernwartung").click()
    key = await page.locator("[data-support-key]").inner_text()
    number = await page.locator("[data-consultation-number]").inner_text()
    return page, key, number


async def test_the_live_page_counts_while_the_customer_is_away(
    browser: Browser, server: LiveServer
) -> None:
    page, key, number = await agent_with_a_key(browser, server)
    applet = await FakeApplet.connect(server, await join_token(server, key))
    await applet.next_control("consent_request")
    await applet.send({"type": "consent", "decision": "yes", "capabilities": ["view"]})
    secret = (await applet.next_control("resume"))["secret"]
    await page.goto(f"{server.url}/console/sessions/{number}/live")
    notice = page.locator("[data-notice]")
    await expect(page.locator("[data-live]")).to_have_attribute("data-state", "active")

    await applet.socket.close()
    lost = re.compile(
        r"^Verbindung zum Kunden unterbrochen – wird wiederhergestellt … \((\d+) s\)$"
    )
    await expect(notice).to_have_text(lost)
    await expect(notice).to_have_text(re.compile(r"\(([2-9]|\d\d) s\)$"), timeout=5000)

    socket = await connect(
        server.url.replace("http", "ws", 1) + "/ws/applet",
        additional_headers={"Authorization": f"Resume {number} {secret}"},
    )
    await FakeApplet(socket).next_control("resume")
    await expect(notice).to_be_hidden()
    await socket.close()


async def test_the_live_page_says_ctrl_alt_del_is_the_customers_on_windows(
    browser: Browser, server: LiveServer
) -> None:
    page, key, number = await agent_with_a_key(browser, server)
    applet = await FakeApplet.connect(server, await join_token(server, key))
    await applet.next_control("consent_request")
    await applet.send({"type": "consent", "decision": "yes", "capabilities": ["view", "control"]})
    await page.goto(f"{server.url}/console/sessions/{number}/live")
    await expect(page.locator("[data-live]")).to_have_attribute("data-state", "active")
    button = page.get_by_role("button", name="Strg+Alt+Entf")
    note = page.locator("[data-cad-note]")
    await applet.send({"type": "hello", "screens": [], "platform": "windows"})
    await expect(button).to_be_disabled()
    await expect(note).to_have_text(
        "Der PC des Kunden läuft unter Windows: Dort kann das Support-Programm "
        "Strg+Alt+Entf nicht drücken. Bitten Sie den Kunden, die Tasten selbst zu drücken."
    )
    await expect(note).to_be_visible()
    # On X11 the keys are ordinary keys; a crafted platform counts as unknown.
    for platform in ("x11", "<img src=x onerror=alert(1)>"):
        await applet.send({"type": "hello", "screens": [], "platform": platform})
        await expect(button).to_be_enabled()
        await expect(note).to_be_hidden()
    await applet.socket.close()


async def test_the_live_page_gets_its_control_socket_back_after_a_cut(
    browser: Browser, tmp_path: Path
) -> None:
    with proxied_server(tmp_path) as proxied:
        # The agent reaches the server through the proxy this time.
        page, key, number = await agent_with_a_key(browser, proxied.customer)
        applet = await FakeApplet.connect(proxied.server, await join_token(proxied.server, key))
        await applet.next_control("consent_request")
        await applet.send({"type": "consent", "decision": "yes", "capabilities": ["view"]})
        await page.goto(f"{proxied.customer.url}/console/sessions/{number}/live")
        live = page.locator("[data-live]")
        await expect(live).to_have_attribute("data-control-socket", "open")
        await page.evaluate(
            "() => { document.querySelector('[data-live]').dataset.controlSocket = 'cut'; }"
        )
        proxied.proxy.cut()  # every connection through the proxy is reset
        await expect(live).to_have_attribute("data-control-socket", "open", timeout=10_000)
        # The new socket works: the customer's chat arrives, the agent's goes out.
        await applet.send({"type": "chat", "text": "Sind Sie noch da?"})
        await expect(page.locator("[data-chat]")).to_contain_text("Sind Sie noch da?")
        await page.get_by_label("Nachricht an den Kunden").fill("Ja, wieder verbunden.")
        await page.get_by_role("button", name="Senden", exact=True).click()
        async with asyncio.timeout(10):
            while (await applet.next_control("chat"))["text"] != "Ja, wieder verbunden.":
                pass  # the customer's own line comes back first
