"""Who owns and who helps in a live session: hand-over, helpers, the customer's
refusal, and who may be chosen, through the session's one way to change (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from supportdesk.domain.agent_accounts import Role
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent_texts import consent_text
from supportdesk.domain.consultation_number import ConsultationNumber
from supportdesk.domain.session_events import (
    CapabilityRevoked,
    ConsentGiven,
    ConsentRequested,
    CustomerName,
    Ended,
    EndReason,
    IllegalTransition,
    KeyRedeemed,
)
from supportdesk.domain.session_snapshot import restore, snapshot
from supportdesk.domain.session_team import (
    ControlRefused,
    HandedOver,
    Helper,
    HelperInvited,
    HelperLeft,
    NotAllowed,
    NotOnTeam,
    StaleHandOver,
    TargetRefusal,
    check_target,
)
from supportdesk.domain.support_session import SupportSession
from supportdesk.domain.verification_code import VerificationCode

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
ANNA, BERND, CARLA = "agent:anna", "agent:bernd", "agent:carla"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def live_session(*capabilities: Capability) -> SupportSession:
    session, _ = SupportSession.issue(
        consultation_number=ConsultationNumber(2026, "48217730"),
        agent_id=ANNA,
        verification_code=VerificationCode("ACDEFH"),
        key_expires_at=at(10),
        now=T0,
    )
    session.apply(KeyRedeemed(at(1), CustomerName("Erika Muster"), "c" * 16, "n" * 16))
    session.apply(ConsentRequested(at(2), consent_text().render("Anna")))
    session.apply(ConsentGiven(at(3), frozenset({Capability.VIEW, *capabilities})))
    return session


def hand_over(by: str = ANNA, to: str = BERND, **options: object) -> HandedOver:
    fields: dict[str, object] = {
        "by_supervisor": False,
        "from_owner": ANNA,
        "to_name": to.removeprefix("agent:").title(),
        "from_name": "Anna",
        **options,
    }
    return HandedOver(at(5), by, to=to, **fields)  # type: ignore[arg-type]


def test_a_hand_over_moves_ownership_and_control_at_once() -> None:
    session = live_session(Capability.CONTROL)
    assert session.may_control(ANNA) and not session.may_control(BERND)
    (record,) = session.apply(hand_over())
    assert session.agent_id == BERND
    assert session.may_control(BERND)
    assert not session.may_control(ANNA)  # the previous owner's input stops with the event
    assert not session.on_team(ANNA)  # not kept: not even watching
    assert (record.event_type, record.actor) == ("session.handed_over", ANNA)
    assert record.data == {"from": ANNA, "to": BERND, "previous_stays": False}
    assert session.granted == frozenset({Capability.VIEW, Capability.CONTROL})  # no new consent
    assert session.consent_record is not None and session.consent_record.at == at(3)


def test_the_previous_owner_stays_as_a_watching_helper_when_asked() -> None:
    session = live_session(Capability.CONTROL)
    session.apply(hand_over(previous_stays=True))
    assert session.on_team(ANNA) and not session.may_control(ANNA)
    assert session.team.helpers == (Helper(ANNA, "Anna", False),)
    assert session.team.owner_name == "Bernd"


def test_only_the_owner_or_a_supervisor_hands_over() -> None:
    session = live_session()
    with pytest.raises(NotAllowed):
        session.apply(hand_over(by=CARLA, from_owner=ANNA, to=BERND))
    assert session.agent_id == ANNA
    session.apply(hand_over(by="agent:sven", by_supervisor=True))
    assert session.agent_id == BERND


def test_of_two_parallel_hand_overs_only_the_first_takes_effect() -> None:
    """Both requests saw Anna as the owner; the second finds Bernd and is refused."""
    session = live_session()
    session.apply(hand_over(to=BERND))
    with pytest.raises(StaleHandOver):
        session.apply(hand_over(to=CARLA, by="agent:sven", by_supervisor=True))
    assert session.agent_id == BERND


def test_the_previous_owners_late_hand_over_is_stale_not_forbidden() -> None:
    """A supervisor's hand-over came first; Anna's, sent at the same moment, is told
    that (she may no longer ask, but that is not what happened)."""
    session = live_session()
    session.apply(hand_over(to=CARLA, by="agent:sven", by_supervisor=True))
    with pytest.raises(StaleHandOver):
        session.apply(hand_over(to=BERND))
    assert session.agent_id == CARLA


def test_a_session_cannot_be_handed_to_its_owner() -> None:
    with pytest.raises(NotOnTeam):
        live_session().apply(hand_over(to=ANNA))


def test_helpers_watch_or_control_as_the_owner_allows() -> None:
    session = live_session(Capability.CONTROL)
    (invited,) = session.apply(HelperInvited(at(4), ANNA, False, CARLA, "Carla", False))
    assert invited.event_type == "session.helper_invited"
    assert invited.data == {"helper": CARLA, "control": False, "changed": False}
    assert session.on_team(CARLA) and not session.may_control(CARLA)
    with pytest.raises(NotOnTeam):  # the same access again: the console sent it twice
        session.apply(HelperInvited(at(4.5), ANNA, False, CARLA, "Carla", False))
    (changed,) = session.apply(HelperInvited(at(5), ANNA, False, CARLA, "Carla", True))
    assert changed.data["changed"] is True and session.may_control(CARLA)
    with pytest.raises(NotAllowed):  # a helper does not invite
        session.apply(HelperInvited(at(6), CARLA, False, BERND, "Bernd", True))
    (left,) = session.apply(HelperLeft(at(7), CARLA, False, CARLA))  # leaving on her own
    assert (left.event_type, left.data) == ("session.helper_left", {"helper": CARLA})
    assert not session.on_team(CARLA)
    assert session.apply(HelperLeft(at(8), ANNA, False, CARLA)) == []  # gone already


def test_helper_control_still_needs_the_customers_grant() -> None:
    session = live_session()  # view only
    session.apply(HelperInvited(at(4), ANNA, False, CARLA, "Carla", True))
    assert not session.may_control(CARLA) and not session.may_control(ANNA)


def test_the_customer_refuses_a_new_controlling_agent() -> None:
    session = live_session(Capability.CONTROL)
    session.apply(hand_over(previous_stays=True))
    (refused,) = session.apply(ControlRefused(at(6), BERND))
    assert (refused.event_type, refused.actor) == ("session.control_refused", "customer")
    assert not session.may_control(BERND) and session.on_team(BERND)  # still watching
    with pytest.raises(NotOnTeam):
        session.apply(ControlRefused(at(7), BERND))  # refused already
    with pytest.raises(NotOnTeam):
        session.apply(ControlRefused(at(7), CARLA))  # nobody the customer was told of


def test_losing_control_revoked_by_the_customer_covers_everyone() -> None:
    session = live_session(Capability.CONTROL)
    session.apply(HelperInvited(at(4), ANNA, False, CARLA, "Carla", True))
    session.apply(CapabilityRevoked(at(5), Capability.CONTROL))
    assert not session.may_control(ANNA) and not session.may_control(CARLA)


def test_the_team_changes_only_while_the_session_is_live() -> None:
    session = live_session()
    session.apply(Ended(at(4), EndReason.AGENT))
    with pytest.raises(IllegalTransition):
        session.apply(hand_over())


def test_the_team_survives_a_snapshot() -> None:
    session = live_session(Capability.CONTROL)
    session.apply(hand_over(previous_stays=True))
    session.apply(HelperInvited(at(6), BERND, False, CARLA, "Carla", True))
    session.apply(ControlRefused(at(7), CARLA))
    again, _ = restore(snapshot(session))
    assert again.agent_id == BERND and again.team == session.team
    assert not again.may_control(CARLA) and again.on_team(ANNA)


@pytest.mark.parametrize(
    ("role", "facts", "refusal"),
    [
        (Role.AGENT, {}, None),
        (Role.SUPERVISOR, {}, None),
        (Role.AGENT, {"disabled": True}, TargetRefusal.DISABLED),
        (Role.AGENT, {"locked": True}, TargetRefusal.LOCKED),
        (Role.AGENT, {"signed_in": False}, TargetRefusal.NOT_SIGNED_IN),
        (Role.AUDITOR, {}, TargetRefusal.NOT_PERMITTED),
        (Role.ADMIN, {}, TargetRefusal.NOT_PERMITTED),
    ],
)
def test_who_may_be_chosen(
    role: Role, facts: dict[str, bool], refusal: TargetRefusal | None
) -> None:
    given = {"disabled": False, "locked": False, "signed_in": True, **facts}
    assert check_target(role, **given) is refusal
