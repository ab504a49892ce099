"""Files and diagnostics in a whole session on a real desktop: the applet in text mode on
Xvfb answering on its standard input, the agent in headless Chromium, the real server.

A file from the console arrives intact after the customer's "j"; a declined one
leaves nothing behind; a file from the customer comes down as the browser's download;
a diagnostics report the customer agreed to send appears in the console; the
recording holds the transfers, the file's content and the report.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from supportdesk.recording import RecordingReader, RecordKind
from supportdesk.recording.format import Record
from tests.desktop import Desktop, xvfb
from tests.e2e.test_live_session import (
    ARTIFACTS,
    agent_page,
    audit_events,
    new_session_joined,
    start_applet,
)
from tests.live_server import LiveServer, add_agent, live_server, self_signed_certificate

pytestmark = [pytest.mark.desktop, pytest.mark.browser]
PASSWORD = "korrekt pferd batterie heftklammer"


@pytest.fixture(scope="module")
def desktop() -> Iterator[Desktop]:
    with xvfb(1024, 768, 24) as desk:
        yield desk


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("files-live")
    tls = self_signed_certificate(folder)
    with live_server(folder, tls=tls) as running:
        add_agent(running, "Anna Berger", PASSWORD)
        yield running


class AppletOutput:
    """The text-mode applet's standard output, read as it comes."""

    def __init__(self, applet: subprocess.Popen[str]) -> None:
        self.applet = applet
        self.lines: list[str] = []
        self._seen = 0
        self._changed = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.applet.stdout is not None
        for line in self.applet.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    def wait_for(self, pattern: str, timeout: float = 30) -> str:
        """The next line (after the last one waited for) matching ``pattern``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for index in range(self._seen, len(self.lines)):
                    if re.search(pattern, self.lines[index]):
                        self._seen = index + 1
                        return self.lines[index]
                left = deadline - time.monotonic()
                if left <= 0 or (self.applet.poll() is not None and not self._pending()):
                    raise AssertionError(
                        f"applet never printed {pattern!r}:\n" + "\n".join(self.lines)
                    )
                self._changed.wait(min(left, 0.5))

    def _pending(self) -> bool:
        return self.applet.stdout is not None and not self.applet.stdout.closed

    def answer(self, prompt: str, line: str) -> None:
        """Wait for ``prompt`` and type ``line`` as the customer."""
        self.wait_for(prompt)
        assert self.applet.stdin is not None
        self.applet.stdin.write(line + "\n")
        self.applet.stdin.flush()


async def upload(page: Page, path: Path) -> None:
    await page.get_by_label("Datei an den Kunden senden").set_input_files(str(path))
    await page.get_by_role("button", name="Datei senden").click()


def file_row(page: Page, name: str) -> object:
    return page.locator("[data-files] li", has_text=name)


async def test_files_both_ways_and_a_diagnostics_report(
    desktop: Desktop, server: LiveServer, browser: Browser, tmp_path: Path
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    desktop.xterm(["bash", "--norc", "--noprofile"], geometry="80x24+0+0", cwd=str(tmp_path))
    page = await agent_page(browser, server)
    number, token = await new_session_joined(page, server)
    home = tmp_path / "home"
    home.mkdir()
    received_folder = home / "Dokumente" / "Fernwartung-Dateien"
    applet = start_applet(server, token, desktop, home)
    output = AppletOutput(applet)
    try:
        assert applet.stdin is not None
        # Control: no; file transfer: yes; diagnostics: yes; then the final "Ja".
        applet.stdin.write("n\nj\nj\nJa\n")
        applet.stdin.flush()
        await page.goto(f"{server.url}/console/sessions/{number}/live")
        await expect(page.locator("[data-files-panel]")).to_have_attribute(
            "data-enabled", "yes", timeout=15000
        )

        # Agent -> customer, approved: the file arrives byte for byte.
        guide = tmp_path / "Anleitung Überweisung.pdf"
        guide.write_bytes(os.urandom(300_000))
        await upload(page, guide)
        await asyncio.to_thread(output.answer, "Datei annehmen", "j")
        row = page.locator("[data-files] li", has_text=guide.name)
        await expect(row).to_have_attribute("data-state", "done", timeout=15000)
        await asyncio.to_thread(output.wait_for, "Datei empfangen")
        arrived = received_folder / guide.name
        assert (
            hashlib.sha256(arrived.read_bytes()).digest()
            == hashlib.sha256(guide.read_bytes()).digest()
        )

        # Agent -> customer, declined: nothing lands, not even a part file.
        unwanted = tmp_path / "unerwünscht.txt"
        unwanted.write_text("Bitte nicht annehmen\n" * 1000, encoding="utf-8")
        await upload(page, unwanted)
        await asyncio.to_thread(output.answer, "Datei annehmen", "n")
        row = page.locator("[data-files] li", has_text=unwanted.name)
        await expect(row).to_have_attribute("data-state", "declined", timeout=15000)
        assert sorted(p.name for p in received_folder.iterdir()) == [guide.name]

        # Customer -> agent: the console offers the browser's download.
        statement = tmp_path / "Kontoauszug März.csv"
        statement.write_text("Datum;Betrag\n03.11.2026;-12,50\n" * 4000, encoding="utf-8")
        applet.stdin.write(f"datei {statement}\n")
        applet.stdin.flush()
        await asyncio.to_thread(output.answer, "an den Berater senden", "j")
        row = page.locator("[data-files] li", has_text=statement.name)
        await expect(row).to_have_attribute("data-state", "done", timeout=15000)
        async with page.expect_download() as waiting:
            await row.get_by_role("link", name="Herunterladen").click()
        download = await waiting.value
        assert download.suggested_filename == statement.name
        downloaded = await download.path()
        assert await asyncio.to_thread(Path(downloaded).read_bytes) == statement.read_bytes()

        # Diagnostics: the customer reads the report, agrees, the agent sees it.
        await page.get_by_role("button", name="Diagnose anfordern").click()
        await asyncio.to_thread(output.answer, "Bericht senden", "j")
        report = page.locator("[data-diagnostics-report]")
        await expect(report).to_be_visible(timeout=30000)
        await expect(report).to_contain_text("Uhrzeit und Zeitzone")
        await expect(report).to_contain_text("Betriebssystem")
        await page.screenshot(path=str(ARTIFACTS / "console-files-diagnostics.png"), full_page=True)

        applet.stdin.write("e\n")
        applet.stdin.flush()
        await expect(page.locator("[data-live]")).to_have_attribute(
            "data-state", "ended", timeout=5000
        )
        await asyncio.to_thread(output.answer, "Wie zufrieden", "")  # the survey, skipped
        applet.wait(timeout=20)
    finally:
        if applet.poll() is None:
            applet.kill()
    (ARTIFACTS / "applet-files-output.txt").write_text("\n".join(output.lines))
    assert applet.returncode == 0, "\n".join(output.lines)

    # The receipt lists both files that crossed; the declined one did not.
    receipt = (home / "Dokumente" / f"Fernwartung-{number}.txt").read_text()
    assert guide.name in receipt and statement.name in receipt
    assert unwanted.name not in receipt

    events = await asyncio.to_thread(audit_events, server, number)
    assert events.count("session.file_transfer") == 3, events
    assert "session.diagnostics_sent" in events
    # The customer's file is gone from the server with the session.
    assert not (server.workdir / "var" / "transfers" / number.replace("-", "")).exists()

    # The recording holds the transfers' events, the file's content (the chunks on
    # channel 0) and the report the customer sent.
    records = await asyncio.to_thread(recorded, server, number)
    events = [json.loads(r.payload) for r in records if r.kind is RecordKind.FILE_EVENT]
    done = {e["name"]: e["sha256"] for e in events if e["state"] == "done"}
    assert done[guide.name] == hashlib.sha256(guide.read_bytes()).hexdigest()
    assert done[statement.name] == hashlib.sha256(statement.read_bytes()).hexdigest()
    control = [json.loads(r.payload) for r in records if r.kind is RecordKind.CONTROL]
    guide_id = next(e["transfer_id"] for e in events if e["name"] == guide.name)
    # Each chunk once: the message without its data, then the bytes (FILE_DATA).
    chunks = []
    for record, after in itertools.pairwise(records):
        message = json.loads(record.payload) if record.kind is RecordKind.CONTROL else {}
        if message.get("type") == "file_chunk" and message.get("id") == guide_id:
            assert "data" not in message and after.kind is RecordKind.FILE_DATA
            assert len(after.payload) == message["bytes"]
            chunks.append((message["seq"], after.payload))
    assert b"".join(data for _seq, data in sorted(chunks)) == guide.read_bytes()
    assert any(m.get("type") == "diagnostics_report" for m in control)


def recorded(server: LiveServer, number: str) -> list[Record]:
    key = bytes.fromhex((server.workdir / "keys" / "recording-master.key").read_text().strip())
    path = server.workdir / "var" / "recordings" / f"{number}.sdrec"
    with RecordingReader(path, key) as reader:
        return list(reader.records())
