"""The customer's screen-sharing page stays connected (docs/relay-protocol.md, "Staying
connected"): headful Chromium on Xvfb shares the real screen, its page and link both
through a fault-injecting proxy (tests/faults.py), while the agent watches directly.
A black hole of 10 s: the page says it is reconnecting, comes back with its resume
secret and the agent gets a fresh key chunk; a gap past the re-consent limit: consent
again, "Ja", sharing goes on; a gap past the grace: the receipt says the connection was
lost; "Sitzung beenden" while offline: the receipt at once, `end` delivered once back."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, WebSocket, async_playwright, expect

import tests.live_server
from tests.browser.share_parties import (
    ARTIFACTS,
    PASSWORD,
    agent_page,
    agent_received,
    customer_context,
    issue_key,
    open_browser_way,
    server_with_agent,
)
from tests.desktop import Desktop, xvfb
from tests.faults import FaultProxy
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, LiveServer, add_agent, free_port, live_server

pytestmark = pytest.mark.browser

RECONNECTING = "Verbindung unterbrochen – wird wiederhergestellt …"
SHARING = "Ihr Bildschirm wird freigegeben."
RENEWAL = "Die Verbindung war eine Weile unterbrochen."
LOST_TOO_LONG = "Die Verbindung war zu lange unterbrochen; die Sitzung ist beendet."
YOU_ENDED = "Sie haben die Sitzung beendet."
HEARTBEAT_FRAME = b'\x00\x00{"type":"heartbeat"}'


@dataclasses.dataclass
class Proxied:
    server: LiveServer  # direct: the agent
    customer: LiveServer  # the same server as the customer reaches it, through the proxy
    proxy: FaultProxy


@contextmanager
def proxied_server(folder: Path, **environ: str) -> Iterator[Proxied]:
    """The real server with one agent, and a FaultProxy in front of it whose origin the
    server allows (the customer's page and link go through it, so Origin matches)."""
    server_port = free_port()
    proxy = FaultProxy("127.0.0.1", server_port)
    proxy_url = f"http://127.0.0.1:{proxy.start()}"
    (folder / "supportdesk.toml").write_text(f'[server]\nallowed_origins = ["{proxy_url}"]\n')
    try:
        with pytest.MonkeyPatch.context() as patch:
            # The server must listen where the proxy forwards to.
            patch.setattr(tests.live_server, "free_port", lambda: server_port)
            with live_server(folder, **environ) as running:
                add_agent(running, "Anna Berger", PASSWORD)
                yield Proxied(running, dataclasses.replace(running, url=proxy_url), proxy)
    finally:
        proxy.stop()


@pytest.fixture(scope="module")
def desktop() -> Iterator[Desktop]:
    with xvfb(1600, 1000, 24) as desk:
        yield desk


@pytest.fixture
async def headful(desktop: Desktop) -> AsyncIterator[Browser]:
    args = [a for a in CHROMIUM_ARGS if a != "--headless"]
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=False,
            env={**desktop.env, "LANG": "de_DE.UTF-8", "LC_ALL": "C.UTF-8"},
            args=[*args, "--auto-select-desktop-capture-source=Entire screen"],
        )
        yield launched
        await launched.close()


# The agent's side inside the agent's console page: its own control socket, and a video
# viewer that notes every chunk's key flag (1 key, 0 delta) and every config.
AGENT_SOCKETS = """
async (number) => {
    const html = await (await fetch(`/console/sessions/${number}/live`)).text();
    const live = new DOMParser().parseFromString(html, "text/html").querySelector("[data-live]");
    const wss = (path) => new URL(path, location.href).href.replace(/^http/, "ws");
    const control = new WebSocket(wss(live.dataset.controlUrl));
    window.agent = { control, received: [], video: { configs: [], keys: [], closed: null } };
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
        const seen = window.agent.video;
        video.onmessage = (event) => {
            if (typeof event.data === "string") seen.configs.push(JSON.parse(event.data));
            else seen.keys.push(new Uint8Array(event.data)[0] & 1);
        };
        video.onclose = (event) => { seen.closed = event.code; };
    };
}
"""


async def wait_for(check: Callable[[], Any], what: str, seconds: float = 15.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := await check():
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def video_keys(agent: Page) -> list[int]:
    keys: list[int] = await agent.evaluate("() => window.agent.video.keys")
    return keys


async def last_state(agent: Page) -> dict[str, Any]:
    states = [m for m in await agent_received(agent) if m.get("type") == "state"]
    return states[-1] if states else {}


async def state_where(agent: Page, test: Callable[[dict[str, Any]], bool], what: str) -> Any:
    async def found() -> Any:
        state = await last_state(agent)
        return state and test(state) and state

    return await wait_for(found, what)


async def chunks_after(agent: Page, mark: int, count: int, what: str) -> list[int]:
    async def enough() -> Any:
        keys = await video_keys(agent)
        return len(keys) - mark >= count and keys[mark:]

    result: list[int] = await wait_for(enough, what)
    return result


@dataclasses.dataclass
class Sharing:
    agent: Page
    customer: Page
    number: str
    links: list[WebSocket]  # the customer's /ws/browser sockets, in order
    sent: list[bytes]  # every frame the customer's page sent, on any of them


async def start_sharing(headful: Browser, at: Proxied) -> Sharing:
    """The agent issues a key, the customer (through the proxy) says "Ja", and the
    screen flows to the agent's video viewer."""
    agent = await agent_page(headful, at.server)
    issued = await issue_key(agent)
    page = await (await customer_context(headful, "de")).new_page()
    links: list[WebSocket] = []
    sent: list[bytes] = []

    def link_opened(socket: WebSocket) -> None:
        if urlsplit(socket.url).path == "/ws/browser":
            links.append(socket)
            socket.on("framesent", lambda p: sent.append(p if isinstance(p, bytes) else b""))

    page.on("websocket", link_opened)
    await open_browser_way(page, at.customer, issued["key"])
    await agent.evaluate(AGENT_SOCKETS, issued["number"])
    await page.get_by_role("button", name="Ja, Bildschirm freigeben").click()
    await expect(page.locator("[data-active-status]")).to_have_text(SHARING)
    await agent.evaluate("() => window.agent.watch()")
    keys = await chunks_after(agent, 0, 5, "video chunks at the agent")
    assert keys[0] == 1, "a viewer starts with a key chunk"
    return Sharing(agent, page, issued["number"], links, sent)


async def lose_the_link(sharing: Sharing, proxy: FaultProxy) -> float:
    """A black hole: within about 4 s of silence the page says it is reconnecting, the
    agent's console that the customer's link is lost. Returns when it began."""
    began = time.monotonic()
    proxy.black_hole(True)
    status = sharing.customer.locator("[data-active-status]")
    await expect(status).to_have_text(RECONNECTING, timeout=8000)
    noticed = time.monotonic() - began
    # 4 s after the last thing heard, which came at most a heartbeat (1 s) before.
    assert 2.8 <= noticed <= 6.5, f"the page noticed the loss after {noticed:.1f} s"
    await state_where(sharing.agent, lambda s: s.get("customer_link") == "lost", "link lost")
    return began


async def capture_state(page: Page) -> str:
    """The captured track's readyState: "live" or "ended"."""
    state: str = await page.evaluate(
        "() => document.querySelector('[data-preview]').srcObject.getVideoTracks()[0].readyState"
    )
    return state


async def close(sharing: Sharing) -> None:
    await sharing.customer.context.close()
    await sharing.agent.context.close()


@pytest.mark.desktop
async def test_a_ten_second_black_hole_and_the_sharing_goes_on(
    headful: Browser, tmp_path: Path
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with proxied_server(tmp_path) as at:
        sharing = await start_sharing(headful, at)
        page = sharing.customer
        # A heartbeat a second on the link.
        before = sharing.sent.count(HEARTBEAT_FRAME)
        await asyncio.sleep(3.2)
        beats = sharing.sent.count(HEARTBEAT_FRAME) - before
        assert 3 <= beats <= 4, f"{beats} heartbeats in 3.2 s"

        began = await lose_the_link(sharing, at.proxy)
        await page.screenshot(path=str(ARTIFACTS / "share-reconnecting-de.png"))
        # The capture runs on locally meanwhile.
        assert await capture_state(page) == "live"
        mark = len(await video_keys(sharing.agent))
        await asyncio.sleep(max(0.0, 10 - (time.monotonic() - began)))
        at.proxy.black_hole(False)

        await expect(page.locator("[data-active-status]")).to_have_text(SHARING, timeout=10_000)
        await state_where(
            sharing.agent, lambda s: s.get("customer_link") == "connected", "link restored"
        )
        after = await chunks_after(sharing.agent, mark, 5, "video after the gap")
        assert after[0] == 1, f"the first chunk after the gap is a key chunk: {after[:5]}"
        await expect(page.locator('[data-part="active"]')).to_be_visible()

        # A new socket with the resume secret: never in a URL, never stored.
        assert len(sharing.links) >= 2
        # The link names its session for a load balancer, and nothing else.
        assert {urlsplit(link.url)[2:4] for link in sharing.links} == {
            ("/ws/browser", f"session={sharing.number}")
        }
        stored = await page.evaluate("() => [localStorage.length, sessionStorage.length]")
        assert stored == [0, 0]
        assert "resume" not in page.url
        await close(sharing)


# 6.5 s: the page's first try is still waiting behind the black hole when it lifts, so
# one resume reaches the relay. 10 s: the page has given up one try (4 s unanswered) and
# the proxy still delivers that try's upgrade when the hole lifts, beside the live one:
# two resumes with the same secret reach the relay within milliseconds.
@pytest.mark.desktop
@pytest.mark.parametrize("hole", [6.5, 10.0])
async def test_past_the_reconsent_limit_consent_is_asked_again(
    headful: Browser, tmp_path: Path, hole: float
) -> None:
    with proxied_server(tmp_path, SUPPORTDESK_SESSION_RECONSENT_AFTER_SECONDS="1") as at:
        sharing = await start_sharing(headful, at)
        page = sharing.customer
        began = await lose_the_link(sharing, at.proxy)
        await asyncio.sleep(max(0.0, hole - (time.monotonic() - began)))
        at.proxy.black_hole(False)

        consent = page.locator('[data-part="consent"]')
        await expect(consent).to_be_visible(timeout=10_000)
        await expect(consent.locator("[data-renewal]")).to_contain_text(RENEWAL)
        yes = consent.get_by_role("button", name="Ja, Bildschirm freigeben")
        await expect(yes).to_be_enabled()
        await state_where(
            sharing.agent, lambda s: s.get("customer_link") == "renewing", "asking again"
        )
        await page.screenshot(path=str(ARTIFACTS / "share-renewal-de.png"))
        # Nothing crosses until "Ja".
        mark = len(await video_keys(sharing.agent))
        await asyncio.sleep(1.5)
        assert len(await video_keys(sharing.agent)) == mark

        await yes.click()
        await expect(page.locator("[data-active-status]")).to_have_text(SHARING)
        await state_where(
            sharing.agent, lambda s: s.get("customer_link") == "connected", "consent renewed"
        )
        after = await chunks_after(sharing.agent, mark, 5, "video after the renewed consent")
        assert after[0] == 1, f"the first chunk after Ja is a key chunk: {after[:5]}"
        await close(sharing)


@pytest.mark.desktop
async def test_past_the_grace_the_receipt_says_the_connection_was_lost(
    headful: Browser, tmp_path: Path
) -> None:
    with proxied_server(tmp_path, SUPPORTDESK_SESSION_RECONNECT_GRACE_SECONDS="3") as at:
        sharing = await start_sharing(headful, at)
        page = sharing.customer
        await lose_the_link(sharing, at.proxy)
        receipt = page.locator('[data-part="receipt"]')
        await expect(receipt.get_by_role("heading", level=1)).to_have_text(
            "Fernwartung beendet", timeout=10_000
        )
        await expect(receipt.locator("[data-end-text]")).to_have_text(LOST_TOO_LONG)
        await expect(receipt.locator("[data-receipt-facts]")).to_contain_text(sharing.number)
        await state_where(
            sharing.agent,
            lambda s: s["state"] == "ended" and s["end_reason"] == "connection_lost",
            "the relay to end the session",
        )
        await page.screenshot(path=str(ARTIFACTS / "share-connection-lost-de.png"))
        at.proxy.black_hole(False)
        await close(sharing)


@pytest.mark.desktop
async def test_ending_while_offline_stops_at_once_and_delivers_end_once_back(
    headful: Browser, tmp_path: Path
) -> None:
    with proxied_server(tmp_path) as at:
        sharing = await start_sharing(headful, at)
        page = sharing.customer
        await lose_the_link(sharing, at.proxy)
        await page.get_by_role("button", name="Sitzung beenden").click()
        receipt = page.locator('[data-part="receipt"]')
        await expect(receipt.locator("[data-end-text]")).to_have_text(YOU_ENDED)
        assert await capture_state(page) == "ended", "the capture stops at once, offline too"
        assert (await last_state(sharing.agent))["state"] != "ended"
        await asyncio.sleep(2)
        at.proxy.black_hole(False)
        await state_where(
            sharing.agent,
            lambda s: s["state"] == "ended" and s["end_reason"] == "customer",
            "the end, delivered over a resumed link",
        )
        await close(sharing)


LOST_LINK_WORDS = {
    "de": (
        RECONNECTING,
        "Die Verbindung war eine Weile unterbrochen. Bitte bestätigen Sie erneut, dass Ihr "
        "Bildschirm freigegeben werden darf.",
        LOST_TOO_LONG,
    ),
    "en": (
        "Connection interrupted – reconnecting …",
        "The connection was interrupted for a while. Please confirm again that your screen "
        "may be shared.",
        "The connection was lost for too long; the session is over.",
    ),
}


@pytest.mark.parametrize("language", ["de", "en"])
async def test_the_words_for_a_lost_link_come_in_the_pages_language(
    browser: Browser, tmp_path: Path, language: str
) -> None:
    """German first, English when chosen: the lines the page shows on a lost link are
    the server's (gettext), in the page, never in the script."""
    with server_with_agent(tmp_path) as server:
        agent = await agent_page(browser, server)
        issued = await issue_key(agent)
        page = await (await customer_context(browser, language)).new_page()
        await open_browser_way(page, server, issued["key"])
        words = await page.evaluate(
            """() => {
                const t = document.querySelector("template[data-words]").content;
                const word = (k) => t.querySelector(`[data-word="${k}"]`).textContent.trim();
                return [word("reconnecting"),
                        document.querySelector("[data-renewal]").textContent.trim(),
                        word("ended_connection_lost")];
            }"""
        )
        assert tuple(words) == LOST_LINK_WORDS[language]
        await expect(page.locator("[data-renewal]")).to_be_hidden()
        await page.context.close()
        await agent.context.close()
