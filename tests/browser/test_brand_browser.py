"""A bank that is not LIGA, in a real browser: its colours paint the header and the
buttons, its logo loads, its legal pages are in the footer, and axe-core finds no
contrast failure with those colours. Screenshots go to test-artifacts/ to be looked at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.brand_files import write_svg
from tests.live_server import LiveServer, live_server

pytestmark = pytest.mark.browser
ROOT = Path(__file__).parent.parent.parent
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PRIMARY, ACCENT = "#7a1f5c", "#0b6e4f"


def rgb(colour: str) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("brand")
    logo = write_svg(workdir)
    with live_server(
        workdir,
        SUPPORTDESK_BRAND_LOGO=str(logo),
        SUPPORTDESK_BRAND_PRIMARY_COLOR=PRIMARY,
        SUPPORTDESK_BRAND_ACCENT_COLOR=ACCENT,
        SUPPORTDESK_BRAND_IMPRESSUM_URL="https://www.example-bank.de/impressum",
        SUPPORTDESK_BRAND_PRIVACY_URL="https://www.example-bank.de/datenschutz",
        SUPPORTDESK_PORTAL_BANK_NAME="Beispielbank eG",
        SUPPORTDESK_PORTAL_TEAM_NAME="Beispiel direkt",
    ) as running:
        yield running


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844)])
async def test_the_home_page_wears_the_banks_brand(
    server: LiveServer, browser: Browser, width: int, height: int
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    # axe-core is injected as a script: the page's CSP (no inline script) is bypassed
    # for the audit only.
    context = await browser.new_context(
        viewport={"width": width, "height": height}, bypass_csp=True
    )
    page = await context.new_page()
    await page.goto(server.url + "/")
    header = page.locator("header.site")
    assert await header.evaluate("e => getComputedStyle(e).backgroundColor") == rgb(PRIMARY)
    assert await header.evaluate("e => getComputedStyle(e).borderBottomColor") == rgb(ACCENT)
    assert await page.locator("h1").evaluate("e => getComputedStyle(e).color") == rgb(ACCENT)
    button = page.locator("a.button").first
    assert await button.evaluate("e => getComputedStyle(e).borderColor") == rgb(PRIMARY)
    logo = page.locator("header.site img.logo")
    await expect(logo).to_be_visible()
    # Loaded and drawn at the header's height with the file's proportions (120 x 40).
    assert await logo.evaluate("e => e.complete && e.naturalWidth") == 120
    box = await logo.bounding_box()
    assert box is not None and abs(box["width"] - 3 * box["height"]) < 2
    footer = page.locator("footer.site")
    await expect(footer.get_by_role("link", name="Impressum")).to_have_attribute(
        "href", "https://www.example-bank.de/impressum"
    )
    await expect(footer.get_by_role("link", name="Datenschutz")).to_have_attribute(
        "href", "https://www.example-bank.de/datenschutz"
    )
    always = page.locator('[data-service="online-banking"]')
    await expect(always.locator("[data-status]")).to_have_text("rund um die Uhr erreichbar")
    await page.screenshot(path=str(ARTIFACTS / f"brand-home-{width}.png"), full_page=True)

    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        "axe.run(document, {runOnly: ['color-contrast', 'image-alt', 'link-name']})"
    )
    failures = [
        (violation["id"], [node["target"] for node in violation["nodes"]])
        for violation in result["violations"]
    ]
    assert failures == []
    await context.close()


async def test_the_console_login_wears_the_brand(server: LiveServer, browser: Browser) -> None:
    page = await browser.new_page(viewport={"width": 1366, "height": 768})
    await page.goto(server.url + "/console/login")
    header = page.locator("header.site")
    assert await header.evaluate("e => getComputedStyle(e).backgroundColor") == rgb(PRIMARY)
    assert await page.locator("header.site img.logo").evaluate("e => e.naturalWidth") == 120
    await expect(page.locator("footer.site").get_by_role("link", name="Impressum")).to_be_visible()
    await page.screenshot(path=str(ARTIFACTS / "brand-console-login.png"), full_page=True)
