"""The exit survey in the support program's text mode, end to end: the real server, the
applet (``supportdesk join --text``) sharing an Xvfb screen, the agent in Chromium. After
the customer ends, the program asks; the answer is stored with the consultation number,
and an empty first answer skips it and stores nothing. The receipt says nothing of it."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser

from tests.desktop import Desktop, xvfb
from tests.e2e import test_live_session as live
from tests.e2e.test_staying_connected import Applet
from tests.live_server import LiveServer

pytestmark = [pytest.mark.desktop, pytest.mark.browser]
server = live.server  # the live session's server: TLS, the agent Anna Berger
QUESTION = "Wie zufrieden waren Sie mit der Fernwartung?"


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
