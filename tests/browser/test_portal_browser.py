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

    # Post/redirect/get: a reload shows the same receipt and files nothing new.
    assert page.url.endswith("/serviceauftrag/eingegangen")
    await page.reload()
    await expect(page.locator("[data-reference]")).to_have_text(reference)
    await expect(page.locator("[data-secret]")).to_have_text(secret)

    await page.get_by_role("link", name="Status abfragen").click()
    await page.get_by_label("Auftragsnummer").fill(reference)
    await page.get_by_label("Abfragecode").fill(secret)
    await page.get_by_role("button", name="Abfragen").click()
    await expect(page.locator("[data-found] [data-status]")).to_have_text("eingegangen")


async def test_join_form_without_javascript(server: LiveServer, browser: Browser) -> None:
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    await page.goto(server.url + "/fernwartung")
    await page.get_by_label("Ihr Name").fill("Erika Müller")
    await page.get_by_label("Support-Schlüssel").fill("123 456 789 012")
    await page.get_by_role("button", name="Weiter >>").click()
    await expect(page.locator("#support_key-error")).to_contain_text(
        "Dieser Schlüssel passt nicht oder ist abgelaufen"
    )
    await expect(page.get_by_label("Support-Schlüssel")).to_have_value("123 456 789 012")
    await page.screenshot(path=str(ARTIFACTS / "join-no-session.png"), full_page=True)
    await page.get_by_role("link", name="English").click()
    await expect(page.get_by_role("heading", name="Start remote support")).to_be_visible()
    await context.close()


ERROR_RED = "rgb(179, 38, 30)"  # --error in portal.css, #b3261e


async def test_invalid_text_fields_turn_red(server: LiveServer, browser: Browser) -> None:
    """The aria-invalid rule must win over input[type=text] in the cascade: only the
    browser computes that."""
    page = await browser.new_page()
    await page.goto(server.url + "/fernwartung/start")
    await page.get_by_role("button", name="Weiter >>").click()
    for field in ("#name", "#support_key"):
        await expect(page.locator(field)).to_have_attribute("aria-invalid", "true")
        colour = await page.locator(field).evaluate("e => getComputedStyle(e).borderTopColor")
        width = await page.locator(field).evaluate("e => getComputedStyle(e).borderTopWidth")
        assert (colour, width) == (ERROR_RED, "2px"), field
    await page.goto(server.url + "/serviceauftrag")
    await page.get_by_role("button", name="Auftrag senden").click()
    for field in ("#contact_value", "#description", "#topic"):
        colour = await page.locator(field).evaluate("e => getComputedStyle(e).borderTopColor")
        assert colour == ERROR_RED, field
    await page.close()


async def test_the_form_is_on_the_first_screen_of_fernwartung(
    server: LiveServer, browser: Browser
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page = await browser.new_page(viewport={"width": 1366, "height": 768})
    await page.goto(server.url + "/fernwartung")
    form = page.locator('form[action="/fernwartung/start"]')
    box = await form.bounding_box()
    assert box is not None
    button = await form.get_by_role("button", name="Weiter >>").bounding_box()
    assert button is not None
    # The whole form, its button included, without scrolling.
    assert box["y"] < 768 and button["y"] + button["height"] <= 768, (box, button)
    await page.screenshot(path=str(ARTIFACTS / "fernwartung-1366x768.png"))
    phone = await browser.new_page(viewport={"width": 375, "height": 667})
    await phone.goto(server.url + "/fernwartung")
    phone_form = await phone.locator('form[action="/fernwartung/start"]').bounding_box()
    assert phone_form is not None and phone_form["y"] < 667
    await phone.screenshot(path=str(ARTIFACTS / "fernwartung-phone.png"), full_page=True)
    await page.close()
    await phone.close()


async def test_receipt_codes_do_not_wrap_on_a_phone(server: LiveServer, browser: Browser) -> None:
    page = await browser.new_page(viewport={"width": 320, "height": 640})
    await page.goto(server.url + "/serviceauftrag")
    await page.get_by_label("Thema").select_option("online-banking")
    await page.get_by_label("Ihr Anliegen").fill("Die VR-NetKey-Anmeldung meldet einen Fehler.")
    await page.get_by_label("Telefonischer Rückruf").check()
    await page.get_by_label("Telefonnummer oder E-Mail-Adresse").fill("0941 123456")
    await page.get_by_role("button", name="Auftrag senden").click()
    for code in ("[data-reference]", "[data-secret]"):
        lines = await page.locator(code).evaluate(
            "e => Math.round(e.getBoundingClientRect().height"
            " / parseFloat(getComputedStyle(e).lineHeight))"
        )
        assert lines == 1, code
    await page.screenshot(path=str(ARTIFACTS / "receipt-phone.png"), full_page=True)
    await page.close()
