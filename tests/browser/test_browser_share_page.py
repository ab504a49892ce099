"""The customer's screen-sharing page against the real server and relay, on a 1366x768
laptop screen: consent (German and English), declining, the fallback without WebCodecs,
the page without JavaScript, and — in headful Chromium on Xvfb, capturing the real
screen — sharing, chat, the agent's pointer, pause, the end and the receipt."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.agent_login import sign_in_page
from tests.browser.share_parties import (
    AGENT_NAME,
    ARTIFACTS,
    PASSWORD,
    VIEWPORT,
    agent_page,
    agent_received,
    agent_send,
    agent_sockets,
    customer_context,
    horizontal_overflow,
    issue_key,
    open_browser_way,
    server_with_agent,
)
from tests.desktop import Desktop, xvfb
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, LiveServer

pytestmark = pytest.mark.browser

WORDS = {
    "de": {
        "title": "Bildschirm für LIGA Bank eG freigeben?",
        "yes": "Ja, Bildschirm freigeben",
        "no": "Nein",
        "verify": "Stimmt dieser Code mit dem überein, den Ihr Berater nennt?",
        "recorded": "Die Sitzung wird aufgezeichnet.",
        "cannot": "Nicht möglich: Ihre Maus oder Tastatur steuern",
        "pin": "niemals nach Ihrer PIN oder einer TAN",
        "declined": "Sie haben abgelehnt. Ihr Bildschirm wurde nicht freigegeben.",
        "active": "Fernwartung aktiv – wird aufgezeichnet",
        "pointer": "Hier zeigt Ihr Berater",
        "pause": "Pause",
        "resume": "Fortsetzen",
        "paused": "Pausiert: Es werden keine Bilder gesendet.",
        "end": "Sitzung beenden",
        "send": "Senden",
        "ended": "Fernwartung beendet",
        "shared": "Bildschirm (Ansicht), Chat, Zeiger",
        "receipt": "Quittung Fernwartung",
    },
    "en": {
        "title": "Share your screen with LIGA Bank eG?",
        "yes": "Yes, share my screen",
        "no": "No",
        "verify": "Does this code match the one your agent tells you?",
        "recorded": "The session is recorded.",
        "cannot": "Not possible: control your mouse or keyboard",
        "pin": "never ask you for your PIN or a TAN",
        "declined": "You declined. Your screen was not shared.",
        "active": "Remote support active – being recorded",
        "pointer": "Your agent is pointing here",
        "pause": "Pause",
        "resume": "Resume",
        "paused": "Paused: no pictures are being sent.",
        "end": "End session",
        "send": "Send",
        "ended": "Remote support ended",
        "shared": "Screen (view), chat, pointer",
        "receipt": "Remote support receipt",
    },
}
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with server_with_agent(tmp_path_factory.mktemp("browser-share")) as running:
        yield running


def csp_violations(page: Page) -> list[str]:
    seen: list[str] = []
    page.on(
        "console",
        lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return seen


async def wait_for(check: Callable[[], Any], what: str, seconds: float = 10.0) -> Any:
    """Poll ``check`` (async) until it returns something true."""
    for _ in range(int(seconds * 10)):
        if value := await check():
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def state_where(agent: Page, test: Callable[[dict[str, Any]], bool], what: str) -> Any:
    async def found() -> Any:
        states = [m for m in await agent_received(agent) if m.get("type") == "state"]
        return states and test(states[-1]) and states[-1]

    return await wait_for(found, what)


@pytest.mark.parametrize("language", ["de", "en"])
async def test_consent_then_no(server: LiveServer, browser: Browser, language: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    words = WORDS[language]
    agent = await agent_page(browser, server)
    issued = await issue_key(agent)
    context = await customer_context(browser, language)
    page = await context.new_page()
    violations = csp_violations(page)
    shot = ARTIFACTS / f"share-join-ready-{language}.png"
    served = await open_browser_way(page, server, issued["key"], ready_shot=shot)
    assert not INLINE_SCRIPT.search(served) and "<style" not in served
    assert " style=" not in served

    consent = page.locator('[data-part="consent"]')
    await expect(consent.get_by_role("button", name=words["yes"])).to_be_enabled()
    await expect(consent.locator("[data-origin]")).to_have_text(server.url)
    await expect(consent.get_by_role("heading", level=1)).to_have_text(words["title"])
    for key in ("verify", "recorded", "cannot", "pin"):
        await expect(consent).to_contain_text(words[key])
    for fact in (AGENT_NAME, issued["number"], issued["code"], "LIGA Bank eG"):
        await expect(consent).to_contain_text(fact)
    assert await horizontal_overflow(page) <= VIEWPORT["width"]
    await page.screenshot(path=str(ARTIFACTS / f"share-consent-{language}.png"))

    await agent_sockets(agent, issued["number"])
    await consent.get_by_role("button", name=words["no"], exact=True).click()
    await expect(page.locator('[data-part="declined"]')).to_contain_text(words["declined"])
    await state_where(agent, lambda s: s["state"] == "declined", "the relay to record the no")
    assert await horizontal_overflow(page) <= VIEWPORT["width"]
    assert not violations, violations
    await context.close()
    await agent.context.close()


async def test_a_different_consent_text_is_not_offered(
    server: LiveServer, browser: Browser
) -> None:
    """The page shows one text, the relay asks for another (here: the page's hash is
    altered before its script runs): an error, and no "Ja"."""
    agent = await agent_page(browser, server)
    issued = await issue_key(agent)
    context = await customer_context(browser, "de")
    await context.add_init_script(
        """new MutationObserver((_, observer) => {
            const share = document.querySelector("[data-share]");
            if (share) { share.dataset.consentSha256 = "0".repeat(64); observer.disconnect(); }
        }).observe(document, { childList: true, subtree: true });"""
    )
    page = await context.new_page()
    await open_browser_way(page, server, issued["key"])
    consent = page.locator('[data-part="consent"]')
    await expect(consent.locator("[data-consent-status]")).to_contain_text(
        "Der Server fragt nach Zustimmung zu einem anderen Text"
    )
    await expect(consent.get_by_role("button", name="Ja, Bildschirm freigeben")).to_be_hidden()
    await expect(consent.get_by_role("button", name="Nein", exact=True)).to_be_enabled()
    await context.close()
    await agent.context.close()


async def test_fallback_without_webcodecs_keeps_the_token(
    server: LiveServer, browser: Browser
) -> None:
    agent = await agent_page(browser, server)
    issued = await issue_key(agent)
    context = await customer_context(browser, "de")
    await context.add_init_script("delete window.VideoEncoder")
    page = await context.new_page()
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    await open_browser_way(page, server, issued["key"])
    fallback = page.locator('[data-part="fallback"]')
    await expect(fallback).to_be_visible()
    await expect(fallback.get_by_role("heading", level=1)).to_have_text(
        "Ihr Browser kann den Bildschirm hier nicht freigeben"
    )
    await expect(fallback).to_contain_text("Mit Fernsteuerung: Support-Programm verwenden")
    await expect(fallback.locator("[data-join-command]")).to_contain_text("--token=")
    await expect(page.locator('[data-part="consent"]')).to_be_hidden()
    assert sockets == [], "no link opened: the token stays good for the program"
    assert await horizontal_overflow(page) <= VIEWPORT["width"]
    await page.screenshot(path=str(ARTIFACTS / "share-fallback-de.png"))
    await context.close()
    await agent.context.close()


async def test_without_javascript_the_page_explains(server: LiveServer, browser: Browser) -> None:
    # Chromium driven over DevTools still hides <noscript> with scripting off, so the
    # served page is read: the explanation and the program's way are in it, and the
    # "one moment" line is hidden by a stylesheet loaded only without JavaScript.
    agent = await agent_page(browser, server)
    issued = await issue_key(agent)
    context = await browser.new_context(
        ignore_https_errors=True, viewport=VIEWPORT, java_script_enabled=False
    )
    page = await context.new_page()
    served = await open_browser_way(page, server, issued["key"])
    noscript = re.search(r"<body>.*<noscript>(.*?)</noscript>", served, re.S)
    assert noscript, "a <noscript> explanation in the body"
    assert "<h1>Die Bildschirmfreigabe braucht JavaScript</h1>" in noscript.group(1)
    assert "das in Ihrem Browser ausgeschaltet ist" in noscript.group(1)
    assert re.search(r"supportdesk join --server \S+ --token=\S+<", noscript.group(1))
    assert '<noscript><link rel="stylesheet" href="/static/share/noscript.css"></noscript>' in (
        served
    )
    await expect(page.locator('[data-part="consent"]')).to_be_hidden()
    await context.close()
    await agent.context.close()


# -- sharing for real: headful Chromium on Xvfb --------------------------------------


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
            env={**desktop.env, "LANG": "en_US.UTF-8", "LC_ALL": "C.UTF-8"},
            args=[*args, "--lang=en-US", "--auto-select-desktop-capture-source=Entire screen"],
        )
        yield launched
        await launched.close()


async def start_sharing(
    headful: Browser, server: LiveServer, language: str
) -> tuple[Page, Page, dict[str, str]]:
    """Agent issues, customer says yes, the screen flows to the agent's video viewer."""
    agent = await agent_page(headful, server)
    issued = await issue_key(agent)
    context = await customer_context(headful, language)
    page = await context.new_page()
    await open_browser_way(page, server, issued["key"])
    await agent_sockets(agent, issued["number"])
    await page.get_by_role("button", name=WORDS[language]["yes"]).click()
    active = page.locator('[data-part="active"]')
    await expect(active.get_by_role("heading", level=1)).to_have_text(WORDS[language]["active"])
    await agent.evaluate("() => window.agent.watch()")

    async def flowing() -> Any:
        seen = await agent.evaluate("() => window.agent.video")
        return seen["config"] and seen["chunks"] >= 5 and seen

    video = await wait_for(flowing, "video chunks at the agent", seconds=20)
    assert video["firstFlags"] & 1 == 1, "a viewer starts with a key chunk"
    assert video["config"]["codec"].split(".")[0] in ("avc1", "vp09", "vp8")
    assert video["config"]["width"] <= 1920 and video["config"]["width"] % 2 == 0
    return agent, page, issued


@pytest.mark.desktop
@pytest.mark.parametrize("language", ["de", "en"])
async def test_share_chat_pointer_pause_end_and_receipt(
    server: LiveServer, headful: Browser, language: str
) -> None:
    words = WORDS[language]
    agent, page, issued = await start_sharing(headful, server, language)
    active = page.locator('[data-part="active"]')
    await expect(active.locator("[data-watchers]")).to_contain_text(AGENT_NAME)

    await agent_send(agent, {"type": "chat", "text": "Ich sehe Ihren Bildschirm."})
    await expect(active.locator("[data-chat]")).to_contain_text("Ich sehe Ihren Bildschirm.")
    await active.locator("#chat-text").fill("Danke, das Fenster oben links.")
    await active.get_by_role("button", name=words["send"]).click()
    await wait_for(
        lambda: _chat_from_customer(agent, "Danke, das Fenster oben links."), "the chat line"
    )
    await agent_send(agent, {"type": "pointer", "x": 0.5, "y": 0.25, "down": False})
    marker = active.locator("[data-pointer]")
    await expect(marker).to_be_visible()
    await expect(marker).to_contain_text(words["pointer"])
    box = await active.locator("[data-thumbnail]").bounding_box()
    spot = await marker.locator(".dot").bounding_box()
    assert box and spot
    assert abs(spot["x"] + spot["width"] / 2 - (box["x"] + box["width"] * 0.5)) < 3
    assert abs(spot["y"] + spot["height"] / 2 - (box["y"] + box["height"] * 0.25)) < 3
    assert await horizontal_overflow(page) <= VIEWPORT["width"]
    await page.screenshot(path=str(ARTIFACTS / f"share-active-{language}.png"))
    await agent_send(agent, {"type": "pointer", "x": None, "y": None, "down": False})
    await expect(marker).to_be_hidden()

    await active.get_by_role("button", name=words["pause"], exact=True).click()
    await expect(active.locator("[data-active-status]")).to_have_text(words["paused"])
    await state_where(agent, lambda s: s["paused"] is True, "the pause at the relay")
    await active.get_by_role("button", name=words["resume"]).click()
    await state_where(agent, lambda s: s["paused"] is False, "the resume at the relay")

    if language == "de":
        await active.get_by_role("button", name=words["end"]).click()
    else:  # the browser's own "stop sharing" ends the track
        await page.evaluate(
            "() => document.querySelector('[data-preview]').srcObject"
            ".getVideoTracks()[0].dispatchEvent(new Event('ended'))"
        )
    receipt = page.locator('[data-part="receipt"]')
    await expect(receipt.get_by_role("heading", level=1)).to_have_text(words["ended"])
    for fact in (issued["number"], AGENT_NAME, "LIGA Bank eG (127.0.0.1:", words["shared"]):
        await expect(receipt.locator("[data-receipt-facts]")).to_contain_text(fact)
    await state_where(
        agent, lambda s: s["state"] == "ended" and s["end_reason"] == "customer", "the end"
    )
    assert await horizontal_overflow(page) <= VIEWPORT["width"]
    await page.screenshot(path=str(ARTIFACTS / f"share-receipt-{language}.png"))

    stem = "Fernwartung-" + re.sub(r"[^A-Za-z0-9-]", "", issued["number"])
    async with page.expect_download() as text_download:
        await receipt.locator('[data-download="txt"]').click()
    text_file = await text_download.value
    assert text_file.suggested_filename == f"{stem}.txt"
    text = (await text_file.path()).read_text(encoding="utf-8")
    assert text.startswith(words["receipt"]) and issued["number"] in text
    async with page.expect_download() as json_download:
        await receipt.locator('[data-download="json"]').click()
    json_file = await json_download.value
    assert json_file.suggested_filename == f"{stem}.json"
    facts = json.loads((await json_file.path()).read_text(encoding="utf-8"))
    assert facts["consultation_number"] == issued["number"]
    assert facts["agent_name"] == AGENT_NAME and facts["way"] == "browser"
    assert facts["language"] == language and facts["duration_seconds"] >= 0
    await page.context.close()
    await agent.context.close()


async def _chat_from_customer(agent: Page, text: str) -> bool:
    return any(
        m.get("type") == "chat" and m.get("from") == "customer" and m.get("text") == text
        for m in await agent_received(agent)
    )


@pytest.mark.desktop
async def test_closing_the_tab_ends_the_session(server: LiveServer, headful: Browser) -> None:
    agent, page, _issued = await start_sharing(headful, server, "de")
    await page.close()
    await state_where(
        agent, lambda s: s["state"] == "ended" and s["end_reason"] == "customer", "the end"
    )
    await agent.context.close()


# -- another agent takes over ------------------------------------------------------------

COLLEAGUE = ("bernd", "Bernd Weber")
TAKEN_OVER = {
    "de": "Bernd Weber hat Ihre Fernwartung übernommen.",
    "en": "Bernd Weber has taken over your support session.",
}


@pytest.fixture(scope="module")
def colleague(server: LiveServer) -> str:
    """A second agent, Bernd Weber (user bernd)."""
    added = subprocess.run(
        [sys.executable, "-m", "supportdesk", "agents", "add", COLLEAGUE[0],
         "--name", COLLEAGUE[1], "--password-stdin"],
        input=PASSWORD + "\n", cwd=server.workdir, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    return COLLEAGUE[0]


@pytest.mark.desktop
@pytest.mark.parametrize("language", ["de", "en"])
async def test_a_hand_over_is_told_on_the_page_with_nothing_to_refuse(
    server: LiveServer, headful: Browser, colleague: str, language: str
) -> None:
    agent, page, issued = await start_sharing(headful, server, language)
    # Bernd signs in; his overview open, he is online for Anna's dialog.
    bernd = await (
        await headful.new_context(ignore_https_errors=True, viewport={"width": 1000, "height": 700})
    ).new_page()
    await sign_in_page(bernd, server.url, colleague, PASSWORD)

    async def listed() -> Any:
        found = await agent.evaluate(
            "async (n) => (await (await fetch(`/console/sessions/${n}/colleagues`)).json())",
            issued["number"],
        )
        return next((c for c in found["colleagues"] if c["name"] == COLLEAGUE[1]), None)

    chosen = await wait_for(listed, "Bernd among Anna's colleagues online")
    await agent_send(agent, {"type": "hand_over", "agent": chosen["id"], "owner": "agent:anna"})
    active = page.locator('[data-part="active"]')
    await expect(active.locator("[data-agent-notice]")).to_have_text(TAKEN_OVER[language])
    await expect(active.locator("[data-agent-now]")).to_have_text(COLLEAGUE[1])
    # A browser cannot be controlled: no "Ablehnen" anywhere on the page.
    assert await page.get_by_role("button", name=re.compile("Ablehnen|Refuse")).count() == 0
    assert await horizontal_overflow(page) <= VIEWPORT["width"]
    await page.screenshot(path=str(ARTIFACTS / f"share-handed-over-{language}.png"))
    # The session goes on with Bernd: the customer ends it, with a receipt.
    await active.get_by_role("button", name=WORDS[language]["end"]).click()
    receipt = page.locator('[data-part="receipt"]')
    await expect(receipt.get_by_role("heading", level=1)).to_have_text(WORDS[language]["ended"])
    await page.context.close()
    await bernd.context.close()
    await agent.context.close()
