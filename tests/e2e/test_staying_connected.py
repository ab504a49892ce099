"""The support program stays connected: the real server, the applet in text mode on Xvfb
behind a fault-injecting proxy (a dead Wi-Fi), the agent's noVNC in Chromium.

(a) a 10 s black hole: the session resumes and the agent sees the screen again;
(b) a gap past the grace: the session ends as ``connection_lost`` on both sides and the
    customer keeps a receipt that says so;
(c) a gap past the re-consent limit: the customer is asked again, says yes, and the
    session goes on.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from tests.desktop import Desktop, wait_until, xvfb
from tests.e2e.test_live_session import (
    PASSWORD,
    agent_page,
    canvas_matches_screen,
    new_session_joined,
)
from tests.faults import FaultProxy
from tests.live_server import LiveServer, add_agent, live_server, self_signed_certificate

pytestmark = [pytest.mark.desktop, pytest.mark.browser]
SURVEY = "Wie zufrieden waren Sie mit der Fernwartung?"  # text mode asks after the end
RECONNECTING = "Verbindung unterbrochen – wird wiederhergestellt …"
RESTORED = "Verbindung wiederhergestellt"
CONNECTION_LOST = "Verbindung verloren – die Sitzung wurde beendet"
ASKED_AGAIN = "Die Verbindung war eine Weile unterbrochen."


@pytest.fixture(scope="module")
def desktop() -> Iterator[Desktop]:
    with xvfb(1024, 768, 24) as desk:
        desk.xterm(["bash", "--norc", "--noprofile"], geometry="100x30+0+0")
        yield desk


@contextmanager
def server_with(folder: Path, grace: float, reconsent: float) -> Iterator[LiveServer]:
    """A live server with this test's staying-connected limits, and an agent."""
    folder.mkdir()
    tls = self_signed_certificate(folder)  # cert.pem in the server's folder
    with live_server(
        folder,
        tls=tls,
        SUPPORTDESK_SESSION_RECONNECT_GRACE_SECONDS=str(grace),
        SUPPORTDESK_SESSION_RECONSENT_AFTER_SECONDS=str(reconsent),
    ) as running:
        add_agent(running, "Anna Berger", PASSWORD)
        yield running


class Applet:
    """``supportdesk join --text`` on the desktop, its output collected as it comes."""

    def __init__(self, url: str, token: str, cert: Path, desktop: Desktop, home: Path) -> None:
        env = {**desktop.env, "HOME": str(home), "XDG_DOCUMENTS_DIR": str(home / "Dokumente")}
        self.home = home
        self.process = subprocess.Popen(
            [sys.executable, "-m", "supportdesk", "join", "--server", url,
             f"--token={token}", "--text", "--ca-file", str(cert)],  # a token may start with -
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
        self._output = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        while chunk := os.read(self.process.stdout.fileno(), 4096):
            self._output += chunk

    @property
    def output(self) -> str:
        return self._output.decode("utf-8", errors="replace")

    def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((line + "\n").encode())
        self.process.stdin.flush()

    async def shows(self, text: str, within: float = 20, count: int = 1) -> None:
        def seen() -> bool:
            if self.process.poll() is not None and self.output.count(text) < count:
                raise AssertionError(f"the applet ended without {text!r}:\n{self.output}")
            return self.output.count(text) >= count

        try:
            await asyncio.to_thread(wait_until, seen, within, repr(text))
        except TimeoutError:
            raise AssertionError(f"no {text!r} in the applet's output:\n{self.output}") from None

    async def answer_consent(self, answers: list[str], asked_before: int = 0) -> None:
        """Answer each question once it is on the screen (the text mode's reader hands
        a line to the dialog only while a question is open)."""
        for index, answer in enumerate(answers[:-1]):
            await self.shows("(j/n):", count=asked_before * (len(answers) - 1) + index + 1)
            self.type(answer)
        await self.shows('"Ja" oder "Nein"', count=asked_before + 1)
        self.type(answers[-1])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def receipt(self, number: str) -> dict[str, Any]:
        path = self.home / "Dokumente" / f"Fernwartung-{number}.json"
        data: dict[str, Any] = json.loads(path.read_text())
        return data


def audit_entries(server: LiveServer, subject: str) -> list[dict[str, Any]]:
    exported = subprocess.run(
        [sys.executable, "-m", "supportdesk", "audit", "export"],
        cwd=server.workdir, capture_output=True, text=True, timeout=60, env=os.environ,
    )  # fmt: skip
    entries = [json.loads(line) for line in exported.stdout.splitlines()]
    return [e for e in entries if e["subject"] == subject]


async def viewer_shows_the_screen(page: Page, desktop: Desktop, within: float = 30) -> None:
    live = page.locator("[data-live]")
    await expect(live).to_have_attribute("data-viewer", "connected", timeout=within * 1000)
    # The newest viewer's canvas (the console may briefly hold an old one next to it).
    canvas = page.locator("[data-screen] canvas").last
    deadline = time.monotonic() + 10
    while True:
        await asyncio.sleep(1.0)  # let the full update paint
        difference = canvas_matches_screen(await canvas.screenshot(), desktop)
        if difference < 12:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"canvas differs from the screen by {difference:.1f}")


async def joined(
    browser: Browser, server: LiveServer, desktop: Desktop, home: Path
) -> tuple[Page, str, Applet, FaultProxy]:
    page = await agent_page(browser, server)
    number, token = await new_session_joined(page, server)
    port = int(server.url.rsplit(":", 1)[1])
    proxy = FaultProxy("127.0.0.1", port)
    proxy.start()
    await asyncio.to_thread(home.mkdir)
    applet = Applet(
        f"https://127.0.0.1:{proxy.port}", token, server.workdir / "cert.pem", desktop, home
    )
    await page.goto(f"{server.url}/console/sessions/{number}/live")
    await applet.answer_consent(["j", "n", "n", "Ja"])
    await applet.shows("Fernwartung aktiv")
    await viewer_shows_the_screen(page, desktop)
    return page, number, applet, proxy


async def test_a_ten_second_black_hole_resumes_and_the_agent_sees_the_screen_again(
    desktop: Desktop, browser: Browser, tmp_path: Path
) -> None:
    with server_with(tmp_path / "server", grace=120, reconsent=30) as server:
        page, number, applet, proxy = await joined(browser, server, desktop, tmp_path / "home")
        try:
            proxy.black_hole(True)  # the Wi-Fi dies; every connection stays open
            await applet.shows(RECONNECTING, within=8)
            notice = page.locator("[data-notice]")
            await expect(notice).to_contain_text("Verbindung zum Kunden unterbrochen")
            await asyncio.sleep(10 - 4)
            proxy.black_hole(False)
            back = time.monotonic()
            await applet.shows(RESTORED, within=10)
            print(f"link back {time.monotonic() - back:.1f} s after the network")
            # New content after the gap, so the picture is the live screen, not the old one.
            desktop.xterm(["sh", "-c", "echo back again; sleep 60"], geometry="30x5+600+400")
            await asyncio.sleep(1)
            await viewer_shows_the_screen(page, desktop)
            live = page.locator("[data-live]")
            await expect(live).to_have_attribute("data-control", "yes")
            await asyncio.sleep(2)
            canvases = await page.locator("[data-screen] canvas").count()
            print(f"canvases on the live page after the resume: {canvases}")
            applet.type("e")
            await expect(live).to_have_attribute("data-state", "ended", timeout=5000)
            await applet.shows(SURVEY, within=10)
            applet.type("")  # the exit survey, skipped
            await asyncio.to_thread(applet.process.wait, 15)
        finally:
            applet.stop()
            proxy.stop()
        print(applet.output)
        assert applet.process.returncode == 0, applet.output
        assert RECONNECTING in applet.output and "heartbeat" not in applet.output
        assert applet.receipt(number)["end_reason"] == "customer"
        entries = await asyncio.to_thread(audit_entries, server, number)
        events = [e["event_type"] for e in entries]
        assert "session.link_lost" in events and "session.link_restored" in events, events
        restored = next(e for e in entries if e["event_type"] == "session.link_restored")
        assert restored["data"]["consent_again"] is False
        assert "consent.renewed" not in events


async def test_a_gap_past_the_grace_ends_the_session_as_connection_lost(
    desktop: Desktop, browser: Browser, tmp_path: Path
) -> None:
    with server_with(tmp_path / "server", grace=5, reconsent=30) as server:
        page, number, applet, proxy = await joined(browser, server, desktop, tmp_path / "home")
        try:
            proxy.black_hole(True)
            await applet.shows(RECONNECTING, within=8)
            await applet.shows(CONNECTION_LOST, within=15)  # 4 s of silence, then 5 s
            live = page.locator("[data-live]")
            await expect(live).to_have_attribute("data-state", "ended", timeout=10000)
            await asyncio.to_thread(applet.process.wait, 15)
        finally:
            proxy.black_hole(False)
            applet.stop()
            proxy.stop()
        assert "Quittung gespeichert" in applet.output, applet.output
        receipt = applet.receipt(number)
        assert receipt["end_reason"] == "connection_lost"
        text = (applet.home / "Dokumente" / f"Fernwartung-{number}.txt").read_text()
        assert "Verbindung verloren" in text
        entries = await asyncio.to_thread(audit_entries, server, number)
        ended = [e for e in entries if e["event_type"] == "session.ended"]
        assert ended and ended[-1]["data"].get("reason") == "connection_lost", ended


async def test_a_gap_past_the_reconsent_limit_asks_the_customer_again(
    desktop: Desktop, browser: Browser, tmp_path: Path
) -> None:
    with server_with(tmp_path / "server", grace=30, reconsent=2) as server:
        page, number, applet, proxy = await joined(browser, server, desktop, tmp_path / "home")
        try:
            proxy.black_hole(True)
            await applet.shows(RECONNECTING, within=8)
            await asyncio.sleep(10 - 4)
            proxy.black_hole(False)
            await applet.shows(RESTORED, within=10)
            await applet.shows(ASKED_AGAIN, within=10)
            await applet.answer_consent(["j", "n", "n", "Ja"], asked_before=1)
            await applet.shows("Fernwartung aktiv", count=2)
            await viewer_shows_the_screen(page, desktop)
            live = page.locator("[data-live]")
            await expect(live).to_have_attribute("data-control", "yes")
            applet.type("e")
            await expect(live).to_have_attribute("data-state", "ended", timeout=5000)
            await applet.shows(SURVEY, within=10)
            applet.type("")  # the exit survey, skipped
            await asyncio.to_thread(applet.process.wait, 15)
        finally:
            applet.stop()
            proxy.stop()
        assert applet.process.returncode == 0, applet.output
        entries = await asyncio.to_thread(audit_entries, server, number)
        events = [e["event_type"] for e in entries]
        assert "consent.renewed" in events, events
        restored = next(e for e in entries if e["event_type"] == "session.link_restored")
        assert restored["data"]["consent_again"] is True
