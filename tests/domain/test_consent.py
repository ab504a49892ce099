"""Consent texts and records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import (
    CONSENT_TEXTS,
    CURRENT_CONSENT_VERSION,
    ConsentDecision,
    ConsentRecord,
    InvalidAgentName,
    InvalidConsentRecord,
    Language,
    UnknownConsentText,
    consent_text,
)

AT = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)

BANK_WORDING = (
    '"Anna Berger" hat Sie eingeladen, an einer Support-Sitzung teilzunehmen. '
    'Wenn Sie teilnehmen, kann "Anna Berger" Ihren Bildschirm sehen, Ihre Maus steuern, '
    "Daten übertragen und Diagnoseinformationen für die Sitzung abfragen. "
    "Diese Sitzung wird aufgezeichnet. Möchten Sie an der Sitzung teilnehmen?"
)


def test_german_is_default_and_follows_the_bank_wording() -> None:
    shown = consent_text().render("Anna Berger")
    assert shown.language is Language.DE
    assert shown.version == CURRENT_CONSENT_VERSION == "2026-11-1"
    assert shown.text.startswith(BANK_WORDING)
    assert "PIN" in shown.text and "TAN" in shown.text and "niemals" in shown.text


def test_english_available_with_warning() -> None:
    shown = consent_text(language=Language.EN).render("Anna Berger")
    assert shown.text.startswith('"Anna Berger" has invited you')
    assert "never ask you for your PIN or a TAN" in shown.text
    assert "recorded" in shown.text


def test_every_version_exists_in_every_language() -> None:
    versions = {version for version, _ in CONSENT_TEXTS}
    for version in versions:
        for language in Language:
            assert (version, language) in CONSENT_TEXTS


def test_unknown_version() -> None:
    with pytest.raises(UnknownConsentText):
        consent_text("1999-1-1")


def test_hash_depends_on_exact_text() -> None:
    text = consent_text()
    assert text.render("Anna\nBerger") == text.render("Anna Berger")
    assert text.render("Anna Berger").sha256 == text.render("  Anna   Berger ").sha256
    assert text.render("Anna Berger").sha256 != text.render("Anna Bergér").sha256
    de = text.render("Anna Berger").sha256
    en = consent_text(language=Language.EN).render("Anna Berger").sha256
    assert de != en


@pytest.mark.parametrize(
    "name", ["", "   ", 'Anna" und "Bank', "Anna\u202eregreB", "{agent}", "x" * 81]
)
def test_agent_name_that_could_change_the_text_is_refused(name: str) -> None:
    with pytest.raises(InvalidAgentName):
        consent_text().render(name)


@given(st.text(max_size=100))
def test_render_accepts_or_refuses_name(name: str) -> None:
    try:
        shown = consent_text().render(name)
    except InvalidAgentName:
        return
    assert shown.text.count('"') == 4


def test_record_from_shown_text() -> None:
    shown = consent_text().render("Anna Berger")
    caps = frozenset({Capability.VIEW, Capability.CONTROL})
    record = ConsentRecord.of(shown, ConsentDecision.GIVEN, caps, AT)
    assert record.text_sha256 == shown.sha256
    assert record.audit_data() == {
        "consent_version": "2026-11-1",
        "language": "de",
        "text_sha256": shown.sha256,
        "capabilities": ["control", "view"],
        "decision": "given",
        "at": "2026-11-03T09:00:00.000000Z",
    }


def test_record_rules() -> None:
    shown = consent_text().render("Anna Berger")
    with pytest.raises(InvalidConsentRecord):
        ConsentRecord.of(shown, ConsentDecision.GIVEN, frozenset({Capability.CONTROL}), AT)
    with pytest.raises(InvalidConsentRecord):
        ConsentRecord.of(shown, ConsentDecision.DECLINED, frozenset({Capability.VIEW}), AT)
    with pytest.raises(ValueError):
        ConsentRecord.of(shown, ConsentDecision.DECLINED, frozenset(), datetime(2026, 1, 1))
