"""Screenshots of the customer's path and of the console at 1366x768, compared with the
references in ``tests/browser/screenshots/`` (looked at by a person when made).

The customer's path: the /fernwartung form, a wrong key (the key kept in its field), the
choice page after a good key, the service-request receipt. The console: the agent's
dashboard, the auditor's audit trail, a 403 and a 404 page.

Bound: a shot matches when its size is the reference's and at most
``MAX_DIFFERING`` (0.5 %) of its pixels differ by more than ``CHANNEL_TOLERANCE``
(16 of 255) in any colour channel; small anti-aliasing noise passes, a moved box or a
changed colour does not.

Stable by construction: the digits of what changes from run to run (times, dates,
consultation and reference numbers: ``Shot.frozen``) are set to 0 before the shot,
caret and animations are off, and codes with letters and whatever changes in length
with the clock are masked (``Shot.masks``: Playwright's ``mask=``, one flat colour).
The references were made with Debian chromium and the fonts of the test image;
another font set needs new references.

On a mismatch the shot and a diff picture (differing pixels red over the grey shot)
are written to ``test-artifacts/screenshots/`` and the message names them.

Regenerate every reference (after a deliberate change of a page; look at each one with
an image viewer before committing it)::

  SUPPORTDESK_UPDATE_SCREENSHOTS=1 PYTHONPATH=src .venv/bin/pytest tests/browser/test_screenshots.py

or only some, by name: ``SUPPORTDESK_UPDATE_SCREENSHOTS=dashboard,audit ...``.
"""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.async_api import Browser, BrowserContext, Page

from tests.agent_login import sign_in_page
from tests.browser import page_tour
from tests.conftest import CHROMIUM_INSTALLED
from tests.live_server import LiveServer, live_server
from tests.server.relay_parties import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM_INSTALLED, reason="Debian chromium is not installed"),
]
ROOT = Path(__file__).resolve().parents[2]
REFERENCES = Path(__file__).parent / "screenshots"
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1366, "height": 768}
CHANNEL_TOLERANCE = 16
MAX_DIFFERING = 0.005
# Taken out of the environment: the servers the tests start refuse SUPPORTDESK_ names
# that are no setting (config/), and this one is the tests' alone.
UPDATE = os.environ.pop("SUPPORTDESK_UPDATE_SCREENSHOTS", "")

FREEZE_DIGITS = """(selectors) => {
  for (const element of document.querySelectorAll(selectors.join(",") || ":not(*)")) {
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      node.nodeValue = node.nodeValue.replace(/[0-9]/g, "0");
    }
    if ("value" in element && typeof element.value === "string") {
      element.value = element.value.replace(/[0-9]/g, "0");
    }
  }
}"""


@dataclass
class Visitors:
    url: str
    customer: Page
    agent: Page
    auditor: Page


@dataclass(frozen=True)
class Shot:
    """One page to photograph: its reference's name, how to get there, where digits
    are frozen to 0 (times, numbers: the same width in every run), and what is masked
    (CSS selectors: codes with letters, anything whose length changes with the clock)."""

    name: str
    visit: Callable[[Visitors], Awaitable[Page]]
    frozen: tuple[str, ...] = ()
    masks: tuple[str, ...] = ()


async def _go(page: Page, url: str) -> Page:
    await page.goto(url)
    return page


async def _fernwartung(v: Visitors) -> Page:
    return await _go(v.customer, v.url + "/fernwartung")


async def _wrong_key(v: Visitors) -> Page:
    page = await _go(v.customer, v.url + "/fernwartung")
    await page.locator("#name").fill("Erika Müller")
    await page.locator("#support_key").fill(page_tour.WRONG_KEY)
    return await page_tour.submit(page, "form.join")


async def _choice(v: Visitors) -> Page:
    key, _ = await page_tour.issue_key(v.agent, v.url)
    page = await _go(v.customer, v.url + "/fernwartung")
    await page.locator("#name").fill("Erika Müller")
    await page.locator("#support_key").fill(key)
    return await page_tour.submit(page, "form.join")


async def _receipt(v: Visitors) -> Page:
    page = await _go(v.customer, v.url + "/serviceauftrag")
    await page.locator("#topic").select_option("online-banking")
    await page.locator("#description").fill("Die VR-NetKey-Anmeldung meldet einen Fehler.")
    await page.locator("input[name=contact_kind][value=phone]").check()
    await page.locator("#contact_value").fill("0941 123456")
    await page_tour.submit(page, "form[action='/serviceauftrag']")
    await page.wait_for_url("**/serviceauftrag/eingegangen")
    return page


async def _dashboard(v: Visitors) -> Page:
    """With one key issued and waiting for its customer; once its socket is open (the
    status line says so) and the tables it sends have arrived, so no later update
    replaces the frozen figures."""
    await page_tour.issue_key(v.agent, v.url)
    page = await _go(v.agent, v.url + "/console/")
    await page.locator("[data-dashboard][data-socket=open]").wait_for()
    await page.wait_for_timeout(1000)
    return page


async def _audit(v: Visitors) -> Page:
    return await _go(v.auditor, v.url + "/console/audit")


async def _forbidden(v: Visitors) -> Page:
    return await _go(v.agent, v.url + "/console/admin/agents")


async def _not_found(v: Visitors) -> Page:
    return await _go(v.agent, v.url + "/console/sessions/BN-2026-0000-0000-0")


# When the dashboard or the audit page change, their references are made again with
# SUPPORTDESK_UPDATE_SCREENSHOTS=dashboard,audit; a new kind of live figure (a countdown,
# a waiting time) or code belongs in the dashboard's masks (the fifth column of "mine"
# is the verification code).
TABLES = ("table tbody td",)
CONSOLE_LIVE = ("[data-countdown]", "[data-clock]", "[data-table=mine] td:nth-child(5)")
# The console's pages first: the audit trail before the customer's wrong key, whose
# refusal is written in batches at a moment of the server's choosing.
SHOTS = [
    Shot("audit", _audit, frozen=TABLES),
    Shot("dashboard", _dashboard, frozen=TABLES, masks=CONSOLE_LIVE),
    Shot("console-403", _forbidden),
    Shot("console-404", _not_found),
    Shot("fernwartung", _fernwartung),
    Shot("wrong-key", _wrong_key),
    Shot(
        "choice",
        _choice,
        frozen=("[data-consultation-number]",),
        masks=("[data-verification-code]",),
    ),
    Shot("receipt", _receipt, frozen=("[data-reference]",), masks=("[data-secret]",)),
]


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with page_tour.chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(
        tmp_path_factory.mktemp("screens"), SUPPORTDESK_SERVER_TRUSTED_PROXIES="127.0.0.1"
    ) as running:
        page_tour.add_agents(running, [("anna", "agent"), ("rita", "auditor")])
        yield running


async def signed_in(browser: Browser, server: LiveServer, username: str) -> Page:
    context: BrowserContext = await browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    page = await context.new_page()
    await sign_in_page(page, server.url, username, PASSWORD, fresh=True)
    return page


def compare(name: str, shot: bytes) -> str | None:
    """None when ``shot`` matches its reference within the bound, else why not (the
    shot and a diff picture are then under test-artifacts/screenshots/)."""
    reference = REFERENCES / f"{name}.png"
    actual = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=np.int16)
    if not reference.exists():
        return f"{name}: no reference {reference} (make it: see this module's docstring)"
    expected = np.asarray(Image.open(reference).convert("RGB"), dtype=np.int16)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    saved = ARTIFACTS / f"{name}-actual.png"
    if actual.shape != expected.shape:
        saved.write_bytes(shot)
        return (
            f"{name}: size {actual.shape[1::-1]} != reference {expected.shape[1::-1]}; see {saved}"
        )
    differing = np.abs(actual - expected).max(axis=2) > CHANNEL_TOLERANCE
    share = float(differing.mean())
    if share <= MAX_DIFFERING:
        return None
    saved.write_bytes(shot)
    diff = np.repeat(actual.mean(axis=2, keepdims=True) * 0.4 + 150, 3, axis=2)
    diff[differing] = (255, 0, 0)
    diff_path = ARTIFACTS / f"{name}-diff.png"
    Image.fromarray(diff.astype(np.uint8)).save(diff_path)
    bound = f"bound {MAX_DIFFERING:.1%}"
    return f"{name}: {share:.2%} of pixels differ ({bound}); see {saved} and {diff_path}"


def store_reference(name: str, shot: bytes) -> None:
    """Write the reference, small: a 256-colour palette (no dither) is less than half
    the size, and leaves at most a few hundredths of a percent of the pixels beyond the
    per-channel tolerance — far inside the bound."""
    REFERENCES.mkdir(exist_ok=True)
    picture = Image.open(io.BytesIO(shot)).convert("RGB")
    palette = picture.quantize(
        colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
    )
    palette.save(REFERENCES / f"{name}.png", optimize=True)


def updating(name: str) -> bool:
    return UPDATE == "1" or name in UPDATE.split(",")


async def test_pages_look_like_their_references(browser: Browser, server: LiveServer) -> None:
    agent = await signed_in(browser, server, "anna")
    auditor = await signed_in(browser, server, "rita")
    customer_context = await browser.new_context(
        viewport=VIEWPORT,  # type: ignore[arg-type]
        extra_http_headers={"X-Forwarded-For": "203.0.113.200"},
    )
    visitors = Visitors(server.url, await customer_context.new_page(), agent, auditor)
    mismatches: list[str] = []
    try:
        for shot in SHOTS:
            page = await shot.visit(visitors)
            await page.evaluate(FREEZE_DIGITS, list(shot.frozen))
            picture = await page.screenshot(
                full_page=True,
                animations="disabled",
                caret="hide",
                mask=[page.locator(selector) for selector in shot.masks],
                mask_color="#ff00ff",
            )
            if updating(shot.name):
                store_reference(shot.name, picture)
                continue
            problem = compare(shot.name, picture)
            if problem:
                mismatches.append(problem)
    finally:
        for context in (customer_context, agent.context, auditor.context):
            await context.close()
    assert not mismatches, "\n".join(mismatches)
