"""The Tk windows for real on Xvfb: clicked with xdotool (consent dialog, active window),
and every window read back in German and in English."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import CURRENT_CONSENT_VERSION, Language
from supportdesk.domain.consent_texts import consent_text
from tests.desktop import Desktop, require_tool

pytestmark = pytest.mark.desktop
ROOT = Path(__file__).resolve().parents[2]


class Child:
    """The tk_child.py process on the test desktop; its lines are read on a thread, so a
    child that says nothing fails the test after a timeout instead of hanging it."""

    def __init__(self, desk: Desktop, mode: str) -> None:
        self.desk = desk
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.applet.tk_child", mode],
            cwd=ROOT, env=desk.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self._lines: queue.SimpleQueue[str] = queue.SimpleQueue()
        threading.Thread(target=self._read_lines, daemon=True).start()
        self.layout = self.read()

    def _read_lines(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put("")

    def read(self, timeout: float = 10.0) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            self.proc.kill()
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise AssertionError(f"child said nothing within {timeout} s: {err}") from None
        if not line:
            self.proc.wait(timeout)
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise AssertionError(f"child ended without output: {err}")
        data: dict[str, Any] = json.loads(line)
        return data

    def click(self, name: str) -> None:
        x, y = self.layout[name]
        self.desk.run(require_tool("xdotool"), "mousemove", "--sync", str(x), str(y), "click", "1")

    def result(self) -> dict[str, Any]:
        data = self.read()
        assert self.proc.wait(10) == 0
        return data


def answer(result: dict[str, Any]) -> dict[str, Any]:
    return {"decision": result["decision"], "capabilities": result["capabilities"]}


def test_ja_with_control_ticked(desktop: Desktop) -> None:
    child = Child(desktop, "consent")
    child.click("control")
    child.click("yes")
    assert answer(child.result()) == {"decision": "given", "capabilities": ["control", "view"]}


def test_the_text_shown_at_ja_follows_ticks_and_language_and_is_the_one_cited(
    desktop: Desktop,
) -> None:
    """The record once cited the text of the language the link was opened in, naming
    every capability; the customer who switched to English and ticked control read
    another one."""
    child = Child(desktop, "consent")
    child.click("control")
    child.click("language")
    child.layout = child.read()  # rebuilt in English
    child.click("yes")
    result = child.result()
    ticked = {Capability.VIEW, Capability.CONTROL}
    english = consent_text(CURRENT_CONSENT_VERSION, Language.EN)
    assert result["language"] == "en"
    assert result["shown"] == english.shown_body("Anna Schmidt", ticked)
    assert result["sha256"] == english.render("Anna Schmidt", ticked).sha256
    assert "files" not in result["shown"] and "diagnostic" not in result["shown"]


def test_the_required_view_box_cannot_be_unticked(desktop: Desktop) -> None:
    child = Child(desktop, "consent")
    child.click("view")
    child.click("yes")
    assert answer(child.result()) == {"decision": "given", "capabilities": ["view"]}


def test_nein_declines(desktop: Desktop) -> None:
    child = Child(desktop, "consent")
    child.click("control")
    child.click("no")
    assert answer(child.result()) == {"decision": "declined", "capabilities": []}


def test_closing_the_window_declines(desktop: Desktop) -> None:
    child = Child(desktop, "consent")
    child.click("control")
    desktop.close_window(child.layout["window"])
    assert answer(child.result()) == {"decision": "declined", "capabilities": []}


def test_active_window_buttons_and_end_within_one_second(desktop: Desktop) -> None:
    child = Child(desktop, "active")
    child.click("pause")
    child.click("control")
    clicked = time.monotonic()
    child.click("end")
    result = child.result()
    assert result["stopped_at"] is not None
    assert result["stopped_at"] - clicked < 1.0
    assert result["capturing"] is False
    assert result["grabs_after_stop"] == 0
    assert result["paused"] is True and result["control"] is False


def shown_in(desk: Desktop, language: str) -> dict[str, Any]:
    """Every window's texts as tk_texts_child.py reads them back in ``language``."""
    proc = subprocess.run(
        [sys.executable, "-m", "tests.applet.tk_texts_child", language],
        cwd=ROOT, env=desk.env, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def words(shown: object) -> list[str]:
    """All strings in a JSON value."""
    if isinstance(shown, str):
        return [shown]
    if isinstance(shown, dict):
        return [w for value in shown.values() for w in words(value)]
    if isinstance(shown, list):
        return [w for value in shown for w in words(value)]
    return []


# Words only one of the languages uses: none may leak into the other language's windows
# (the consent window's switch button names the other language, so it is left out).
GERMAN_ONLY = ("Datei", "Sitzung", "Berater", "Fernwartung", "Übertragung", "erlauben", "niemand")
ENGLISH_ONLY = ("file", "session", "agent", "Remote", "transfer", "allow", "nobody", " / ")


def test_the_windows_speak_german_by_default_with_todays_wording(desktop: Desktop) -> None:
    shown = shown_in(desktop, "de")
    active = shown["active"]
    assert active["title"] == "Fernwartung aktiv — wird aufgezeichnet"
    assert active["labels"][:7] == [
        "Fernwartung aktiv — wird aufgezeichnet",
        "Beratungsnummer:", "BN-2026-4821-7730-8",
        "Prüfcode:", "K7M-4XP",
        "Berater/in:", "Anna Schmidt",
    ]  # fmt: skip
    assert "Es sehen zu: niemand" in active["labels"]
    assert active["watching"] == "Es sehen zu: Anna Schmidt"
    assert active["buttons"] == {
        "pause": "Pausieren", "control": "Steuerung entziehen", "end": "Sitzung beenden",
        "send_file": "Datei senden …", "folder": "Empfangene Dateien",
        "cancel_files": "Übertragung abbrechen",
    }  # fmt: skip
    toggled = active["toggled_buttons"]
    assert (toggled["pause"], toggled["control"]) == ("Fortsetzen", "Steuerung erlauben")
    assert active["file_chooser_open"] == "Ö&ffnen"  # Tk's own file chooser follows

    dialogs = shown["dialogs"]
    assert dialogs["offer_taken"]["title"] == "Datei annehmen?"
    assert dialogs["offer_taken"]["labels"] == [
        "Ihr Berater möchte Ihnen eine Datei senden:\n\nbrief.txt\n"
        "3,0 MiB, SHA-256 abababababababab…\n\nDatei annehmen?\n\n"
        "„brief.txt“ gibt es schon: ersetzen oder beide behalten?"
    ]
    assert dialogs["offer_taken"]["buttons"] == {
        "decline": "Ablehnen", "replace": "Ersetzen", "keep_both": "Beide behalten"
    }  # fmt: skip
    assert dialogs["offer_fresh"]["buttons"] == {"decline": "Ablehnen", "accept": "Annehmen"}
    assert dialogs["report"]["title"] == "Diagnoseinformationen"
    assert dialogs["report"]["buttons"] == {"withhold": "Zurückhalten", "send": "Senden"}
    assert "Uhrzeit und Zeitzone" in dialogs["report"]["details"][0]
    assert dialogs["send"] == {
        "title": "Datei senden?",
        "labels": ["Datei an den Berater senden?\n\nKontoauszug.csv\n1234 Bytes"],
        "buttons": {"no": "Abbrechen", "yes": "Senden"},
        "details": [],
    }

    assert shown["join"] == {
        "title": "Jetzt Fernwartung starten",
        "labels": [
            "Geben Sie Ihren Namen und den Support-Schlüssel ein, den Ihnen Ihr Berater am "
            "Telefon nennt.",
            "Ihr Name:",
            "Support-Schlüssel:",
        ],
        "button": "Weiter >>",
        "both_needed": "Bitte geben Sie Ihren Namen und den Support-Schlüssel ein.",
    }

    consent = shown["consent"]
    assert consent["title"] == "Fernwartung – Zustimmung"
    assert consent["buttons"] == {"language": "English", "no": "Nein", "yes": "Ja"}
    assert consent["choices"][0] == "Bildschirm ansehen (erforderlich)"
    assert consent["switched_buttons"] == {"language": "Deutsch", "no": "No", "yes": "Yes"}

    shown_words = words({k: v for k, v in shown.items() if k != "consent"})
    shown_words += words({k: v for k, v in consent.items() if not k.startswith("switched")})
    leaks = [w for w in shown_words for e in ENGLISH_ONLY if e in w and w != "English"]
    assert not leaks


def test_the_windows_speak_english_when_asked(desktop: Desktop) -> None:
    shown = shown_in(desktop, "en")
    active = shown["active"]
    assert active["title"] == "Remote support active — recorded"
    assert active["labels"][:7] == [
        "Remote support active — recorded",
        "Consultation number:", "BN-2026-4821-7730-8",
        "Verification code:", "K7M-4XP",
        "Your agent:", "Anna Schmidt",
    ]  # fmt: skip
    assert "Watching: nobody" in active["labels"]
    assert active["watching"] == "Watching: Anna Schmidt"
    assert active["buttons"] == {
        "pause": "Pause sharing", "control": "Revoke control", "end": "End session",
        "send_file": "Send file …", "folder": "Received files", "cancel_files": "Cancel transfer",
    }  # fmt: skip
    toggled = active["toggled_buttons"]
    assert (toggled["pause"], toggled["control"]) == ("Resume sharing", "Allow control")
    assert active["file_chooser_open"] == "&Open"

    dialogs = shown["dialogs"]
    assert dialogs["offer_taken"]["title"] == "Accept the file?"
    assert dialogs["offer_taken"]["labels"] == [
        "Your agent would like to send you a file:\n\nbrief.txt\n"
        "3.0 MiB, SHA-256 abababababababab…\n\nAccept the file?\n\n"
        "“brief.txt” already exists: replace or keep both?"
    ]
    assert dialogs["offer_taken"]["buttons"] == {
        "decline": "Decline", "replace": "Replace", "keep_both": "Keep both"
    }  # fmt: skip
    assert dialogs["offer_fresh"]["buttons"] == {"decline": "Decline", "accept": "Accept"}
    assert dialogs["report"]["title"] == "Diagnostic information"
    assert dialogs["report"]["buttons"] == {"withhold": "Withhold", "send": "Send"}
    assert "Clock and time zone" in dialogs["report"]["details"][0]
    assert dialogs["send"] == {
        "title": "Send the file?",
        "labels": ["Send the file to the agent?\n\nKontoauszug.csv\n1234 bytes"],
        "buttons": {"no": "Cancel", "yes": "Send"},
        "details": [],
    }

    assert shown["join"] == {
        "title": "Start remote support now",
        "labels": [
            "Enter your name and the support key your adviser gives you on the phone.",
            "Your name:",
            "Support key:",
        ],
        "button": "Continue >>",
        "both_needed": "Please enter your name and the support key.",
    }

    consent = shown["consent"]
    assert consent["title"] == "Remote support – consent"
    assert consent["buttons"] == {"language": "Deutsch", "no": "No", "yes": "Yes"}
    assert consent["choices"][0] == "View my screen (required)"
    assert consent["switched_title"] == "Fernwartung – Zustimmung"

    shown_words = words({k: v for k, v in shown.items() if k != "consent"})
    shown_words += words({k: v for k, v in consent.items() if not k.startswith("switched")})
    leaks = [w for w in shown_words for g in GERMAN_ONLY if g in w and w != "Deutsch"]
    assert not leaks


def type_into(child: Child, field: str, text: str) -> None:
    child.click(field)
    child.desk.run(require_tool("xdotool"), "type", "--delay", "20", text)


def test_the_first_window_asks_name_and_key_and_says_why_a_key_is_refused(
    desktop: Desktop,
) -> None:
    child = Child(desktop, "join")
    assert child.read() == {"title": "Jetzt Fernwartung starten", "button_text": "Weiter >>"}
    child.click("continue")  # nothing entered yet: the window says what is missing
    assert child.read() == {"message": "Bitte geben Sie Ihren Namen und den Support-Schlüssel ein."}
    type_into(child, "name", "Erika Mustermann")
    type_into(child, "key", "111 222 333 444")
    child.click("continue")
    refused = child.read()
    assert refused == {
        "message": "Zu diesem Namen und Support-Schlüssel gibt es keine Sitzung.",
        "button": "normal",  # the customer may try again
    }
    # The wrong key is selected: typing replaces it.
    child.desk.run(require_tool("xdotool"), "type", "--delay", "20", "123 456 789 012")
    child.desk.run(require_tool("xdotool"), "key", "Return")
    assert child.result() == {
        "answer": {"token": "join-token", "consultation_number": "BN-2026-4821-7730-8"},
        "attempts": [
            ["Erika Mustermann", "111 222 333 444"],
            ["Erika Mustermann", "123 456 789 012"],
        ],
    }


def test_closing_the_first_window_joins_nothing(desktop: Desktop) -> None:
    child = Child(desktop, "join")
    child.read()
    desktop.close_window(child.layout["window"])
    assert child.result() == {"answer": None, "attempts": []}


def press(child: Child, *keys: str) -> None:
    child.desk.run(require_tool("xdotool"), "key", "--delay", "20", *keys)


def test_the_first_window_works_by_keyboard_alone(desktop: Desktop) -> None:
    child = Child(desktop, "join")
    child.read()
    desktop.focus(child.layout["window"])  # what a window manager does for a new window
    # The name field has the focus at start; Tab goes on to the key, Return sends.
    child.desk.run(require_tool("xdotool"), "type", "--delay", "20", "Erika Mustermann")
    press(child, "Tab")
    child.desk.run(require_tool("xdotool"), "type", "--delay", "20", "123 456 789 012")
    press(child, "Return")
    assert child.result() == {
        "answer": {"token": "join-token", "consultation_number": "BN-2026-4821-7730-8"},
        "attempts": [["Erika Mustermann", "123 456 789 012"]],
    }


def test_escape_gives_up_in_the_first_window(desktop: Desktop) -> None:
    child = Child(desktop, "join")
    child.read()
    desktop.focus(child.layout["window"])
    press(child, "Tab", "Tab", "Escape")  # on to the button, then give up
    assert child.result() == {"answer": None, "attempts": []}


def test_the_consent_dialog_works_by_keyboard_alone(desktop: Desktop) -> None:
    child = Child(desktop, "consent")
    desktop.focus(child.layout["window"])
    # Tab reaches the first box that can be ticked ("view" is ticked and locked), Space
    # ticks it, Shift+Tab wraps round to "Ja", Space presses it.
    press(child, "Tab", "space", "shift+Tab", "space")
    assert answer(child.result()) == {"decision": "given", "capabilities": ["control", "view"]}
