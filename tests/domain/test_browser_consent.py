"""The browser family of consent texts: what sharing from the browser allows, in words."""

from __future__ import annotations

import hashlib

import pytest

from supportdesk.domain.consent import (
    BROWSER_CONSENT_VERSION,
    CURRENT_CONSENT_VERSION,
    Language,
    UnknownConsentText,
)
from supportdesk.domain.consent_texts import consent_text


def test_the_browser_version_is_published_in_both_languages() -> None:
    assert BROWSER_CONSENT_VERSION == "2026-12-browser-1"
    for language in Language:
        text = consent_text(BROWSER_CONSENT_VERSION, language)
        assert text.version == BROWSER_CONSENT_VERSION and text.language is language


def test_german_says_what_the_browser_mode_allows_and_what_not() -> None:
    shown = consent_text(BROWSER_CONSENT_VERSION, Language.DE).render("Anna Berger")
    assert shown.text.startswith(
        '"Anna Berger" hat Sie eingeladen, Ihren Bildschirm im Browser freizugeben.'
    )
    for words in (
        'sieht "Anna Berger" den Bildschirm, das Fenster oder den Tab',
        "chatten",
        "Zeiger",
        '"Anna Berger" kann Ihre Maus und Ihre Tastatur nicht steuern.',
        "Diese Sitzung wird aufgezeichnet.",
        "jederzeit pausieren oder beenden",
    ):
        assert words in shown.text
    assert "Daten übertragen" not in shown.text and "Diagnose" not in shown.text


def test_english_says_the_same() -> None:
    shown = consent_text(BROWSER_CONSENT_VERSION, Language.EN).render("Anna Berger")
    assert shown.text.startswith('"Anna Berger" has invited you to share your screen')
    assert '"Anna Berger" cannot control your mouse or your keyboard.' in shown.text
    assert "This session will be recorded." in shown.text
    assert "pointer" in shown.text and "chat" in shown.text


@pytest.mark.parametrize("language", list(Language))
def test_the_pin_tan_warning_is_the_programs_warning(language: Language) -> None:
    browser = consent_text(BROWSER_CONSENT_VERSION, language)
    program = consent_text(CURRENT_CONSENT_VERSION, language)
    assert browser.warning == program.warning
    assert browser.render("Anna Berger").text.endswith("\n\n" + program.warning)


def test_the_hash_is_of_the_exact_text_and_differs_between_families() -> None:
    browser = consent_text(BROWSER_CONSENT_VERSION).render("Anna Berger")
    program = consent_text().render("Anna Berger")
    assert browser.sha256 == hashlib.sha256(browser.text.encode()).hexdigest()
    assert browser.sha256 != program.sha256
    assert consent_text().version == CURRENT_CONSENT_VERSION  # the default stays the program's


def test_an_unknown_browser_version_is_refused() -> None:
    with pytest.raises(UnknownConsentText):
        consent_text("2026-12-browser-0", Language.DE)
