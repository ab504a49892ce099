"""The portal in a real browser: Debian chromium driven by Playwright, JavaScript off too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.live_server import LiveServer, live_server

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).parent.parent.parent / "test-artifacts"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("portal")) as running:
        yield running


async def test_read_a_lines_status_and_file_a_request(server: LiveServer, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = await browser.new_page(viewport={"width": 1200, "height": 1600})
    await page.goto(server.url + "/")
    line = page.locator('[data-hotline="online-banking"]')
    await expect(line.get_by_role("heading", name="Service-Hotline Online Banking")).to_be_visible()
    status = await line.locator("[data-status]").inner_text()
    assert re.fullmatch(
        r"jetzt erreichbar — bis 22:00 Uhr|geschlossen — wieder erreichbar .+ ab 07:30 Uhr",
        status.strip(),
    ), status
    await page.screenshot(path=str(ARTIFACTS / "portal-home.png"), full_page=True)

    await line.get_by_role("link", name="Serviceauftrag zu diesem Thema senden").click()
    await expect(page.get_by_label("Thema")).to_have_value("online-banking")
    await page.get_by_label("Ihr Anliegen").fill("kurz")
    await page.get_by_role("button", name="Auftrag senden").click()
    await expect(page.get_by_role("alert")).to_contain_text("mindestens 10 Zeichen")
    await expect(page.get_by_label("Ihr Anliegen")).to_have_value("kurz")
    await page.screenshot(path=str(ARTIFACTS / "service-request-errors.png"), full_page=True)

    await page.get_by_label("Ihr Anliegen").fill("Die VR-NetKey-Anmeldung meldet einen Fehler.")
    await page.get_by_label("Telefonischer Rückruf").check()
    await page.get_by_label("Telefonnummer oder E-Mail-Adresse").fill("0941 123456")
    await page.get_by_role("button", name="Auftrag senden").click()
    await expect(page.get_by_role("heading", name="Serviceauftrag eingegangen")).to_be_visible()
    reference = await page.locator("[data-reference]").inner_text()
    secret = await page.locator("[data-secret]").inner_text()
    assert re.fullmatch(r"SA-\d{4}-\d{6}", reference)

    await page.get_by_role("link", name="Status abfragen").click()
    await page.get_by_label("Auftragsnummer").fill(reference)
    await page.get_by_label("Kennwort").fill(secret)
    await page.get_by_role("button", name="Abfragen").click()
    await expect(page.locator("[data-found] [data-status]")).to_have_text("eingegangen")


async def test_join_form_without_javascript(server: LiveServer, browser: Browser) -> None:
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    await page.goto(server.url + "/fernwartung")
    await page.get_by_role("link", name="Jetzt Fernwartung starten").click()
    await page.get_by_label("Ihr Name").fill("Erika Müller")
    await page.get_by_label("Support-Schlüssel").fill("123 456 789 012")
    await page.get_by_role("button", name="Weiter >>").click()
    await expect(page.locator("#support_key-error")).to_contain_text(
        "Zu diesem Support-Schlüssel gibt es keine Fernwartungssitzung"
    )
    await page.screenshot(path=str(ARTIFACTS / "join-no-session.png"), full_page=True)
    await page.get_by_role("link", name="English").click()
    await expect(page.get_by_role("heading", name="Start remote support")).to_be_visible()
    await context.close()
