"""The people around the customer's screen-sharing page in browser tests: the agent who
issues a key and talks to the relay over the console's control socket, and the
customer who redeems it on the portal and opens the browser way."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect

from tests.agent_login import sign_in_page
from tests.live_server import LiveServer, add_agent, live_server, self_signed_certificate

ARTIFACTS = Path(__file__).parent.parent.parent / "test-artifacts"
PASSWORD = "korrekt pferd batterie heftklammer"
AGENT_NAME = "Anna Berger"
VIEWPORT: ViewportSize = {"width": 1366, "height": 768}


@contextmanager
def server_with_agent(folder: Path) -> Iterator[LiveServer]:
    """The real server over TLS with one agent, Anna Berger (user anna)."""
    tls = self_signed_certificate(folder)
    with live_server(folder, tls=tls) as running:
        add_agent(running, AGENT_NAME, PASSWORD)
        yield running


async def agent_page(browser: Browser, server: LiveServer) -> Page:
    context = await browser.new_context(
        ignore_https_errors=True, viewport={"width": 1000, "height": 700}
    )
    page = await context.new_page()
    await sign_in_page(page, server.url, "anna", PASSWORD)
    await expect(page.get_by_role("heading", name="Übersicht")).to_be_visible()
    return page


async def issue_key(agent: Page) -> dict[str, str]:
    """The agent presses "Neue Fernwartung": key, consultation number, verification code."""
    await agent.get_by_role("button", name="Neue Fernwartung").click()
    return {
        "key": await agent.locator("[data-support-key]").inner_text(),
        "number": await agent.locator("[data-consultation-number]").inner_text(),
        "code": await agent.locator("[data-verification-code]").inner_text(),
    }


async def customer_context(browser: Browser, language: str) -> BrowserContext:
    context = await browser.new_context(ignore_https_errors=True, viewport=VIEWPORT)
    if language == "en":
        await context.add_cookies(
            [{"name": "sd_lang", "value": "en", "domain": "127.0.0.1", "path": "/"}]
        )
    return context


async def open_browser_way(
    page: Page, server: LiveServer, key: str, ready_shot: Path | None = None
) -> str:
    """Name and key on /fernwartung/start, "Weiter >>", then the browser way (with a
    screenshot of the two ways at ``ready_shot``). Returns the served HTML of the
    screen-sharing page."""
    await page.goto(server.url + "/fernwartung/start")
    await page.locator("#name").fill("Erika Müller")
    await page.locator("#support_key").fill(key)
    await page.locator('form[action="/fernwartung/start"] button[type=submit]').click()
    way = page.locator('form[action="/fernwartung/browser"] button[type=submit]')
    await expect(way).to_be_visible()
    if ready_shot is not None:
        await page.screenshot(path=str(ready_shot), full_page=True)
    async with page.expect_response(lambda r: r.url.endswith("/fernwartung/browser")) as info:
        await way.click()
    response = await info.value
    assert response.status == 200
    return await response.text()


# The agent's side, run inside the agent's console page (same origin, its cookies): a
# control socket of its own (a fresh ticket from the live page), and a video viewer.
AGENT_SOCKETS = """
async (number) => {
    const html = await (await fetch(`/console/sessions/${number}/live`)).text();
    const live = new DOMParser().parseFromString(html, "text/html").querySelector("[data-live]");
    const wss = (path) => new URL(path, location.href).href.replace(/^http/, "ws");
    const control = new WebSocket(wss(live.dataset.controlUrl));
    window.agent = { control, received: [], video: { config: null, chunks: 0, firstFlags: null } };
    control.onmessage = (event) => window.agent.received.push(JSON.parse(event.data));
    await new Promise((resolve, reject) => { control.onopen = resolve; control.onerror = reject; });
    window.agent.watch = async () => {
        control.send(JSON.stringify({ type: "viewer_ticket" }));
        let ticket = null;
        while (!ticket) {
            await new Promise((r) => setTimeout(r, 50));
            ticket = window.agent.received.find((m) => m.type === "viewer_ticket")?.ticket;
        }
        const video = new WebSocket(wss(`/ws/video/${number}?ticket=${ticket}`));
        video.binaryType = "arraybuffer";
        video.onmessage = (event) => {
            const seen = window.agent.video;
            if (typeof event.data === "string") { seen.config = JSON.parse(event.data); return; }
            if (seen.firstFlags === null) seen.firstFlags = new Uint8Array(event.data)[0];
            seen.chunks += 1;
        };
    };
}
"""


async def agent_sockets(agent: Page, number: str) -> None:
    await agent.evaluate(AGENT_SOCKETS, number)


async def agent_send(agent: Page, message: dict[str, Any]) -> None:
    await agent.evaluate("(m) => window.agent.control.send(JSON.stringify(m))", message)


async def agent_received(agent: Page) -> list[dict[str, Any]]:
    received: list[dict[str, Any]] = await agent.evaluate("() => window.agent.received")
    return received


async def horizontal_overflow(page: Page) -> int:
    width: int = await page.evaluate("() => document.documentElement.scrollWidth")
    return width
