"""A whole remote-support session on a real desktop, through the real server, in a real
browser: the applet in text mode on Xvfb with an xterm, the agent in headless Chromium."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from playwright.async_api import Browser, Page, expect

from tests.agent_login import sign_in_page
from tests.desktop import Desktop, wait_until, xvfb
from tests.live_server import (
    LiveServer,
    add_agent,
    live_server,
    self_signed_certificate,
)

pytestmark = [pytest.mark.desktop, pytest.mark.browser]
ARTIFACTS = Path(__file__).parent.parent.parent / "test-artifacts"
PASSWORD = "korrekt pferd batterie heftklammer"


@pytest.fixture(scope="module")
def desktop() -> Iterator[Desktop]:
    with xvfb(1024, 768, 24) as desk:
        yield desk


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("live")
    tls = self_signed_certificate(folder)
    with live_server(folder, tls=tls) as running:
        add_agent(running, "Anna Berger", PASSWORD)
        yield running


async def agent_page(browser: Browser, server: LiveServer) -> Page:
    context = await browser.new_context(
        ignore_https_errors=True, viewport={"width": 1500, "height": 1000}
    )
    page = await context.new_page()
    await sign_in_page(page, server.url, "anna", PASSWORD)
    await expect(page.get_by_role("heading", name="Übersicht")).to_be_visible()
    return page


async def new_session_joined(page: Page, server: LiveServer) -> tuple[str, str]:
    """The agent issues a key in the console; the customer redeems it on the portal.
    Returns the consultation number and the applet's join token."""
    await page.get_by_role("button", name="Neue Fernwartung").click()
    key = await page.locator("[data-support-key]").inner_text()
    number = await page.locator("[data-consultation-number]").inner_text()
    trust = ssl.create_default_context(cafile=str(server.workdir / "cert.pem"))
    async with httpx.AsyncClient(verify=trust) as customer:
        answer = await customer.post(
            server.url + "/api/v1/join", json={"name": "Erika Müller", "support_key": key}
        )
    assert answer.status_code == 200, answer.text
    return number, str(answer.json()["token"])


def start_applet(
    server: LiveServer, token: str, desktop: Desktop, home: Path
) -> subprocess.Popen[str]:
    cert = server.workdir / "cert.pem"
    env = {**desktop.env, "HOME": str(home), "XDG_DOCUMENTS_DIR": str(home / "Dokumente")}
    return subprocess.Popen(
        [sys.executable, "-m", "supportdesk", "join", "--server", server.url,
         f"--token={token}", "--text", "--ca-file", str(cert)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env=env, text=True, bufsize=1,
    )  # fmt: skip


def canvas_matches_screen(canvas_png: bytes, desktop: Desktop) -> float:
    """Mean absolute difference per channel between the canvas and a direct screenshot."""
    import io

    from PIL import Image

    shown = np.asarray(Image.open(io.BytesIO(canvas_png)).convert("RGB"), dtype=np.int16)
    direct = desktop.screenshot()[:, :, 2::-1].astype(np.int16)  # BGRX -> RGB
    if shown.shape != direct.shape:
        image = Image.fromarray(shown.astype(np.uint8)).resize((direct.shape[1], direct.shape[0]))
        shown = np.asarray(image, dtype=np.int16)
    return float(np.abs(shown - direct).mean())


def audit_events(server: LiveServer, subject: str) -> list[str]:
    exported = subprocess.run(
        [sys.executable, "-m", "supportdesk", "audit", "export"],
        cwd=server.workdir, capture_output=True, text=True, timeout=60, env=os.environ,
    )  # fmt: skip
    entries = [json.loads(line) for line in exported.stdout.splitlines()]
    return [e["event_type"] for e in entries if e["subject"] == subject]


async def test_agent_sees_types_loses_control_and_sees_the_end(
    desktop: Desktop, server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    work = tmp_path / "xterm"
    work.mkdir()
    desktop.xterm(["bash", "--norc", "--noprofile"], geometry="100x30+0+0", cwd=str(work))
    page = await agent_page(browser, server)
    number, token = await new_session_joined(page, server)
    home = tmp_path / "home"
    home.mkdir()
    applet = start_applet(server, token, desktop, home)
    try:
        assert applet.stdin is not None
        # Control: yes; file transfer: no; diagnostics: no; then the final "Ja".
        applet.stdin.write("j\nn\nn\nJa\n")
        applet.stdin.flush()

        await page.goto(f"{server.url}/console/sessions/{number}/live")
        live = page.locator("[data-live]")
        try:
            # The applet's first start in a fresh checkout can be slow (cold imports).
            await expect(live).to_have_attribute("data-viewer", "connected", timeout=30000)
        except AssertionError:
            applet.kill()
            print("applet output:", applet.communicate(timeout=5)[0])
            raise
        await expect(live).to_have_attribute("data-control", "yes")
        granted = page.locator('[data-field="capabilities"]')
        await expect(granted).to_have_text("Bildschirm sehen, Maus und Tastatur steuern")
        await expect(page.locator('[data-field="state"]')).to_have_text("aktiv")
        await expect(page.locator('[data-field="customer_name"]')).to_have_text("Erika Müller")
        canvas = page.locator("[data-screen] canvas")
        await asyncio.sleep(1.5)  # let the first full update paint
        await canvas.screenshot(path=str(ARTIFACTS / "console-live.png"))
        difference = canvas_matches_screen(await canvas.screenshot(), desktop)
        assert difference < 12, f"canvas differs from the screen by {difference:.1f} on average"

        # Type into the xterm through noVNC, the relay and the applet.
        box = await canvas.bounding_box()
        assert box is not None
        await page.mouse.click(box["x"] + 60, box["y"] + 60)
        await page.keyboard.type("touch created-by-agent\n", delay=20)
        await asyncio.to_thread(
            wait_until, lambda: (work / "created-by-agent").exists(), 10, "the typed file"
        )

        # The customer takes control away: typing no longer reaches the xterm.
        applet.stdin.write("s\n")
        applet.stdin.flush()
        await expect(live).to_have_attribute("data-control", "no", timeout=5000)
        await page.mouse.click(box["x"] + 60, box["y"] + 60)
        await page.keyboard.type("touch should-not-exist\n", delay=20)
        await asyncio.sleep(1.5)
        assert not (work / "should-not-exist").exists()

        # The customer ends: the console shows it at once.
        started = time.monotonic()
        applet.stdin.write("e\n")
        applet.stdin.flush()
        await expect(live).to_have_attribute("data-state", "ended", timeout=3000)
        shown_after = time.monotonic() - started
        notice = page.locator("[data-notice]")
        await expect(notice).to_have_text("Die Sitzung ist beendet. (durch den Kunden)")
        output, _ = applet.communicate(timeout=15)
    finally:
        if applet.poll() is None:
            applet.kill()
    (ARTIFACTS / "applet-output.txt").write_text(output)
    assert applet.returncode == 0, output
    assert "Fernwartung aktiv" in output
    receipt = home / "Dokumente" / f"Fernwartung-{number}.txt"
    assert receipt.exists(), output
    assert (
        number in receipt.read_text()
        and (home / "Dokumente" / f"Fernwartung-{number}.json").exists()
    )
    print(f"console showed the end {shown_after * 1000:.0f} ms after the customer's 'e'")

    # Every step is in the audit trail.
    events = await asyncio.to_thread(audit_events, server, number)
    for expected in (
        "support_key.issued",
        "support_key.redeemed",
        "consent.requested",
        "consent.given",
        "capability.revoked",
        "session.ended",
    ):
        assert any(e.startswith(expected) for e in events), (expected, events)
