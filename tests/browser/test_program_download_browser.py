"""The support program's download page in a real browser (Debian chromium, Playwright)
on the real server: a Windows visitor on a 1366x768 laptop screen sees the Windows
file first, downloads it, and the page breaks no rule of the CSP."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from supportdesk.server.pages.downloads import BUILDS, ProgramSystem
from tests.live_server import LiveServer, live_server
from tests.server.test_downloads import WINDOWS_CHROME

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).parent.parent.parent / "test-artifacts"
SIZE = 3_456_789


def payload(name: str) -> bytes:
    seed = hashlib.sha256(name.encode()).digest()
    return (seed * (SIZE // len(seed) + 1))[:SIZE]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("downloads")
    folder = workdir / "downloads"
    folder.mkdir()
    for build in BUILDS.values():
        (folder / build.file_name).write_bytes(payload(build.file_name))
    with live_server(workdir, SUPPORTDESK_APPLET_DOWNLOAD_DIRECTORY=str(folder)) as running:
        yield running


async def test_a_windows_visitor_downloads_the_windows_program(
    server: LiveServer, browser: Browser
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    context = await browser.new_context(
        viewport={"width": 1366, "height": 768},
        user_agent=WINDOWS_CHROME,
        extra_http_headers={"Sec-CH-UA-Platform": '"Windows"'},
        accept_downloads=True,
    )
    page = await context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(f"{message.text} {message.location.get('url')}")
            if message.type == "error"
            and not message.location.get("url", "").endswith("favicon.ico")
            else None
        ),
    )
    await page.goto(server.url + "/fernwartung")
    # The page opens with the form; the program's link sits in the folded prerequisites.
    await page.get_by_text("Voraussetzungen").click()
    await page.get_by_role("link", name="Support-Programm herunterladen").click()
    await expect(page.get_by_role("heading", name="Support-Programm herunterladen")).to_be_visible()
    await expect(page.get_by_role("heading", name="Für Ihren Computer (Windows)")).to_be_visible()
    name = BUILDS[ProgramSystem.WINDOWS].file_name
    await expect(page.locator("[data-recommended] [data-file-name]")).to_have_text(name)
    await expect(page.locator("[data-recommended] [data-file-size]")).to_have_text(
        "3,3 MB (3.456.789 Bytes)"
    )
    checksum = hashlib.sha256(payload(name)).hexdigest()
    await expect(page.locator("[data-recommended] [data-sha256]")).to_have_text(checksum)
    button = page.get_by_role("link", name="Support-Programm für Windows herunterladen")
    await expect(button).to_be_in_viewport()  # on a laptop screen, without scrolling
    await page.screenshot(path=str(ARTIFACTS / "program-download-de.png"))
    await page.screenshot(path=str(ARTIFACTS / "program-download-de-full.png"), full_page=True)

    async with page.expect_download() as started:
        await button.click()
    download = await started.value
    assert download.suggested_filename == name
    saved = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert hashlib.sha256(saved).hexdigest() == checksum

    await page.get_by_role("link", name="English").click()
    await expect(page.get_by_role("heading", name="Download the support program")).to_be_visible()
    await expect(page.locator("[data-recommended] [data-file-size]")).to_have_text(
        "3.3 MB (3,456,789 bytes)"
    )
    assert problems == []  # no CSP violation, no missing file
    await context.close()


async def test_a_phone_is_pointed_to_the_browser_way(server: LiveServer, browser: Browser) -> None:
    context = await browser.new_context(
        viewport={"width": 412, "height": 915},
        user_agent=(
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36"
        ),
        extra_http_headers={"Sec-CH-UA-Platform": '"Android"'},
    )
    page = await context.new_page()
    await page.goto(server.url + "/fernwartung/programm")
    await expect(page.locator("[data-no-download]")).to_contain_text("nicht auf Smartphones")
    await page.get_by_role("link", name="Bildschirm im Browser freigeben").click()
    await expect(page.get_by_role("heading", name="Fernwartung starten")).to_be_visible()
    await context.close()
