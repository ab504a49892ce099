"""The chat between the agent's console and the customer's window, through the real
server: the program in window mode on Xvfb (join_tk_child.py), the agent in headless
Chromium. A message from the console appears in the window under the agent's name; the
customer's reply, typed into the window, appears in the console; the window names who
controls."""

from __future__ import annotations

import asyncio
import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import Browser, expect

from tests.desktop import Desktop, require_tool, xvfb
from tests.e2e.test_live_session import agent_page, new_session_joined
from tests.live_server import LiveServer, add_agent, live_server, self_signed_certificate

pytestmark = [pytest.mark.desktop, pytest.mark.browser]
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "korrekt pferd batterie heftklammer"
ZONE = "Europe/Berlin"


@pytest.fixture(scope="module")
def desktop() -> Iterator[Desktop]:
    with xvfb(1366, 768, 24) as desk:
        yield desk


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("window-chat")
    tls = self_signed_certificate(folder)
    with live_server(folder, tls=tls) as running:
        add_agent(running, "Anna Berger", PASSWORD)
        yield running


def local_now() -> str:
    return datetime.now(ZoneInfo(ZONE)).strftime("%H:%M")


class Window:
    """The program's reports of what its active window shows, read as they come."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc
        self.last: dict[str, Any] = {}
        self._reports: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._reports.put(json.loads(line))
        self._reports.put(None)

    def wait_for(self, wanted: Callable[[dict[str, Any]], bool], timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while not wanted(self.last):
            try:
                report = self._reports.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise AssertionError(f"the window never showed it; last: {self.last}") from None
            if report is None:
                err = self.proc.stderr.read() if self.proc.stderr else ""
                raise AssertionError(f"the program ended: {err[-3000:]}")
            self.last = report
        return self.last


def start_program(
    server: LiveServer, token: str, desktop: Desktop, home: Path
) -> subprocess.Popen[str]:
    env = {**desktop.env, "HOME": str(home), "TZ": ZONE}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.join_tk_child", server.url, token,
         str(server.workdir / "cert.pem")],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


async def test_chat_between_the_console_and_the_customers_window(
    desktop: Desktop, server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    page = await agent_page(browser, server)
    number, token = await new_session_joined(page, server)
    home = tmp_path / "home"
    home.mkdir()
    proc = start_program(server, token, desktop, home)
    window = Window(proc)
    xdotool = require_tool("xdotool")

    async def click(where: list[int]) -> None:
        x, y = (str(n) for n in where)
        await asyncio.to_thread(desktop.run, xdotool, "mousemove", "--sync", x, y)
        await asyncio.to_thread(desktop.run, xdotool, "click", "1")

    async def shows(wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        return await asyncio.to_thread(window.wait_for, wanted)  # type: ignore[no-any-return]

    try:
        await page.goto(f"{server.url}/console/sessions/{number}/live")
        live = page.locator("[data-live]")
        await expect(live).to_have_attribute("data-viewer", "connected", timeout=30000)
        # The agent's viewer may type: the window says who controls.
        watching = await shows(lambda r: "steuert" in r.get("watching", ""))
        assert watching["watching"] == "Es sehen zu: Anna Berger (Berater, steuert)"

        before = local_now()
        await page.get_by_label("Nachricht an den Kunden").fill("Guten Tag, Frau Müller!")
        await page.get_by_label("Nachricht an den Kunden").press("Enter")
        heard = await shows(lambda r: "Guten Tag" in r.get("shown", ""))
        # The relay's time of the line, on the customer's clock (across a minute's turn).
        assert heard["shown"] in {
            f"Anna Berger  {said}\nGuten Tag, Frau Müller!" for said in (before, local_now())
        }
        assert heard["title"] == "(1) Fernwartung aktiv — wird aufgezeichnet"  # chat closed

        await click(heard["toggle_at"])
        opened = await shows(lambda r: not r["title"].startswith("("))
        await click(opened["entry_at"])
        await asyncio.to_thread(desktop.run, xdotool, "type", "--delay", "20", "Ja, ich sehe Sie.")
        await asyncio.to_thread(desktop.run, xdotool, "key", "Return")
        chat = page.locator("[data-chat] li.customer")
        await expect(chat).to_have_count(1, timeout=10000)
        await expect(chat).to_contain_text("Ja, ich sehe Sie.")
        # The relay has it (and recorded it): the window no longer says "wird gesendet".
        sent = await shows(lambda r: r["shown"].endswith("Ja, ich sehe Sie."))
        await shows(lambda r: "wird gesendet" not in r["shown"])
        assert "\nSie  " in sent["shown"]
        assert window.last["shown"].count("Guten Tag, Frau Müller!") == 1
        await expect(page.locator("[data-chat] li")).to_have_count(2)
    finally:
        proc.kill()
        proc.wait(10)
