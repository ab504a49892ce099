"""The exit survey in the support program, end to end: the real server, the applet sharing
an Xvfb screen, the agent in Chromium. In text mode (``supportdesk join --text``), after
the customer ends, the program asks; the answer is stored with the consultation number,
and an empty first answer skips it and stores nothing. In window mode
(program_survey_child.py), after the agent ends, the program's survey window is clicked
and typed into with xdotool: the answer is stored with the consultation number, and one
click on "Überspringen" stores nothing. The receipt says nothing of it."""

from __future__ import annotations

import asyncio
import json
import queue
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.desktop import Desktop, require_tool, xvfb
from tests.e2e import test_live_session as live
from tests.e2e.test_staying_connected import Applet
from tests.live_server import LiveServer

pytestmark = [pytest.mark.desktop, pytest.mark.browser]
server = live.server  # the live session's server: TLS, the agent Anna Berger
QUESTION = "Wie zufrieden waren Sie mit der Fernwartung?"
ROOT = Path(__file__).resolve().parents[2]
MARK = "@survey "  # program_survey_child.py's line with the survey window's layout


@pytest.fixture(scope="module")
def desktop() -> Iterator[Desktop]:
    with xvfb(1024, 768, 24) as desk:
        yield desk


def stored(server: LiveServer, number: str) -> list[tuple[Any, ...]]:
    found = sorted(server.workdir.rglob("*.db"))
    with sqlite3.connect(found[0]) as db:
        return db.execute(
            "SELECT stars, solved, comment FROM survey_answers WHERE consultation_number = ?",
            (number,),
        ).fetchall()


async def ended_by_customer(
    browser: Browser, server: LiveServer, desktop: Desktop, home: Path
) -> tuple[str, Applet]:
    page = await live.agent_page(browser, server)
    number, token = await live.new_session_joined(page, server)
    await asyncio.to_thread(home.mkdir)
    applet = Applet(server.url, token, server.workdir / "cert.pem", desktop, home)
    await applet.answer_consent(["n", "n", "n", "Ja"])
    await applet.shows("Fernwartung aktiv")
    applet.type("e")
    await applet.shows(QUESTION)
    await page.context.close()
    return number, applet


async def test_text_mode_answer_is_stored(
    server: LiveServer, browser: Browser, desktop: Desktop, tmp_path: Path
) -> None:
    number, applet = await ended_by_customer(browser, server, desktop, tmp_path / "home")
    try:
        applet.type("4")
        await applet.shows("Wurde Ihr Anliegen gelöst?")
        applet.type("t")
        await applet.shows("Eine Zeile, höchstens 500 Zeichen")
        applet.type("Alles gut erklärt, Danke!")
        await applet.shows("Vielen Dank für Ihre Antwort.")
        assert applet.process.wait(20) == 0
    finally:
        applet.stop()
    assert stored(server, number) == [(4, "partly", "Alles gut erklärt, Danke!")]
    receipt = (tmp_path / "home" / "Dokumente" / f"Fernwartung-{number}.txt").read_text()
    assert "zufrieden" not in receipt and "Alles gut" not in receipt


async def test_text_mode_skip_stores_nothing(
    server: LiveServer, browser: Browser, desktop: Desktop, tmp_path: Path
) -> None:
    number, applet = await ended_by_customer(browser, server, desktop, tmp_path / "home")
    try:
        applet.type("")
        assert applet.process.wait(20) == 0
    finally:
        applet.stop()
    assert "Wurde Ihr Anliegen" not in applet.output
    assert "Vielen Dank" not in applet.output
    assert stored(server, number) == []


class WindowedProgram:
    """The program in window mode (program_survey_child.py), its output read as it comes."""

    def __init__(self, server: LiveServer, token: str, desktop: Desktop, home: Path) -> None:
        self.desktop = desktop
        env = {**desktop.env, "HOME": str(home), "XDG_DOCUMENTS_DIR": str(home / "Dokumente")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.program_survey_child", server.url, token,
             str(server.workdir / "cert.pem")],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.lines: list[str] = []
        self._layouts: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line)
            if line.startswith(MARK):
                self._layouts.put(json.loads(line[len(MARK) :]))
        self._layouts.put(None)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def survey(self, timeout: float = 30) -> dict[str, Any]:
        """Where the survey window's controls are, once it is shown."""
        try:
            layout = self._layouts.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no survey window:\n{self.output}") from None
        assert layout is not None, f"the program ended without a survey:\n{self.output}"
        return layout

    def click(self, at: list[int]) -> None:
        # Off the spot first: "--sync" waits for a move, and none comes to where it is.
        xdotool = require_tool("xdotool")
        self.desktop.run(xdotool, "mousemove", "--sync", str(at[0] + 40), str(at[1] + 40))
        self.desktop.run(xdotool, "mousemove", "--sync", str(at[0]), str(at[1]), "click", "1")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)


async def windowed_ended_by_agent(
    browser: Browser, server: LiveServer, desktop: Desktop, home: Path
) -> tuple[str, WindowedProgram, dict[str, Any]]:
    """A session with the windowed program that the agent ends; the survey's layout."""
    page = await live.agent_page(browser, server)
    number, token = await live.new_session_joined(page, server)
    await asyncio.to_thread(home.mkdir)
    program = WindowedProgram(server, token, desktop, home)
    try:
        await page.goto(f"{server.url}/console/sessions/{number}/live")
        shown = page.locator("[data-live]")
        await expect(shown).to_have_attribute("data-viewer", "connected", timeout=30000)
        await page.locator('[data-action="end"]').click()
        await page.locator("[data-confirm-end]").click()  # the console asks first
        await expect(shown).to_have_attribute("data-state", "ended", timeout=10000)
        layout = await asyncio.to_thread(program.survey)
    except BaseException:
        program.stop()
        raise
    finally:
        await page.context.close()
    return number, program, layout


async def test_window_answer_is_stored(
    server: LiveServer, browser: Browser, desktop: Desktop, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    number, program, survey = await windowed_ended_by_agent(browser, server, desktop, home)
    try:
        program.click(survey["star5"])
        program.click(survey["solved_yes"])
        program.click(survey["comment"])
        await asyncio.to_thread(
            desktop.run, require_tool("xdotool"), "type", "--delay", "20",
            "Sehr freundlich, alles geklaert.",
        )  # fmt: skip
        program.click(survey["send"])
        assert await asyncio.to_thread(program.process.wait, 30) == 0, program.output
    finally:
        program.stop()
    assert "Vielen Dank für Ihre Antwort." in program.output
    assert stored(server, number) == [(5, "yes", "Sehr freundlich, alles geklaert.")]
    receipt = (home / "Dokumente" / f"Fernwartung-{number}.txt").read_text()
    assert "zufrieden" not in receipt and "freundlich" not in receipt


async def test_window_skip_is_one_click_and_stores_nothing(
    server: LiveServer, browser: Browser, desktop: Desktop, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    number, program, survey = await windowed_ended_by_agent(browser, server, desktop, home)
    try:
        program.click(survey["star2"])  # chosen, then skipped: still nothing is sent
        program.click(survey["skip"])
        assert await asyncio.to_thread(program.process.wait, 30) == 0, program.output
    finally:
        program.stop()
    assert "Vielen Dank" not in program.output
    assert stored(server, number) == []
    assert (home / "Dokumente" / f"Fernwartung-{number}.txt").exists()
