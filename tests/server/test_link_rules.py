"""The rules of the customer's link, without sockets: what each kind may send, what a
consent grants, and which pointer messages reach a browser."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import BROWSER_CONSENT_VERSION, CURRENT_CONSENT_VERSION, Language
from supportdesk.domain.consent_texts import consent_text
from supportdesk.domain.session_events import ConsentDeclined, ConsentGiven
from supportdesk.link.frames import LinkProtocolError
from supportdesk.server.relay.link_rules import (
    LinkKind,
    PointerGate,
    check_message,
    consent_event,
    customer_platform,
)

AT = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
SHOWN = consent_text(BROWSER_CONSENT_VERSION, Language.DE).render("Anna Berger")


@pytest.mark.parametrize(
    "kind", ["grant", "revoke", "hello", "close", "file_offer", "file_chunk", "diagnostics_report"]
)
def test_a_browser_cannot_send_what_only_the_program_can(kind: str) -> None:
    with pytest.raises(LinkProtocolError):
        check_message(LinkKind.BROWSER, kind)
    check_message(LinkKind.APPLET, kind)


def test_a_hello_names_a_platform_the_program_has_or_none() -> None:
    for platform in ("x11", "windows", "macos"):
        assert customer_platform(platform) == platform
    for crafted in ("Windows", "<script>", "", None, 1, ["windows"], {"windows": 1}):
        assert customer_platform(crafted) is None


def test_the_program_cannot_configure_video() -> None:
    with pytest.raises(LinkProtocolError):
        check_message(LinkKind.APPLET, "video_config")
    for kind in ("video_config", "consent", "pause", "resume", "end", "chat"):
        check_message(LinkKind.BROWSER, kind)


def test_a_browser_grants_view_only_and_only_on_the_shown_text() -> None:
    yes = {"decision": "yes", "consent_sha256": SHOWN.sha256, "capabilities": ["control"]}
    assert consent_event(LinkKind.BROWSER, yes, SHOWN, AT) == ConsentGiven(
        AT, frozenset({Capability.VIEW}), SHOWN
    )
    other = {**yes, "consent_sha256": "0" * 64}
    assert consent_event(LinkKind.BROWSER, other, SHOWN, AT) == ConsentDeclined(AT, "text_mismatch")
    assert consent_event(LinkKind.BROWSER, yes, None, AT) == ConsentDeclined(AT, "text_mismatch")


def test_a_no_says_why_and_unknown_reasons_read_as_declined() -> None:
    for reason, expected in (
        ("picker_cancelled", "picker_cancelled"),
        ("declined", "declined"),
        ("<script>", "declined"),
        (None, "declined"),
    ):
        event = consent_event(LinkKind.BROWSER, {"decision": "no", "reason": reason}, SHOWN, AT)
        assert event == ConsentDeclined(AT, expected)


ASKED = consent_text(CURRENT_CONSENT_VERSION, Language.DE).render("Anna Berger")


def program_says(shown_language: Language, ticked: set[Capability], **changes: object) -> dict:
    shown = consent_text(CURRENT_CONSENT_VERSION, shown_language).render("Anna Berger", ticked)
    message = {
        "decision": "yes",
        "capabilities": sorted(c.value for c in ticked),
        "consent_version": shown.version,
        "language": shown.language.value,
        "consent_sha256": shown.sha256,
    }
    return message | changes


def program_event(message: dict) -> ConsentGiven | ConsentDeclined:
    return consent_event(LinkKind.APPLET, message, ASKED, AT, agent_name="Anna Berger")


def test_the_program_grants_what_the_customer_ticked_on_the_text_it_showed() -> None:
    ticked = {Capability.VIEW, Capability.CONTROL}
    # Asked in German, the customer switched the dialog to English: the English text
    # for view + control is what was read, and what the audit cites.
    event = program_event(program_says(Language.EN, ticked))
    shown = consent_text(CURRENT_CONSENT_VERSION, Language.EN).render("Anna Berger", ticked)
    assert event == ConsentGiven(AT, frozenset(ticked), shown)
    assert event.shown is not None and event.shown != ASKED


@pytest.mark.parametrize(
    "changes",
    [
        {"consent_sha256": "0" * 64},  # a text the server does not know
        {"capabilities": ["view", "control", "diagnostics"]},  # more than the text names
        {"capabilities": ["view"]},  # less than the text names
        {"language": "de"},  # the English text claimed as German
        {"consent_version": "2026-11-1"},  # not the version asked
        {"consent_sha256": None},
        {"consent_version": None, "language": None, "consent_sha256": None},  # an old program
    ],
)
def test_a_yes_on_a_text_the_server_does_not_know_is_a_refusal(changes: dict) -> None:
    message = program_says(Language.EN, {Capability.VIEW, Capability.CONTROL}, **changes)
    assert program_event(message) == ConsentDeclined(AT, "text_mismatch")


def test_a_capability_not_offered_is_a_refusal() -> None:
    message = program_says(Language.DE, {Capability.VIEW, Capability.CONTROL})
    event = consent_event(
        LinkKind.APPLET, message, ASKED, AT, agent_name="Anna Berger", offered=ASKED_VIEW_ONLY
    )
    assert event == ConsentDeclined(AT, "text_mismatch")


ASKED_VIEW_ONLY = frozenset({Capability.VIEW})


def test_a_no_cites_the_text_shown_if_known() -> None:
    no = program_says(Language.EN, {Capability.VIEW, Capability.DIAGNOSTICS}, decision="no")
    event = program_event(no)
    assert isinstance(event, ConsentDeclined) and event.reason == "declined"
    assert event.shown is not None and event.shown.sha256 == no["consent_sha256"]
    assert program_event({**no, "consent_sha256": "0" * 64}) == ConsentDeclined(AT, "declined")


def test_pointer_messages_are_checked() -> None:
    gate = PointerGate()
    assert gate.admit({"x": 0.25, "y": 1, "down": True}, 0.0) == {
        "type": "pointer", "x": 0.25, "y": 1, "down": True,
    }  # fmt: skip
    assert gate.admit({"x": None, "y": None, "down": True}, 0.0) == {
        "type": "pointer", "x": None, "y": None, "down": False,
    }  # fmt: skip
    for bad in ({"x": 1.5, "y": 0}, {"x": -0.1, "y": 0}, {"x": "0.5", "y": 0}, {"x": True, "y": 0}):
        assert gate.admit(bad, 0.0) is None
    assert gate.admit({"x": 0.5, "y": 0.5, "down": "yes"}, 0.0)["down"] is False  # type: ignore[index]


def test_a_pointer_flood_is_cut_to_the_rate_per_second() -> None:
    gate = PointerGate(rate=30)
    passed = [gate.admit({"x": 0.5, "y": 0.5}, i / 1000) for i in range(100)]
    assert sum(p is not None for p in passed) == 30
    assert gate.admit({"x": 0.5, "y": 0.5}, 1.0) is not None  # a second later: room again
