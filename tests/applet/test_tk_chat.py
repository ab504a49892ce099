"""The chat in the customer's active window, for real on Xvfb (1366x768, a common laptop
screen): typed into and clicked with xdotool, messages fed as the link hears them, what
the window shows read back (tk_chat_child.py)."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.desktop import Desktop, require_tool, wait_until, xvfb

pytestmark = pytest.mark.desktop
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
ZONE = "Europe/Berlin"
AT = "2026-11-30T08:41:00+00:00"  # 09:41 in Berlin
TITLE_DE = "Fernwartung aktiv — wird aufgezeichnet"


@pytest.fixture
def laptop() -> Iterator[Desktop]:
    with xvfb(1366, 768, 24) as desk:
        yield desk


def agent(text: str, name: str | None = "Anna Berger", at: str = AT) -> dict[str, Any]:
    return {"heard": {"type": "chat", "from": "agent", "name": name, "text": text, "at": at}}


def echo(text: str) -> dict[str, Any]:
    return {"heard": {"type": "chat", "from": "customer", "name": None, "text": text, "at": AT}}


def local_now() -> str:
    return datetime.now(ZoneInfo(ZONE)).strftime("%H:%M")


def stamped(template: str, before: str) -> set[str]:
    """``template`` with the time the line was typed: ``before`` it, or the minute now
    (a test may run across a minute's turn)."""
    return {template.format(time=before), template.format(time=local_now())}


class ChatWindow:
    """tk_chat_child.py on the test desktop: commands in on stdin, reports out on stdout."""

    def __init__(self, desk: Desktop, language: str = "de") -> None:
        self.desk = desk
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.applet.tk_chat_child", language],
            cwd=ROOT, env={**desk.env, "TZ": ZONE}, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self._lines: queue.SimpleQueue[str] = queue.SimpleQueue()
        threading.Thread(target=self._read, daemon=True).start()
        self.layout = self._next()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put("")

    def _next(self, timeout: float = 15) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            self.proc.kill()
            raise AssertionError("the window said nothing") from None
        if not line:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise AssertionError(f"the window ended: {err}")
        data: dict[str, Any] = json.loads(line)
        return data

    def tell(self, **command: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()

    def report(self) -> dict[str, Any]:
        self.tell(report=True)
        shown = self._next()
        self.layout = shown
        return shown

    def click(self, name: str) -> None:
        x, y = self.layout[name + "_at"]
        xdotool = require_tool("xdotool")
        # ``mousemove --sync`` waits for the pointer to move: not when it is there already.
        where = self.desk.run(xdotool, "getmouselocation", "--shell")
        if f"X={x}\nY={y}\n" not in where:
            self.desk.run(xdotool, "mousemove", "--sync", str(x), str(y))
        self.desk.run(xdotool, "click", "1")

    def type(self, text: str) -> None:
        self.desk.run(require_tool("xdotool"), "type", "--delay", "15", text)

    def key(self, *keys: str) -> None:
        self.desk.run(require_tool("xdotool"), "key", "--delay", "20", *keys)

    def close(self) -> None:
        self.tell(quit=True)
        assert self.proc.wait(10) == 0


@pytest.fixture
def window(laptop: Desktop) -> Iterator[ChatWindow]:
    shown = ChatWindow(laptop)
    yield shown
    if shown.proc.poll() is None:
        shown.close()


def test_an_agents_message_shows_with_name_and_local_time_and_marks_unread(
    window: ChatWindow,
) -> None:
    first = window.report()
    assert (first["toggle"], first["title"], first["open"]) == ("Chat anzeigen", TITLE_DE, False)
    window.tell(**agent("Guten Tag, Frau Müller. Ich sehe jetzt Ihren Bildschirm."))
    waiting = window.report()
    assert waiting["shown"] == (
        "Anna Berger  09:41\nGuten Tag, Frau Müller. Ich sehe jetzt Ihren Bildschirm."
    )
    # Closed panel: the button and the title say that something waits.
    assert waiting["toggle"] == "Neue Nachricht (1)"
    assert waiting["title"] == f"(1) {TITLE_DE}"
    window.tell(**agent("Sehen Sie das Fenster?", name=None))
    assert window.report()["toggle"] == "Neue Nachricht (2)"
    window.click("toggle")
    opened = wait_until(lambda: (r := window.report())["open"] and r, what="the panel open")
    assert (opened["toggle"], opened["title"], opened["unread"]) == ("Chat ausblenden", TITLE_DE, 0)
    assert opened["shown"].endswith("\nBerater  09:41\nSehen Sie das Fenster?")


def test_typing_and_enter_sends_exactly_one_line_shown_as_pending_until_echoed(
    window: ChatWindow,
) -> None:
    window.click("toggle")
    window.layout = window.report()  # the entry is on the screen now
    window.click("entry")
    before = local_now()
    window.type("Ja, ich sehe es.")
    window.key("Return")
    sent = wait_until(lambda: (r := window.report())["sent"] and r, what="the line sent")
    assert sent["sent"] == [{"type": "chat", "text": "Ja, ich sehe es."}]
    assert sent["entry"] == ""
    assert sent["shown"] in stamped("Sie  {time}  wird gesendet …\nJa, ich sehe es.", before)
    window.key("Return")  # an empty line sends nothing
    window.tell(**echo("Ja, ich sehe es."))
    confirmed = window.report()
    assert confirmed["shown"] in stamped("Sie  {time}\nJa, ich sehe es.", before)
    assert confirmed["sent"] == [{"type": "chat", "text": "Ja, ich sehe es."}]
    # The "Senden" button sends too.
    window.type("Danke")
    window.click("send")
    assert wait_until(lambda: len(window.report()["sent"]) == 2, what="the second line")


def test_a_message_while_the_window_lacks_the_keyboard_marks_the_title(
    window: ChatWindow, laptop: Desktop
) -> None:
    window.click("toggle")
    window.layout = window.report()
    window.click("entry")  # the customer is in the window: nothing is unread
    window.tell(**agent("Erste Nachricht"))
    read = window.report()
    assert (read["unread"], read["title"]) == (0, TITLE_DE)
    # The customer goes on in another program (an xterm beside the window): the pointer
    # goes there and the keyboard with it (a window manager would do the second).
    _term, term_window = laptop.xterm(["sleep", "60"], geometry="40x10+700+300")
    laptop.run(require_tool("xdotool"), "mousemove", "--sync", "800", "400")
    laptop.focus(term_window)
    window.tell(**agent("Zweite Nachricht"))
    away = wait_until(lambda: (r := window.report())["unread"] and r, what="unread while away")
    assert away["title"] == f"(1) {TITLE_DE}"
    assert away["toggle"] == "Chat ausblenden"  # the panel is open: only the title says it
    # Back in the window: a window manager gives it the keyboard; here Tk takes it itself
    # (Tk without a window manager does not take back focus given away by another client).
    window.tell(take_keyboard=True)
    back = wait_until(lambda: not (r := window.report())["unread"] and r, what="read again")
    assert back["title"] == TITLE_DE


def test_control_characters_are_taken_out_and_words_shown_as_plain_text(
    window: ChatWindow,
) -> None:
    hostile = "\x1b[31mRot\x1b[0m\x07 <b>fett</b> \u202eknab\u202c {0} %s \\n"
    window.tell(**agent(hostile, name="A\x00nna"))
    shown = window.report()["shown"]
    assert shown == "Anna  09:41\n[31mRot[0m <b>fett</b> knab {0} %s \\n"


def test_an_over_long_line_is_refused_with_a_word_and_kept(window: ChatWindow) -> None:
    window.click("toggle")
    window.layout = window.report()
    window.tell(paste="x" * 2001)
    window.click("entry")
    window.key("Return")
    refused = wait_until(lambda: (r := window.report())["message"] and r, what="the refusal")
    assert refused["message"] == (
        "Die Nachricht ist zu lang: höchstens 2000 Zeichen, diese hat 2001."
    )
    assert refused["sent"] == [] and refused["entry"] == "x" * 2001 and refused["shown"] == ""
    window.key("BackSpace", "Return")  # 2000 is allowed
    sent = wait_until(lambda: (r := window.report())["sent"] and r, what="the line sent")
    assert sent["sent"] == [{"type": "chat", "text": "x" * 2000}] and sent["message"] == ""


def test_the_window_keeps_the_last_200_lines(window: ChatWindow) -> None:
    for n in range(205):
        window.tell(**agent(f"Zeile {n}"))
    shown = window.report()["shown"]
    assert shown.count("Anna Berger  09:41\n") == 200
    assert shown.startswith("Anna Berger  09:41\nZeile 5\n")
    assert shown.endswith("\nZeile 204")


def test_who_controls_is_named(window: ChatWindow) -> None:
    watchers = [
        {"name": "Anna Berger", "role": "agent", "view_only": False},
        {"name": "Sven Schulz", "role": "supervisor", "view_only": True},
    ]
    window.tell(state={"capabilities": ["view", "control"], "watchers": watchers})
    assert window.report()["watching"] == (
        "Es sehen zu: Anna Berger (Berater, steuert), Sven Schulz (Teamleitung)"
    )
    window.tell(state={"capabilities": ["view"], "watchers": watchers})
    assert window.report()["watching"] == (
        "Es sehen zu: Anna Berger (Berater), Sven Schulz (Teamleitung)"
    )


def test_the_chat_speaks_english_when_asked(laptop: Desktop) -> None:
    window = ChatWindow(laptop, "en")
    window.tell(**agent("Hello", name=""))
    unread = window.report()
    assert unread["toggle"] == "New message (1)"
    assert unread["title"] == "(1) Remote support active — recorded"
    window.click("toggle")
    window.layout = window.report()
    window.click("entry")
    before = local_now()
    window.type("Thanks")
    window.key("Return")
    shown = wait_until(lambda: (r := window.report())["sent"] and r, what="the line sent")
    assert shown["shown"] in stamped("Agent  09:41\nHello\nYou  {time}  sending …\nThanks", before)
    assert (shown["toggle"], shown["send_button"]) == ("Hide chat", "Send")
    window.tell(state={"capabilities": ["view", "control"], "watchers": [
        {"name": "Anna Berger", "role": "agent", "view_only": False}]})  # fmt: skip
    assert window.report()["watching"] == "Watching: Anna Berger (agent, in control)"
    window.tell(paste="y" * 2500)
    window.click("entry")
    window.key("Return")
    refused = wait_until(lambda: (r := window.report())["message"] and r, what="the refusal")
    assert refused["message"] == (
        "The message is too long: at most 2000 characters, this one has 2500."
    )
    window.close()


def test_the_open_chat_fits_a_laptop_screen_and_looks_calm(
    window: ChatWindow, laptop: Desktop
) -> None:
    """A screenshot for the eye (test-artifacts/chat-window-de.png), and the numbers that
    say the window stays on a 1366x768 screen with the conversation open and full."""
    window.tell(state={"capabilities": ["view", "control"], "watchers": [
        {"name": "Anna Berger", "role": "agent", "view_only": False}]})  # fmt: skip
    window.click("toggle")
    for text in (
        "Guten Tag, Frau Müller. Ich sehe jetzt Ihren Bildschirm.",
        "Bitte öffnen Sie oben rechts das Menü „Einstellungen“ – ich zeige Ihnen, wo die "
        "Freigabe für das neue Gerät zu finden ist.",
    ):
        window.tell(**agent(text))
    window.layout = window.report()
    window.click("entry")
    window.type("Einen Moment, ich suche es.")
    window.key("Return")
    window.tell(**echo("Einen Moment, ich suche es."))
    window.tell(**agent("Kein Problem, lassen Sie sich Zeit."))
    shown = wait_until(lambda: (r := window.report())["shown"].count("\n") >= 7 and r, what="lines")
    width, height = shown["size"]
    x, y = shown["position"]
    assert shown["screen"] == [1366, 768]
    assert x >= 0 and y >= 0 and x + width <= 1366 and y + height <= 768
    assert width <= 600, "the always-on-top window stays narrow"
    ARTIFACTS.mkdir(exist_ok=True)
    from PIL import Image

    pixels = laptop.screenshot()[:, :, 2::-1]  # BGRX -> RGB
    Image.fromarray(pixels[: y + height + 8, : x + width + 8].copy()).save(
        ARTIFACTS / "chat-window-de.png"
    )
    for n in range(60):  # a long conversation scrolls; the window does not grow
        window.tell(**agent(f"Zeile {n}"))
    assert window.report()["size"] == [width, height]
