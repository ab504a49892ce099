"""The consent dialog model: what is shown, in both languages, and the record of the answer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from supportdesk.applet.consent import ConsentRequest, build_dialog, declined
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import ConsentDecision, InvalidAgentName, Language
from supportdesk.domain.consent_texts import consent_text

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_german_dialog_shows_identity_choices_notice_and_warning(
    request_: ConsentRequest,
) -> None:
    dialog = build_dialog(request_)
    text = dialog.as_text()
    for needle in (
        "Volksbank Musterstadt eG",
        "support.volksbank-musterstadt.de",
        "Anna Schmidt",
        "BN-2026-4821-7730-8",
        "K7M-4XP",
        "Bildschirm ansehen (erforderlich)",
        "Maus und Tastatur steuern",
        "Dateien übertragen",
        "Diagnosedaten abfragen",
        "wird aufgezeichnet",
        consent_text(language=Language.DE).warning,
    ):
        assert needle in text
    assert "PIN" in dialog.warning and "TAN" in dialog.warning
    assert [c.required for c in dialog.choices] == [True, False, False, False]
    assert dialog.rendered.text.endswith(dialog.warning)


def test_english_is_available(request_: ConsentRequest) -> None:
    dialog = build_dialog(request_, Language.EN)
    assert "View my screen (required)" in dialog.as_text()
    assert "never ask you for your PIN" in dialog.as_text()
    assert dialog.labels["yes"] == "Yes"


def test_only_requested_capabilities_are_offered() -> None:
    request = ConsentRequest(
        "Bank", "bank.example", "Max", "BN-2026-4821-7730-8", "K7M-4XP",
        requested=frozenset({Capability.CONTROL}),
    )  # fmt: skip
    dialog = build_dialog(request)
    assert [c.capability for c in dialog.choices] == [Capability.VIEW, Capability.CONTROL]
    record = dialog.decide(True, [Capability.CONTROL, Capability.DIAGNOSTICS], NOW)
    assert record.capabilities == {Capability.VIEW, Capability.CONTROL}


def test_yes_always_includes_view_and_no_grants_nothing(request_: ConsentRequest) -> None:
    dialog = build_dialog(request_)
    given = dialog.decide(True, [], NOW)
    assert given.decision is ConsentDecision.GIVEN and given.capabilities == {Capability.VIEW}
    assert given.text_sha256 == dialog.rendered.sha256
    no = dialog.decide(False, [Capability.CONTROL], NOW)
    assert declined(no) and no.capabilities == frozenset()


def test_an_agent_name_that_could_fake_text_is_refused() -> None:
    with pytest.raises(InvalidAgentName):
        ConsentRequest("Bank", "bank.example", 'Anna" hat', "BN-2026-4821-7730-8", "K7M-4XP")


def test_the_text_follows_the_ticks_and_the_record_cites_it(request_: ConsentRequest) -> None:
    """The dialog once said the agent could steer the mouse and transfer data before the
    ticks, even when the customer granted view only: its text now names the ticks."""
    dialog = build_dialog(request_)
    assert "Maus" not in dialog.body and "Dateien" not in dialog.body
    control = dialog.ticked([Capability.CONTROL])
    assert "Ihre Maus und Tastatur steuern" in control.body
    assert "Diagnose" not in control.body
    record = dialog.decide(True, [Capability.CONTROL], NOW)
    assert record.text_sha256 == control.rendered.sha256 != dialog.rendered.sha256
    assert record.capabilities == {Capability.VIEW, Capability.CONTROL}
    # A "Nein" cites the text shown at that moment, too.
    assert dialog.decide(False, [Capability.CONTROL], NOW).text_sha256 == control.rendered.sha256


def test_a_language_switch_keeps_the_ticks_and_the_record_cites_the_language_shown(
    request_: ConsentRequest,
) -> None:
    english = build_dialog(request_, Language.EN, [Capability.FILE_TRANSFER])
    assert "exchange files with you" in english.body
    record = english.decide(True, [Capability.FILE_TRANSFER], NOW)
    assert record.language is Language.EN
    expected = consent_text(request_.consent_version, Language.EN).render(
        request_.agent_name, {Capability.VIEW, Capability.FILE_TRANSFER}
    )
    assert record.text_sha256 == expected.sha256


def test_a_capability_not_requested_is_never_named() -> None:
    request = ConsentRequest(
        "Bank", "bank.example", "Max", "BN-2026-4821-7730-8", "K7M-4XP",
        requested=frozenset({Capability.CONTROL}),
    )  # fmt: skip
    dialog = build_dialog(request).ticked(list(Capability))
    assert "Maus" in dialog.body and "Dateien" not in dialog.body and "Diagnose" not in dialog.body
