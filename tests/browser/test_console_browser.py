"""The console in a real browser: a disabled button looks disabled, the focus ring
reaches 3:1 where it appears, ending a session is confirmed by keyboard alone (the live
page's dialog and the session page's second step), admin table rows keep their lines.
Screenshots of the dashboard, the admin start page and the 403 page go to the test's
temporary folder (``console-screens``) for a person to look at."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.test_player_browser import log_in
from tests.live_server import LiveServer, live_server
from tests.server.relay_parties import FakeApplet, add_agent, join_token

pytestmark = pytest.mark.browser
RGB = re.compile(r"rgba?\((\d+), (\d+), (\d+)")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("console-pages")) as running:
        add_agent(running, "anna")
        add_agent(running, "root-admin", "admin")
        yield running


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("console-screens")


def luminance(css: str) -> float:
    match = RGB.search(css)
    assert match, css

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(int(v)) for v in match.groups())
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    a, b = sorted((luminance(one), luminance(other)), reverse=True)
    return (a + 0.05) / (b + 0.05)


async def tab_to(page: Page, selector: str) -> None:
    """Press Tab until ``selector`` has the focus: how a keyboard user gets there."""
    for _ in range(60):
        await page.keyboard.press("Tab")
        if await page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


async def ring_contrast(page: Page, selector: str, background: str) -> float:
    """The best contrast any ring colour of the focused element (its outline, its box
    shadow's bands) has against the background it is drawn on."""
    rings = await page.evaluate(
        """(s) => { const st = getComputedStyle(document.querySelector(s));
                    return [st.outlineColor, ...st.boxShadow.split(/,(?![^(]*\\))/)]; }""",
        selector,
    )
    return max(contrast(ring, background) for ring in rings if RGB.search(ring))


async def test_disabled_buttons_focus_and_keyboard_confirmation(
    browser: Browser, server: LiveServer, screens: Path
) -> None:
    page = await log_in(browser, server, "anna")
    await page.get_by_role("button", name="Neue Fernwartung").click()
    await expect(page).to_have_url(re.compile(r"/console/sessions/[^/]+/key$"))
    key = await page.locator("[data-support-key]").inner_text()
    await page.reload()
    assert await page.locator("[data-support-key]").inner_text() == key  # not a new one
    number = await page.locator("[data-consultation-number]").inner_text()

    # The focus ring on the blue header and on the white page.
    header_bg = await page.evaluate(
        "getComputedStyle(document.querySelector('header.site')).backgroundColor"
    )
    await tab_to(page, "header.site nav a")
    assert await ring_contrast(page, "header.site nav a", header_bg) >= 3
    await tab_to(page, "main a")
    assert await ring_contrast(page, "main a", "rgb(255, 255, 255)") >= 3

    await page.goto(f"{server.url}/console/")
    await page.screenshot(path=str(screens / "dashboard-agent.png"), full_page=True)

    applet = await FakeApplet.connect(server, await join_token(server, key))
    await applet.next_control("consent_request")
    await applet.send({"type": "consent", "decision": "yes", "capabilities": ["view"]})
    await page.goto(f"{server.url}/console/sessions/{number}/live")
    await expect(page.locator("[data-live]")).to_have_attribute("data-state", "active")
    diagnostics = page.locator('[data-action="diagnostics"]')
    await expect(diagnostics).to_be_disabled()
    style = """(b) => { const s = getComputedStyle(b);
                  return [s.backgroundColor, s.color, s.borderStyle, s.opacity, s.cursor]; }"""
    disabled = await diagnostics.evaluate(style)
    await diagnostics.evaluate("(b) => { b.disabled = false; }")
    enabled = await diagnostics.evaluate(style)
    await diagnostics.evaluate("(b) => { b.disabled = true; }")
    assert disabled[0] != enabled[0] and disabled[3] != enabled[3], (disabled, enabled)
    assert disabled[4] == "not-allowed"

    # The live page asks before ending: Enter opens, focus on "Cancel", Esc keeps it.
    live = page.locator("[data-live]")
    dialog = page.locator("[data-end-dialog]")
    await tab_to(page, '[data-action="end"]')
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_visible()
    assert await page.evaluate("document.activeElement.textContent.trim()") == "Abbrechen"
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    assert await live.get_attribute("data-state") != "ended"
    await tab_to(page, '[data-action="end"]')
    await page.keyboard.press("Enter")
    await page.keyboard.press("Shift+Tab")
    assert await page.evaluate("document.activeElement.textContent.trim()") == (
        "Ja, Sitzung beenden"
    )
    await page.keyboard.press("Enter")
    await expect(live).to_have_attribute("data-state", "ended")

    # The session page without script: a second step, by keyboard.
    await page.goto(f"{server.url}/console/")
    await page.get_by_role("button", name="Neue Fernwartung").click()
    other = await page.locator("[data-consultation-number]").inner_text()
    await page.goto(f"{server.url}/console/sessions/{other}")
    await tab_to(page, "form[action$='/end'] button")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name=f"Sitzung {other} beenden?")).to_be_visible()
    await tab_to(page, "form[data-confirm] button")
    await page.keyboard.press("Enter")
    await expect(page.locator("[data-state]")).to_have_text("beendet")
    await page.context.close()


async def test_admin_pages_and_the_403_page(
    browser: Browser, server: LiveServer, screens: Path
) -> None:
    admin = await log_in(browser, server, "root-admin")
    await expect(admin.locator("[data-overview]")).to_be_visible()
    await admin.screenshot(path=str(screens / "dashboard-admin.png"), full_page=True)
    await admin.goto(f"{server.url}/console/admin/agents")
    cells = admin.locator("tr[data-agent] td")
    displays = await cells.evaluate_all("(tds) => tds.map((td) => getComputedStyle(td).display)")
    assert displays and set(displays) == {"table-cell"}  # the row lines stay whole
    await admin.screenshot(path=str(screens / "agents.png"), full_page=True)
    await admin.context.close()

    agent = await log_in(browser, server, "anna")
    answer = await agent.goto(f"{server.url}/console/admin/agents")
    assert answer is not None and answer.status == 403
    await expect(
        agent.get_by_role("heading", name="Für Ihre Rolle nicht freigegeben")
    ).to_be_visible()
    await expect(agent.get_by_role("navigation", name="Konsolennavigation")).to_be_visible()
    await agent.screenshot(path=str(screens / "forbidden.png"), full_page=True)
    await agent.context.close()
