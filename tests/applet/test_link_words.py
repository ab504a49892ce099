"""What the customer reads about a dropped link, in German and English: the reconnecting
line (text mode and the active window's notice), the connection-lost end, the renewal
question read through the text mode's own reader, and the receipt's end reason."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from supportdesk.applet import texts
from supportdesk.applet.consent import ConsentRequest, build_dialog
from supportdesk.applet.consent_text_ui import ask_consent_text
from supportdesk.applet.files_text import QuestionLines, TextQuestions
from supportdesk.applet.join_text import end_line
from supportdesk.applet.receipt import Receipt, write_receipt
from supportdesk.domain.consent import ConsentDecision, Language

DE, EN = Language.DE, Language.EN
START = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "reconnecting", "restored", "lost"),
    [
        (
            DE,
            "Verbindung unterbrochen – wird wiederhergestellt …",
            "Verbindung wiederhergestellt",
            "Verbindung verloren – die Sitzung wurde beendet",
        ),
        (
            EN,
            "Connection interrupted – reconnecting …",
            "Connection restored",
            "Connection lost – the session has ended",
        ),
    ],
)
def test_the_link_words_in_each_language(
    language: Language, reconnecting: str, restored: str, lost: str
) -> None:
    _ = texts.gettext_for(language)
    assert _(texts.RECONNECTING) == reconnecting
    assert _(texts.RECONNECTED) == restored
    assert end_line("connection_lost", language) == lost
    # The active window's notice: a lost link before anything else.
    assert texts.link_notice(True, True, "x", _) == reconnecting
    assert texts.link_notice(False, False, "", _) == ""
    assert texts.link_notice(False, True, "", _) == _(texts.HELD_NOTICE)


def test_the_end_reason_connection_lost_in_words() -> None:
    assert texts.end_reason("connection_lost", texts.gettext_for(DE)) == "Verbindung verloren"
    assert texts.end_reason("connection_lost", texts.gettext_for(EN)) == "connection lost"


def test_every_end_reason_the_server_sends_has_words_in_both_languages() -> None:
    """A reason without words reached the customer's receipt as its code."""
    from supportdesk.domain.session_events import EndReason

    for reason in EndReason:
        german = texts.end_reason(reason.value, texts.gettext_for(DE))
        english = texts.end_reason(reason.value, texts.gettext_for(EN))
        assert reason.value not in (german, english) and german != english, reason
    assert texts.end_reason("recording_limit", texts.gettext_for(DE)) == (
        "Aufzeichnungsgrenze erreicht"
    )


@pytest.mark.parametrize(
    ("language", "line"), [(DE, "Beendet: Verbindung verloren"), (EN, "Ended: connection lost")]
)
def test_the_receipt_names_how_the_session_ended(
    language: Language, line: str, tmp_path: Path
) -> None:
    receipt = Receipt(
        consultation_number="BN-2026-1",
        bank_name="LIGA Bank eG",
        agent_name="Anna Berger",
        started_at=START,
        ended_at=START + timedelta(minutes=3),
        language=language,
        end_reason="connection_lost",
    )
    path = write_receipt(receipt, tmp_path)
    assert line in " ".join(path.read_text().split())
    twin = json.loads(path.with_suffix(".json").read_text())
    assert twin["end_reason"] == "connection_lost"


def test_a_receipt_without_a_reason_has_no_such_line(tmp_path: Path) -> None:
    receipt = Receipt("BN-1", "Bank", "Anna", START, START + timedelta(seconds=5))
    assert "Beendet:" not in receipt.as_text()


def test_the_renewal_is_answered_through_the_text_modes_reader() -> None:
    """Asked again while the text mode already reads standard input, the dialog gets
    its lines from that reader, one per open question."""
    questions = TextQuestions(io.StringIO())
    request = ConsentRequest("Bank", "127.0.0.1", "Anna", "BN-1", "ABC-123")
    out = io.StringIO()
    records = []
    asking = threading.Thread(
        target=lambda: records.append(
            ask_consent_text(build_dialog(request, DE), QuestionLines(questions), out)
        )
    )
    asking.start()
    for answer in ("j", "n", "n", "Ja"):  # as TextControls hands the lines over
        while not questions.take(answer):
            threading.Event().wait(0.01)
    asking.join(5)
    assert records and records[0].decision is ConsentDecision.GIVEN
    assert "erlauben? (j/n)" in out.getvalue()


def test_closed_standard_input_declines_a_renewal() -> None:
    questions = TextQuestions(io.StringIO())
    lines = QuestionLines(questions)
    result: list[str] = []
    reading = threading.Thread(target=lambda: result.append(lines.readline()))
    reading.start()
    while not questions._open:
        threading.Event().wait(0.01)
    questions.close()
    reading.join(5)
    assert result == [""]  # end of input: the dialog declines
