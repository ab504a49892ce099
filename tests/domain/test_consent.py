"""Consent texts and records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import (
    CURRENT_CONSENT_VERSION,
    AutomaticMasking,
    ConsentDecision,
    ConsentRecord,
    InvalidAgentName,
    InvalidConsentRecord,
    Language,
    UnknownConsentText,
)
from supportdesk.domain.consent_texts import CONSENT_TEXTS, cited_text, consent_text

AT = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)

BANK_WORDING = (
    '"Anna Berger" hat Sie eingeladen, an einer Support-Sitzung teilzunehmen. '
    'Wenn Sie teilnehmen, kann "Anna Berger" Ihren Bildschirm sehen. '
    "Diese Sitzung wird aufgezeichnet. Möchten Sie an der Sitzung teilnehmen?"
)
# The text of 2026-11-1, still cited by older audit entries: never changed.
OLD_WORDING = (
    '"Anna Berger" hat Sie eingeladen, an einer Support-Sitzung teilzunehmen. '
    'Wenn Sie teilnehmen, kann "Anna Berger" Ihren Bildschirm sehen, Ihre Maus steuern, '
    "Daten übertragen und Diagnoseinformationen für die Sitzung abfragen. "
    "Diese Sitzung wird aufgezeichnet. Möchten Sie an der Sitzung teilnehmen?"
)
OLD_SHA256 = "a769433b283e1dd0846d4d2c182926acf67f3a5a8feb7aabfb1a8f7abed5f632"


def test_german_is_default_and_follows_the_bank_wording() -> None:
    shown = consent_text().render("Anna Berger")
    assert shown.language is Language.DE
    assert shown.version == CURRENT_CONSENT_VERSION == "2026-12-3"
    assert "PIN" in shown.text and "TAN" in shown.text and "niemals" in shown.text
    # 2026-12-1 stays published, unchanged: audit entries cite it.
    before = consent_text("2026-12-1").render("Anna Berger")
    assert before.text.startswith(BANK_WORDING)


MASKED = (
    "Passwortfelder blendet das Programm automatisch aus, bevor Ihr Bild übertragen wird; "
    "dazu schaltet es für diese Sitzung die Barrierefreiheit-Schnittstelle Ihres Computers "
    "ein. Mit „Sichtschutz“ blenden Sie jederzeit das ganze Bild aus."
)
NOT_MASKED = (
    "Die automatische Ausblendung von Passwortfeldern ist in dieser Sitzung nicht "
    "verfügbar. Mit „Sichtschutz“ blenden Sie jederzeit das ganze Bild aus."
)


def test_the_text_says_whether_password_fields_are_masked_automatically() -> None:
    text = consent_text("2026-12-2")
    on = text.render("Anna Berger").text
    off = text.render("Anna Berger", automatic_masking=False).text
    assert on.startswith(
        '"Anna Berger" hat Sie eingeladen, an einer Support-Sitzung teilzunehmen. '
        'Wenn Sie teilnehmen, kann "Anna Berger" Ihren Bildschirm sehen. ' + MASKED + " "
        "Diese Sitzung wird aufgezeichnet."
    )
    assert NOT_MASKED in off and MASKED not in off
    english = consent_text("2026-12-2", Language.EN).render("Anna", automatic_masking=False)
    assert "Automatic hiding of password fields is not available" in english.text


ASKED = (
    "Passwortfelder blendet das Programm automatisch aus, bevor Ihr Bild übertragen wird; "
    "dazu fragt es die Barrierefreiheit-Schnittstelle Ihres Computers, wo sich ein "
    "Passwortfeld befindet. Mit „Sichtschutz“ blenden Sie jederzeit das ganze Bild aus."
)


def test_on_windows_and_macos_the_text_says_the_interface_is_asked_not_switched_on() -> None:
    text = consent_text("2026-12-3")
    asked = text.render("Anna Berger", automatic_masking=AutomaticMasking.ASKED).text
    assert ASKED in asked and MASKED not in asked and NOT_MASKED not in asked
    assert MASKED in text.render("Anna Berger", automatic_masking=AutomaticMasking.SWITCHED_ON).text
    assert text.render("Anna", automatic_masking=True) == text.render(
        "Anna", automatic_masking=AutomaticMasking.SWITCHED_ON
    )
    assert NOT_MASKED in text.render("Anna", automatic_masking=AutomaticMasking.OFF).text
    english = consent_text("2026-12-3", Language.EN).render(
        "Anna", automatic_masking=AutomaticMasking.ASKED
    )
    assert "it asks your computer's accessibility interface where a password field is" in (
        english.text
    )
    # 2026-12-2 stays as published: two sentences, its "on" for any automatic masking.
    before = consent_text("2026-12-2")
    assert before.masking_variants == (AutomaticMasking.SWITCHED_ON, AutomaticMasking.OFF)
    assert MASKED in before.render("Anna", automatic_masking=AutomaticMasking.ASKED).text
    assert before.render("Anna").text == text.render("Anna").text  # same words, new version


def test_the_server_finds_the_text_with_masking_asked_as_shown() -> None:
    offered = frozenset(Capability)
    ticked = frozenset({Capability.VIEW})
    shown = consent_text().render("Anna", ticked, automatic_masking=AutomaticMasking.ASKED)
    found = cited_text(CURRENT_CONSENT_VERSION, "Anna", offered, shown.sha256, granted=ticked)
    assert found == shown


def test_the_server_finds_the_text_with_masking_off_as_shown() -> None:
    offered = frozenset(Capability)
    ticked = frozenset({Capability.VIEW, Capability.CONTROL})
    shown = consent_text().render("Anna", ticked, automatic_masking=False)
    found = cited_text(CURRENT_CONSENT_VERSION, "Anna", offered, shown.sha256, granted=ticked)
    assert found == shown


def test_the_text_names_only_what_is_ticked() -> None:
    """The consent text once told a customer who granted view only that the agent
    could control the mouse and transfer data: now it names the ticked choices."""
    text = consent_text()
    view = text.render("Anna Berger").text
    for words in ("Maus", "Dateien", "Diagnose"):
        assert words not in view
    control = text.render("Anna Berger", {Capability.VIEW, Capability.CONTROL}).text
    assert 'kann "Anna Berger" Ihren Bildschirm sehen und Ihre Maus und Tastatur steuern.' in (
        control
    )
    assert "Dateien" not in control and "Diagnose" not in control
    every = text.render("Anna Berger", set(Capability)).text
    assert (
        "Ihren Bildschirm sehen, Ihre Maus und Tastatur steuern, Dateien mit Ihnen austauschen "
        "und Diagnoseinformationen Ihres Computers abfragen." in every
    )
    english = consent_text(language=Language.EN).render("A", {Capability.FILE_TRANSFER}).text
    assert '"A" can see your screen and exchange files with you.' in english
    # VIEW is always named (no session without it); each choice hashes differently.
    assert text.render("Anna Berger", ()).text == view
    hashes = {text.render("Anna Berger", {c}).sha256 for c in Capability}
    assert len(hashes) == len(Capability)


def test_the_old_version_stays_as_published() -> None:
    old = consent_text("2026-11-1").render("Anna Berger", {Capability.VIEW})
    assert old.text.startswith(OLD_WORDING)
    assert old.sha256 == OLD_SHA256  # as audit entries before 2026-12-1 cite it
    assert old.sha256 == consent_text("2026-11-1").render("Anna Berger", set(Capability)).sha256


def test_a_cited_text_is_found_only_among_the_known_ones() -> None:
    offered = frozenset(Capability)
    shown = consent_text(language=Language.EN).render("Anna", {Capability.CONTROL})
    two = frozenset({Capability.VIEW, Capability.CONTROL})
    found = cited_text(CURRENT_CONSENT_VERSION, "Anna", offered, shown.sha256, granted=two)
    assert found == shown
    assert (
        cited_text(
            CURRENT_CONSENT_VERSION, "Anna", offered, shown.sha256, language="en", granted=two
        )
        == shown
    )
    # Another grant than the text names, another language, version, agent, or hash: none.
    assert (
        cited_text(CURRENT_CONSENT_VERSION, "Anna", offered, shown.sha256, granted=offered) is None
    )
    assert cited_text(CURRENT_CONSENT_VERSION, "Anna", offered, shown.sha256, language="de") is None
    assert cited_text("2026-11-1", "Anna", offered, shown.sha256) is None
    assert cited_text("1999-1-1", "Anna", offered, shown.sha256) is None
    assert cited_text(CURRENT_CONSENT_VERSION, "Berta", offered, shown.sha256) is None
    assert cited_text(CURRENT_CONSENT_VERSION, "Anna", offered, "0" * 64) is None
    assert cited_text(CURRENT_CONSENT_VERSION, "Anna", offered, None) is None
    # A capability that was not offered cannot have been shown.
    view_only = frozenset({Capability.VIEW})
    assert cited_text(CURRENT_CONSENT_VERSION, "Anna", view_only, shown.sha256) is None
    # A "Nein" (no grant given) may cite any text the dialog could show.
    assert cited_text(CURRENT_CONSENT_VERSION, "Anna", offered, shown.sha256) == shown


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
        "consent_version": "2026-12-3",
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
