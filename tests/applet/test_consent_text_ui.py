"""Text-mode consent: answers fed on standard input."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from supportdesk.applet.consent import ConsentRequest, build_dialog
from supportdesk.applet.consent_text_ui import ask_consent_text
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import ConsentDecision, Language

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def ask(request: ConsentRequest, answers: str, language: Language = Language.DE) -> tuple:
    out = io.StringIO()
    record = ask_consent_text(
        build_dialog(request, language), io.StringIO(answers), out, clock=lambda: NOW
    )
    return record, out.getvalue()


def test_ja_with_control_only(request_: ConsentRequest) -> None:
    record, shown = ask(request_, "j\nn\nn\nJa\n")
    assert record.decision is ConsentDecision.GIVEN
    assert record.capabilities == {Capability.VIEW, Capability.CONTROL}
    assert "K7M-4XP" in shown and "niemals nach Ihrer PIN" in shown
    assert "Maus und Tastatur steuern erlauben? (j/n)" in shown


def test_all_capabilities(request_: ConsentRequest) -> None:
    record, _ = ask(request_, "ja\ny\nJ\nja\n")
    assert record.capabilities == set(Capability)


@pytest.mark.parametrize(
    "answers",
    ["", "j\n", "j\nj\nj\n", "j\nj\nj\nNein\n", "j\nj\nj\nvielleicht\n", "j\nj\nj\n\n"],
    ids=["eof-at-once", "eof-midway", "eof-before-final", "nein", "junk", "empty"],
)
def test_anything_but_ja_declines(request_: ConsentRequest, answers: str) -> None:
    record, shown = ask(request_, answers)
    assert record.decision is ConsentDecision.DECLINED
    assert record.capabilities == frozenset()
    assert "Abgelehnt" in shown


def test_unclear_capability_answer_grants_nothing(request_: ConsentRequest) -> None:
    record, _ = ask(request_, "vielleicht\nn\nn\nja\n")
    assert record.capabilities == {Capability.VIEW}


def test_english(request_: ConsentRequest) -> None:
    record, shown = ask(request_, "y\nn\nn\nYes\n", Language.EN)
    assert record.capabilities == {Capability.VIEW, Capability.CONTROL}
    assert 'Join the session? Please type "Yes" or "No"' in shown


def test_the_text_for_the_answers_is_shown_before_the_final_question(
    request_: ConsentRequest,
) -> None:
    record, shown = ask(request_, "j\nn\nn\nJa\n")
    body = build_dialog(request_).ticked([Capability.CONTROL])
    assert shown.rindex(body.body) < shown.index("An der Sitzung teilnehmen?")
    assert record.text_sha256 == body.rendered.sha256
