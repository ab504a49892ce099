"""What consent and capability events make of the customer's grants, without a session:
the pure change that SupportSession.apply writes down (its own tests cover the table)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import ConsentDecision, Language
from supportdesk.domain.consent_texts import consent_text
from supportdesk.domain.session_actors import agent_actor
from supportdesk.domain.session_events import (
    CapabilityAlreadyGranted,
    CapabilityGranted,
    CapabilityNotGranted,
    CapabilityRevoked,
    ConsentDeclined,
    ConsentGiven,
    ConsentRequested,
    ConsentWithoutView,
    Party,
    SessionError,
    ViewNotRevocable,
)
from supportdesk.domain.session_grants import GrantEvent, Grants, change_grants

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
AGENT = "agent:bernd"
SHOWN = consent_text().render("Anna Berger")
V, C = Capability.VIEW, Capability.CONTROL
NOTHING = Grants(frozenset(), None, None)


def requested() -> Grants:
    return change_grants(NOTHING, ConsentRequested(T0, SHOWN), AGENT).grants


def given(*capabilities: Capability) -> Grants:
    event = ConsentGiven(T0 + timedelta(minutes=1), frozenset(capabilities))
    return change_grants(requested(), event, AGENT).grants


def test_the_request_keeps_the_text_shown_and_is_the_systems() -> None:
    done = change_grants(NOTHING, ConsentRequested(T0, SHOWN), AGENT)
    assert done.grants == Grants(frozenset(), SHOWN, None)
    assert done.actor == "system"
    assert done.data == {
        "consent_version": SHOWN.version,
        "language": SHOWN.language.value,
        "text_sha256": SHOWN.sha256,
    }


def test_consent_grants_what_was_ticked_and_cites_the_text_read() -> None:
    read = consent_text(language=Language.EN).render("Anna Berger", {C})
    event = ConsentGiven(T0 + timedelta(minutes=1), frozenset({V, C}), read)
    done = change_grants(requested(), event, AGENT)
    assert done.grants.granted == {V, C} and done.grants.consent_shown is read
    record = done.grants.consent_record
    assert record is not None and record.decision is ConsentDecision.GIVEN
    assert (done.actor, done.data) == ("customer", record.audit_data())
    assert done.data["text_sha256"] == read.sha256


def test_a_decline_grants_nothing_and_says_why() -> None:
    done = change_grants(requested(), ConsentDeclined(T0, "picker_cancelled"), AGENT)
    assert done.grants.granted == frozenset()
    record = done.grants.consent_record
    assert record is not None and record.decision is ConsentDecision.DECLINED
    assert done.data == {**record.audit_data(), "reason": "picker_cancelled"}


def test_capabilities_come_and_go_and_the_revoker_is_named() -> None:
    more = change_grants(given(V), CapabilityGranted(T0, C), AGENT)
    assert more.grants.granted == {V, C} and more.actor == "customer"
    assert more.data == {"capability": "control"}
    back = change_grants(more.grants, CapabilityRevoked(T0, C, Party.AGENT), AGENT)
    assert back.grants.granted == {V} and back.actor == AGENT
    by_customer = change_grants(more.grants, CapabilityRevoked(T0, C), agent_actor("a1"))
    assert by_customer.actor == "customer"


@pytest.mark.parametrize(
    ("event", "error"),
    [
        (ConsentGiven(T0, frozenset({C})), ConsentWithoutView),
        (CapabilityGranted(T0, V), CapabilityAlreadyGranted),
        (CapabilityRevoked(T0, V), ViewNotRevocable),
        (CapabilityRevoked(T0, C), CapabilityNotGranted),
    ],
)
def test_a_broken_rule_raises_a_session_error(event: GrantEvent, error: type[Exception]) -> None:
    with pytest.raises(error) as raised:
        change_grants(given(V), event, AGENT)
    assert isinstance(raised.value, SessionError)
