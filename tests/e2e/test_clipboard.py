"""Clipboard text between the agent's console and the customer's X desktop, end to end:
Chromium with noVNC, the real server and relay, the applet in text mode on Xvfb, xclip
as the customer's program that copies and pastes."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.desktop import Desktop, require_tool, wait_until
from tests.e2e.test_live_session import (
    ARTIFACTS,
    agent_page,
    desktop,
    new_session_joined,
    server,
    start_applet,
)
from tests.live_server import LiveServer

pytestmark = [pytest.mark.desktop, pytest.mark.browser]
__all__ = ["desktop", "server"]  # module fixtures shared with the live-session test

GREETING = "Grüße aus Köln – 100 €"
# The applet's Extended Clipboard "notify: text available" (ServerCutText, length -4).
NOTIFY_TEXT = bytes.fromhex("03000000fffffffc08000001")


class ViewerFrames:
    """Counts, per phase of the test, the clipboard notifies the browser receives."""

    def __init__(self) -> None:
        self.phase = "start"
        self.notifies: dict[str, int] = {}

    def watch(self, page: Page) -> None:
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes) and NOTIFY_TEXT in payload:
            self.notifies[self.phase] = self.notifies.get(self.phase, 0) + 1


def paste(desktop: Desktop) -> str:
    """What a program on the customer's desktop gets when it pastes."""
    done = subprocess.run(
        [require_tool("xclip"), "-o", "-selection", "clipboard"],
        env=desktop.env, capture_output=True, timeout=10, check=False,
    )  # fmt: skip
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else ""


def copy(desktop: Desktop, text: str) -> None:
    """The customer copies ``text`` in a program that keeps the clipboard (xclip -i)."""
    owner = subprocess.Popen(
        [require_tool("xclip"), "-i", "-quiet", "-selection", "clipboard"],
        env=desktop.env, stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert owner.stdin is not None
    owner.stdin.write(text.encode())
    owner.stdin.close()
    desktop.children.append(owner)  # type: ignore[arg-type]


async def wait_for_paste(desktop: Desktop, expected: str) -> None:
    await asyncio.to_thread(
        wait_until, lambda: paste(desktop) == expected, 10, f"{expected!r} on the X clipboard"
    )


async def start_session(
    browser: Browser, server: LiveServer, desktop: Desktop, home: Path, frames: ViewerFrames
) -> tuple[Page, subprocess.Popen[str]]:
    page = await agent_page(browser, server)
    frames.watch(page)
    number, token = await new_session_joined(page, server)
    applet = start_applet(server, token, desktop, home)
    assert applet.stdin is not None
    # Control: yes; file transfer: no; diagnostics: no; then the final "Ja".
    applet.stdin.write("j\nn\nn\nJa\n")
    applet.stdin.flush()
    await page.goto(f"{server.url}/console/sessions/{number}/live")
    return page, applet


def toggle_control(applet: subprocess.Popen[str]) -> None:
    assert applet.stdin is not None
    applet.stdin.write("s\n")
    applet.stdin.flush()


async def test_clipboard_text_with_umlauts_crosses_only_with_control(
    desktop: Desktop, server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    require_tool("xclip")
    ARTIFACTS.mkdir(exist_ok=True)
    frames = ViewerFrames()
    page, applet = await start_session(browser, server, desktop, tmp_path, frames)
    try:
        live = page.locator("[data-live]")
        await expect(live).to_have_attribute("data-viewer", "connected", timeout=15000)
        await expect(live).to_have_attribute("data-control", "yes")
        panel = page.get_by_role("textbox", name="Zwischenablage")
        send = page.get_by_role("button", name="An Kunden senden")
        await expect(panel).to_be_enabled()

        # Agent -> customer: the console's text lands on the customer's X clipboard.
        await panel.fill(f"{GREETING}\nZeile 2")
        await send.click()
        await wait_for_paste(desktop, f"{GREETING}\nZeile 2")
        await expect(page.locator("[data-clipboard-status]")).to_have_text(
            "An die Zwischenablage des Kunden gesendet."
        )

        # Customer -> agent: what the customer copies appears in the console.
        frames.phase = "control"
        copy(desktop, f"Kunde: {GREETING}")
        await expect(panel).to_have_value(f"Kunde: {GREETING}", timeout=10000)
        await page.locator("[data-clipboard]").screenshot(path=str(ARTIFACTS / "clipboard.png"))
        await page.screenshot(path=str(ARTIFACTS / "console-clipboard.png"))

        # The customer takes control back: the panel closes and nothing crosses.
        toggle_control(applet)
        await expect(live).to_have_attribute("data-control", "no", timeout=5000)
        await expect(panel).to_be_disabled()
        await expect(send).to_be_disabled()
        frames.phase = "no control"
        copy(desktop, "geheim ohne Steuerung")
        await wait_for_paste(desktop, "geheim ohne Steuerung")
        await asyncio.sleep(1.0)  # time for a leak to show; the check below needs no timing

        # Control again: the earlier copy was never sent (not later either); new ones are.
        frames.phase = "control again"
        toggle_control(applet)
        await expect(live).to_have_attribute("data-control", "yes", timeout=5000)
        copy(desktop, "wieder mit Steuerung")
        await expect(panel).to_have_value("wieder mit Steuerung", timeout=10000)
        assert frames.notifies.get("no control", 0) == 0, frames.notifies
        assert frames.notifies.get("control", 0) >= 1, frames.notifies  # the detector works

        # And the agent's text reaches the customer again.
        await panel.fill("Ärger? Nein: Öl & Übung")
        await send.click()
        await wait_for_paste(desktop, "Ärger? Nein: Öl & Übung")
    finally:
        if applet.poll() is None:
            assert applet.stdin is not None
            applet.stdin.write("e\n")
            applet.stdin.flush()
            try:
                applet.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                applet.kill()
