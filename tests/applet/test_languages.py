"""The applet in German (the default) and in English: text mode, file questions, status
lines, receipt and error messages, each in one language, never both mixed in a line;
what the customer types works in either language."""

from __future__ import annotations

import io
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from supportdesk.applet.consent import ConsentRequest, build_dialog
from supportdesk.applet.consent_text_ui import ask_consent_text
from supportdesk.applet.files import FileQuestion, OfferAnswer
from supportdesk.applet.files_text import TextFilesUI, TextQuestions
from supportdesk.applet.join import ask_name_and_key
from supportdesk.applet.join_text import (
    TextControls,
    chat_line,
    end_line,
    send_file_in_background,
    state_line,
)
from supportdesk.applet.link.client import AppletLink, LinkError, applet_url
from supportdesk.applet.receipt import Receipt, SessionTimeline, TransferredFile, saved_notice
from supportdesk.applet.texts import gettext_for, language_of, session_notice
from supportdesk.applet.tk.files import TkFilesUI
from supportdesk.diagnostics.probe import Label, ProbeStatus
from supportdesk.diagnostics.report import DiagnosticsReport, ReportEntry
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import ConsentDecision, Language
from supportdesk.transfer.endpoint import TransferEvent
from supportdesk.transfer.lifecycle import TransferState
from supportdesk.transfer.messages import Direction

DE, EN = Language.DE, Language.EN
START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)

# Words of one language that must not turn up in the other's lines.
GERMAN_ONLY = ("Datei", "Sitzung", "Berater", "Fernwartung", "Übertragung", "es sehen zu", "Bitte")
ENGLISH_ONLY = ("file", "session", "agent", "watching", "transfer", "Please", " / ")


def assert_one_language(text: str, language: Language) -> None:
    foreign = ENGLISH_ONLY if language is DE else GERMAN_ONLY
    leaks = [word for word in foreign if word in text]
    assert not leaks, f"{leaks} in {text!r}"


# -- text mode ---------------------------------------------------------------------------


class FakeFiles:
    def __init__(self) -> None:
        self.sent: list[Path] = []
        self.cancelled = 0

    def send_file(self, path: Path) -> None:
        if path.name == "missing.txt":
            raise FileNotFoundError(2, "No such file or directory", str(path))
        self.sent.append(path)

    def cancel_running(self) -> None:
        self.cancelled += 1


class FakeLink:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.control_allowed = True
        self.files = FakeFiles()

    def request(self, message: dict[str, Any]) -> None:
        self.requests.append(message)
        if message.get("capability") == "control":
            self.control_allowed = message["type"] == "grant"


HELP = {
    DE: "Befehle: p = Pause/Fortsetzen, s = Steuerung entziehen/erlauben, "
    "e = Sitzung beenden, c TEXT = Nachricht an den Berater, "
    "datei PFAD = Datei an den Berater senden, x = Übertragungen abbrechen, "
    "o = Ordner der empfangenen Dateien öffnen",
    EN: "Commands: p = pause/resume, s = revoke/allow control, e = end the session, "
    "c TEXT = message to the agent, file PATH = send a file to the agent, "
    "x = cancel transfers, o = open the folder of received files",
}


@pytest.mark.parametrize("language", [DE, EN])
def test_text_mode_help_is_one_language_and_commands_work_in_both(language: Language) -> None:
    link, out = FakeLink(), io.StringIO()
    commands = "p\ns\nc Hallo\nx\ndatei /tmp/a.txt\nfile /tmp/b.txt\np\ns\ne\nignored\n"
    controls = TextControls(link, io.StringIO(commands), out, language)  # type: ignore[arg-type]
    controls.start()
    controls.thread.join(5)
    deadline = time.monotonic() + 5
    while len(link.files.sent) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)  # the files are sent from threads of their own
    assert out.getvalue() == HELP[language] + "\n"
    assert link.requests == [
        {"type": "pause"},
        {"type": "revoke", "capability": "control"},
        {"type": "chat", "text": "Hallo"},
        {"type": "resume"},
        {"type": "grant", "capability": "control"},
        {"type": "end"},
    ]
    assert sorted(link.files.sent) == [Path("/tmp/a.txt"), Path("/tmp/b.txt")]
    assert link.files.cancelled == 1


def test_a_file_that_cannot_be_read_is_reported_in_the_customers_language() -> None:
    for language, expected in ((DE, "Datei nicht lesbar: "), (EN, "Cannot read the file: ")):
        link, out = FakeLink(), io.StringIO()
        send_file_in_background(link, "/nowhere/missing.txt", out, language)  # type: ignore[arg-type]
        deadline = time.monotonic() + 5
        while not out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert out.getvalue().startswith(expected)


STATE = {
    "state": "active",
    "capabilities": ["control", "view"],
    "watchers": [
        {"name": "Anna Berger", "role": "agent", "view_only": False},
        {"name": "Sven Schulz", "role": "supervisor", "view_only": True},
    ],
    "held": False,
    "notice": None,
}


def test_state_lines() -> None:
    # Anna's viewer is not view-only and control is granted: she controls.
    assert state_line(STATE) == (
        "[aktiv] Bildschirm ansehen, Maus und Tastatur steuern"
        " — es sehen zu: Anna Berger (Berater, steuert), Sven Schulz (Teamleitung)"
    )
    assert state_line(STATE, EN) == (
        "[active] View my screen, Control mouse and keyboard"
        " — watching: Anna Berger (agent, in control), Sven Schulz (supervisor)"
    )
    assert state_line({"state": "awaiting_consent"}) == "[wartet auf Zustimmung]"
    alone = {"state": "paused", "capabilities": ["view"], "watchers": []}
    assert state_line(alone) == "[angehalten] Bildschirm ansehen"
    assert state_line(alone, EN) == "[paused] View my screen"


def test_a_held_session_says_why_in_the_customers_language() -> None:
    # The server words its notice in German; the applet shows its own words for a hold.
    held = {**STATE, "watchers": [], "held": True}
    held["notice"] = "Aufzeichnung nicht möglich – Sitzung pausiert"
    assert state_line(held).endswith(" — Aufzeichnung nicht möglich – Sitzung pausiert")
    assert state_line(held, EN).endswith(" — Recording not possible – session paused")
    assert session_notice(False, "", gettext_for(EN)) == ""
    # A notice that is not about the hold is shown as the server sent it.
    assert session_notice(False, "Wartung um 18 Uhr", gettext_for(EN)) == "Wartung um 18 Uhr"


def test_session_end_and_chat_lines() -> None:
    assert end_line("agent") == "Sitzung beendet (durch den Berater)"
    assert end_line("customer") == "Sitzung beendet (durch Sie)"
    assert end_line("agent", EN) == "Session ended (by the agent)"
    assert end_line("timeout", EN) == "Session ended (timed out)"
    assert end_line(None) == "Sitzung beendet"
    assert end_line("something new", EN) == "Session ended (something new)"  # code as it came
    assert chat_line({"name": "Anna Berger", "text": "Hallo"}) == "[Anna Berger] Hallo"
    assert chat_line({"name": "", "text": "Hallo"}) == "[Berater] Hallo"
    assert chat_line({"text": "Hello"}, EN) == "[Agent] Hello"
    # The agent's words cannot move a terminal's cursor or start a new line of their own.
    hostile = {"name": "Anna\x1b[2J", "text": "Hallo\x1b]0;pwned\x07\n[Sie] TAN?\u202e"}
    assert chat_line(hostile) == "[Anna[2J] Hallo]0;pwned [Sie] TAN?"


def test_who_controls_follows_control_pause_and_view_only() -> None:
    from supportdesk.applet.texts import watchers

    _ = gettext_for(DE)
    assert watchers(STATE, _) == ["Anna Berger (Berater, steuert)", "Sven Schulz (Teamleitung)"]
    # Without control, or paused, nobody controls; a watcher without view_only is not
    # taken to control (the relay always says).
    without = {**STATE, "capabilities": ["view"]}
    assert watchers(without, _) == ["Anna Berger (Berater)", "Sven Schulz (Teamleitung)"]
    assert watchers({**STATE, "paused": True}, _)[0] == "Anna Berger (Berater)"
    unsaid = {**STATE, "watchers": [{"name": "Anna Berger", "role": "agent"}]}
    assert watchers(unsaid, _) == ["Anna Berger (Berater)"]


def test_the_active_line_and_the_session_words_match_todays_german() -> None:
    from supportdesk.applet import texts

    assert gettext_for(DE)(texts.SESSION_ACTIVE) == "Fernwartung aktiv — wird aufgezeichnet"
    assert gettext_for(EN)(texts.SESSION_ACTIVE) == "Remote support active — recorded"
    assert language_of("en") is EN and language_of("de") is DE and language_of("fr") is DE


# -- file questions in text mode ------------------------------------------------------------


def answered(ui: TextFilesUI, questions: TextQuestions, ask: Any, *lines: str) -> Any:
    """Run ``ask`` in a worker thread and answer its questions with ``lines``."""
    result: list[Any] = []
    worker = threading.Thread(target=lambda: result.append(ask()))
    worker.start()
    for line in lines:
        while not questions.take(line):
            time.sleep(0.01)
    worker.join(5)
    return result[0]


def text_ui(language: Language) -> tuple[TextFilesUI, TextQuestions, io.StringIO]:
    out = io.StringIO()
    questions = TextQuestions(out)
    return TextFilesUI(questions, out, language), questions, out


def a_report() -> DiagnosticsReport:
    entry = ReportEntry(
        "clock", Label("Uhrzeit und Zeitzone", "Clock and time zone"), ProbeStatus.OK,
        {"time_zone": "Europe/Berlin"}, None, (), 0.01,
    )  # fmt: skip
    return DiagnosticsReport(START, (entry,))


TAKEN = FileQuestion("t1", "brief.txt", 1536, "ab" * 32, name_taken=True)


def test_german_file_questions() -> None:
    ui, questions, out = text_ui(DE)
    answer = answered(ui, questions, lambda: ui.ask_offer(TAKEN), "j", "e")
    assert answer is OfferAnswer.REPLACE
    assert answered(ui, questions, lambda: ui.confirm_send("a.csv", 10), "ja") is True
    assert answered(ui, questions, lambda: ui.ask_report(a_report()), "n") is False
    assert out.getvalue().splitlines()[:4] == [
        "Der Berater möchte Ihnen eine Datei senden: "
        "brief.txt (1,5 KiB, SHA-256 abababababababab…)",
        "Datei annehmen? [j/n]",
        "brief.txt gibt es schon: ersetzen oder beide behalten? [e=ersetzen/b=beide]",
        "Datei a.csv (10 Bytes) an den Berater senden? [j/n]",
    ]
    assert "Uhrzeit und Zeitzone" in out.getvalue()
    assert out.getvalue().rstrip().endswith("Bericht senden? [j/n]")
    assert_one_language(out.getvalue(), DE)


def test_english_file_questions_take_english_and_german_answers() -> None:
    ui, questions, out = text_ui(EN)
    assert answered(ui, questions, lambda: ui.ask_offer(TAKEN), "y", "r") is OfferAnswer.REPLACE
    assert answered(ui, questions, lambda: ui.ask_offer(TAKEN), "j", "b") is OfferAnswer.KEEP_BOTH
    assert answered(ui, questions, lambda: ui.ask_offer(TAKEN), "no") is OfferAnswer.DECLINE
    assert answered(ui, questions, lambda: ui.confirm_send("a.csv", 10), "yes") is True
    assert answered(ui, questions, lambda: ui.confirm_send("a.csv", 10), "ja") is True
    assert answered(ui, questions, lambda: ui.ask_report(a_report()), "y") is True
    lines = out.getvalue().splitlines()
    assert lines[:3] == [
        "The agent would like to send you a file: brief.txt (1.5 KiB, SHA-256 abababababababab…)",
        "Accept the file? [y/n]",
        "brief.txt already exists: replace or keep both? [r=replace/b=both]",
    ]
    assert "Send the file a.csv (10 bytes) to the agent? [y/n]" in lines
    assert "Clock and time zone: ok" in lines
    assert lines[-1] == "Send the report? [y/n]"
    assert_one_language(out.getvalue(), EN)


def event(state: TransferState, direction: Direction, outcome: str | None = None) -> TransferEvent:
    final = "brief (2).txt" if state is TransferState.DONE else None
    return TransferEvent("t1", direction, "brief.txt", 10, "ab" * 32, state, 10, outcome, final)


EVENTS = [
    event(TransferState.ACCEPTED, Direction.TO_CUSTOMER),
    event(TransferState.DONE, Direction.TO_CUSTOMER),
    event(TransferState.DONE, Direction.TO_AGENT),
    event(TransferState.DECLINED, Direction.TO_CUSTOMER, "declined"),
    event(TransferState.CANCELLED, Direction.TO_AGENT, "customer"),
    event(TransferState.FAILED, Direction.TO_CUSTOMER, "hash_mismatch"),
    event(TransferState.CANCELLED, Direction.TO_CUSTOMER),
]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            DE,
            [
                "Übertragung läuft: brief.txt",
                "Datei empfangen: brief (2).txt in /home/k/Fernwartung-Dateien (öffnen mit: o)",
                "Datei gesendet: brief.txt",
                "Übertragung beendet: brief.txt (abgelehnt)",
                "Übertragung beendet: brief.txt (durch Sie)",
                "Übertragung beendet: brief.txt (beschädigt angekommen)",
                "Übertragung beendet: brief.txt (abgebrochen)",
            ],
        ),
        (
            EN,
            [
                "Transfer running: brief.txt",
                "File received: brief (2).txt in /home/k/Fernwartung-Dateien (open with: o)",
                "File sent: brief.txt",
                "Transfer stopped: brief.txt (declined)",
                "Transfer stopped: brief.txt (by you)",
                "Transfer stopped: brief.txt (arrived damaged)",
                "Transfer stopped: brief.txt (cancelled)",
            ],
        ),
    ],
)
def test_text_mode_transfer_lines(language: Language, expected: list[str]) -> None:
    ui, _questions, out = text_ui(language)
    for e in EVENTS:
        ui.show(e, Path("/home/k/Fernwartung-Dateien"))
    assert out.getvalue().splitlines() == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            DE,
            [
                "Übertragung: brief.txt",
                "Empfangen: brief (2).txt (in /home/k/Fernwartung-Dateien)",
                "Gesendet: brief.txt",
                "Nicht übertragen: brief.txt (abgelehnt)",
                "Nicht übertragen: brief.txt (durch Sie)",
                "Nicht übertragen: brief.txt (beschädigt angekommen)",
                "Nicht übertragen: brief.txt (abgebrochen)",
                "Übertragung: brief.txt 50 %",
            ],
        ),
        (
            EN,
            [
                "Transferring: brief.txt",
                "Received: brief (2).txt (in /home/k/Fernwartung-Dateien)",
                "Sent: brief.txt",
                "Not transferred: brief.txt (declined)",
                "Not transferred: brief.txt (by you)",
                "Not transferred: brief.txt (arrived damaged)",
                "Not transferred: brief.txt (cancelled)",
                "Transferring: brief.txt 50 %",
            ],
        ),
    ],
)
def test_the_active_windows_file_line(language: Language, expected: list[str]) -> None:
    ui = TkFilesUI(language=language)  # status only: no window is opened
    shown = []
    for e in EVENTS:
        ui.show(e, Path("/home/k/Fernwartung-Dateien"))
        shown.append(ui.status)
    ui.progress("brief.txt", 5, 10)
    assert [*shown, ui.status] == expected


# -- consent in text mode -----------------------------------------------------------------


def test_either_languages_answers_consent_in_either_language(request_: ConsentRequest) -> None:
    for language, answers in ((EN, "j\nnein\nn\nJa\n"), (DE, "y\nno\nn\nYes\n")):
        out = io.StringIO()
        dialog = build_dialog(request_, language)
        record = ask_consent_text(dialog, io.StringIO(answers), out, clock=lambda: START)
        assert record.decision is ConsentDecision.GIVEN
        assert record.capabilities == {Capability.VIEW, Capability.CONTROL}
    out = io.StringIO()
    record = ask_consent_text(build_dialog(request_, EN), io.StringIO("n\nn\nn\nNo\n"), out)
    assert record.decision is ConsentDecision.DECLINED
    assert out.getvalue().endswith("Declined. Nothing was shared.\n")
    assert "Allow: Control mouse and keyboard? (y/n): " in out.getvalue()


# -- receipt ----------------------------------------------------------------------------


def receipt(language: Language) -> Receipt:
    times = iter([START, START + timedelta(minutes=3)])
    timeline = SessionTimeline(clock=lambda: next(times))
    timeline.grant(Capability.VIEW)
    timeline.revoke(Capability.CONTROL)
    return Receipt(
        consultation_number="BN-2026-4821-7730-8",
        bank_name="Volksbank Musterstadt eG",
        bank_domain="support.volksbank-musterstadt.de",
        agent_name="Anna Schmidt",
        started_at=START,
        ended_at=START + timedelta(minutes=12, seconds=7),
        capabilities=timeline.changes,
        files=[TransferredFile(START, "kontoauszug.pdf", 1234, to_agent=True)],
        language=language,
    )


def test_the_english_receipt() -> None:
    text = receipt(EN).as_text()
    assert text.splitlines()[:9] == [
        "Remote support receipt",
        "======================",
        "",
        "Consultation number: BN-2026-4821-7730-8",
        "Bank:                Volksbank Musterstadt eG (support.volksbank-musterstadt.de)",
        "Your agent:          Anna Schmidt",
        "Start time:          2026-11-30, 10:00:00 CET",
        "End time:            2026-11-30, 10:12:07 CET",
        "Duration:            0:12:07 (h:mm:ss)",
    ]
    for needle in (
        "Permissions:\n  2026-11-30, 10:00:00 CET  View my screen: granted\n"
        "  2026-11-30, 10:03:00 CET  Control mouse and keyboard: withdrawn",
        "Files transferred:\n  2026-11-30, 10:00:00 CET  kontoauszug.pdf (1234 bytes, to the bank)",
        "The session is recorded (screen, input, chat, file transfers)",
        "Please quote the consultation number if you have any questions.",
    ):
        assert needle in text, needle
    assert_one_language(text.replace("file transfers", ""), EN)
    as_json = receipt(EN).as_json()
    assert as_json["language"] == "en"
    assert as_json["recording_notice"].startswith("The session is recorded")


def test_the_german_receipt_is_the_default_and_stays_german(tmp_path: Path) -> None:
    german = receipt(DE)
    text = german.as_text()
    assert text.startswith("Quittung Fernwartung\n====================\n")
    assert "Beginn:          30.11.2026, 10:00:00 Uhr" in text
    assert "10:03:00 Uhr  Maus und Tastatur steuern: entzogen" in text
    assert "kontoauszug.pdf (1234 Bytes, an die Bank)" in text
    assert "Bitte nennen Sie bei Rückfragen die Beratungsnummer." in text
    assert_one_language(text, DE)
    assert json.loads(json.dumps(german.as_json()))["language"] == "de"
    path = tmp_path / "Fernwartung-BN-2026-4821-7730-8.txt"
    assert saved_notice(path) == f"Quittung gespeichert: {path}"
    assert saved_notice(path, EN) == f"Receipt saved: {path}"


# -- errors and prompts the customer sees ------------------------------------------------------


def test_link_errors_are_in_the_customers_language() -> None:
    with pytest.raises(LinkError, match="muss mit https:// beginnen"):
        applet_url("http://bank.example")
    with pytest.raises(LinkError, match="must start with https://"):
        applet_url("http://bank.example", EN)


async def test_an_unreachable_server_is_reported_in_the_customers_language(
    tmp_path: Path,
) -> None:
    for language, expected in (("de", "ist nicht erreichbar"), ("en", "Cannot reach")):
        link = AppletLink(
            "https://127.0.0.1:9",  # discard port: nothing listens
            "token",
            ask_consent=lambda request: pytest.fail("no consent without a link"),
            screen_source=lambda: pytest.fail("no capture without a link"),
            input_sink=lambda: None,
            language=language,
            files_folder=tmp_path,
        )
        with pytest.raises(LinkError, match=expected):
            await link.run()
        assert link.facts.language is language_of(language)


@pytest.mark.parametrize(
    ("language", "prompts"),
    [(DE, ["Ihr Name: ", "Support-Schlüssel: "]), (EN, ["Your name: ", "Support key: "])],
)
def test_name_and_key_are_asked_in_the_customers_language(
    language: Language, prompts: list[str]
) -> None:
    asked: list[str] = []
    answers = iter([" Erika Muster ", " 1234 5678 9012 "])

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return next(answers)

    assert ask_name_and_key(language, ask) == ("Erika Muster", "1234 5678 9012")
    assert asked == prompts


def test_the_link_keeps_codes_and_the_windows_word_them(tmp_path: Path) -> None:
    link = AppletLink(
        "https://bank.example",
        "token",
        ask_consent=lambda request: pytest.fail("not asked"),
        screen_source=lambda: pytest.fail("not captured"),
        input_sink=lambda: None,
        language="en",
        files_folder=tmp_path,
    )
    link._follow_state({**STATE, "held": True, "notice": "Aufzeichnung nicht möglich"})
    assert link.state.watchers == (("Anna Berger", "agent"), ("Sven Schulz", "supervisor"))
    assert link.state.held and link.state.paused is False
    assert session_notice(link.state.held, link.state.notice, gettext_for(EN)) == (
        "Recording not possible – session paused"
    )
    assert link.facts.language is EN
