"""Support session state machine: the full transition table, the rules on top of it,
random event sequences under Hypothesis, and what reaches the audit log."""

from __future__ import annotations

import json
import pickle
import re
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import hypothesis
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from supportdesk.domain.audit_chain import AuditChain, AuditRecord, pseudonymise, verify
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import Language
from supportdesk.domain.consent_texts import consent_text
from supportdesk.domain.consultation_number import ConsultationNumber
from supportdesk.domain.session_events import (
    EVENT_TYPES,
    LIVE_STATES,
    TERMINAL_STATES,
    TRANSITIONS,
    CapabilityAlreadyGranted,
    CapabilityGranted,
    CapabilityNotGranted,
    CapabilityRevoked,
    CapabilityUsed,
    ConsentDeclined,
    ConsentGiven,
    ConsentRequested,
    ConsentWithoutView,
    CustomerName,
    Ended,
    EndReason,
    Expired,
    IllegalTransition,
    KeyRedeemed,
    KeyRedeemedAgain,
    KeyRedeemedTooLate,
    Party,
    Paused,
    RecordingHalted,
    RecordingRestored,
    Resumed,
    SessionError,
    SessionEvent,
    SessionHeld,
    SessionState,
    TimeWentBackwards,
    ViewNotRevocable,
)
from supportdesk.domain.session_team import (
    ControlRefused,
    HandedOver,
    HelperInvited,
    HelperLeft,
)
from supportdesk.domain.support_session import SupportSession
from supportdesk.domain.verification_code import VerificationCode

T0 = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
KEY = b"k" * 32
NAME = "Zacharias Quellenmeyer"
NUMBER = ConsultationNumber(2026, "48217730")
SHOWN = consent_text().render("Anna Berger")
DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"
V, C, F, D = Capability.VIEW, Capability.CONTROL, Capability.FILE_TRANSFER, Capability.DIAGNOSTICS


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def new_session() -> SupportSession:
    session, _ = SupportSession.issue(
        consultation_number=NUMBER,
        agent_id="a1",
        verification_code=VerificationCode("ACDEFH"),
        key_expires_at=at(10),
        now=T0,
    )
    return session


def test_an_agent_named_as_its_actor_is_written_once() -> None:
    """The server names the agent as the trail does ("agent:bernd"): every entry the
    session writes for the agent names it once, never "agent:agent:bernd"."""
    session, issued = SupportSession.issue(
        consultation_number=NUMBER,
        agent_id="agent:bernd",
        verification_code=VerificationCode("ACDEFH"),
        key_expires_at=at(10),
        now=T0,
    )
    ended = session.apply(Ended(at(1), EndReason.AGENT))
    assert [r.actor for r in issued + ended] == ["agent:bernd", "agent:bernd"]


def redeemed(t: float = 1) -> KeyRedeemed:
    return KeyRedeemed(
        at(t),
        CustomerName(NAME),
        pseudonymise("203.0.113.7", KEY, purpose="client_address"),
        pseudonymise(NAME, KEY, purpose="customer_name"),
    )


# Events that lead from ISSUED to each state, and a representative event of each type
# that passes every guard in the states the table allows it in.
PATHS: dict[SessionState, list[SessionEvent]] = {
    SessionState.ISSUED: [],
    SessionState.REDEEMED: [redeemed()],
    SessionState.AWAITING_CONSENT: [redeemed(), ConsentRequested(at(2), SHOWN)],
    SessionState.ACTIVE: [
        redeemed(),
        ConsentRequested(at(2), SHOWN),
        ConsentGiven(at(3), frozenset({V, C})),
    ],
    SessionState.PAUSED: [
        redeemed(),
        ConsentRequested(at(2), SHOWN),
        ConsentGiven(at(3), frozenset({V, C})),
        Paused(at(4)),
    ],
    SessionState.ENDED: [redeemed(), Ended(at(2), EndReason.AGENT)],
    SessionState.DECLINED: [redeemed(), ConsentRequested(at(2), SHOWN), ConsentDeclined(at(3))],
    SessionState.EXPIRED: [Expired(at(10))],
}
SAMPLES: dict[type[SessionEvent], SessionEvent] = {
    KeyRedeemed: redeemed(5),
    KeyRedeemedAgain: KeyRedeemedAgain(at(5), "c" * 32, "n" * 32),
    ConsentRequested: ConsentRequested(at(5), SHOWN),
    ConsentGiven: ConsentGiven(at(5), frozenset({V})),
    ConsentDeclined: ConsentDeclined(at(5)),
    CapabilityGranted: CapabilityGranted(at(5), F),
    CapabilityRevoked: CapabilityRevoked(at(5), C),
    Paused: Paused(at(5)),
    Resumed: Resumed(at(5)),
    RecordingHalted: RecordingHalted(at(5), "No space left on device"),
    RecordingRestored: RecordingRestored(at(5)),
    CapabilityUsed: CapabilityUsed(at(5), V),
    Ended: Ended(at(5), EndReason.CUSTOMER),
    Expired: Expired(at(5)),
    HandedOver: HandedOver(at(5), "agent:a1", False, "agent:a1", "agent:b2", "Bernd"),
    HelperInvited: HelperInvited(at(5), "agent:a1", False, "agent:c3", "Carla", True),
    HelperLeft: HelperLeft(at(5), "agent:c3", False, "agent:c3"),
    ControlRefused: ControlRefused(at(5), "agent:a1"),
}


def session_in(state: SessionState) -> SupportSession:
    session = new_session()
    for event in PATHS[state]:
        session.apply(event)
    assert session.state is state
    return session


# -- the table ---------------------------------------------------------------------


def test_paths_and_samples_cover_everything() -> None:
    assert set(PATHS) == set(SessionState)
    assert set(SAMPLES) == set(EVENT_TYPES)


@pytest.mark.parametrize("state", list(SessionState), ids=lambda s: s.value)
@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=lambda t: t.__name__)
def test_every_state_and_event_type(state: SessionState, event_type: type[SessionEvent]) -> None:
    session = session_in(state)
    event = SAMPLES[event_type]
    target = TRANSITIONS.get((state, event_type))
    if target is None:
        with pytest.raises(IllegalTransition) as caught:
            session.apply(event)
        assert caught.value.state is state
        assert caught.value.event_type is event_type
        assert state.value in str(caught.value) and event_type.__name__ in str(caught.value)
        assert session.state is state
    else:
        session.apply(event)
        assert session.state is target


def test_terminal_states_have_no_exits() -> None:
    assert not [key for key in TRANSITIONS if key[0] in TERMINAL_STATES]


def test_every_non_terminal_state_can_end_or_expire() -> None:
    for state in set(SessionState) - TERMINAL_STATES:
        assert (state, Ended) in TRANSITIONS or (state, Expired) in TRANSITIONS


def test_security_doc_table_matches_code() -> None:
    rows = re.findall(r"^\| (\w+) \| `(\w+)` \| (\w+) \|$", DOC.read_text(encoding="utf-8"), re.M)
    in_code = {(s.value, e.__name__, t.value) for (s, e), t in TRANSITIONS.items()}
    assert set(rows) == in_code
    assert len(rows) == len(in_code)


# -- rules on top of the table -----------------------------------------------------


def test_consent_requires_view() -> None:
    session = session_in(SessionState.AWAITING_CONSENT)
    with pytest.raises(ConsentWithoutView):
        session.apply(ConsentGiven(at(5), frozenset({C})))
    assert session.state is SessionState.AWAITING_CONSENT
    assert session.consent_record is None


def test_view_cannot_be_revoked() -> None:
    session = session_in(SessionState.ACTIVE)
    with pytest.raises(ViewNotRevocable):
        session.apply(CapabilityRevoked(at(5), V))
    assert V in session.granted


def test_capability_rules() -> None:
    session = session_in(SessionState.ACTIVE)
    with pytest.raises(CapabilityNotGranted):
        session.apply(CapabilityUsed(at(5), F))
    with pytest.raises(CapabilityNotGranted):
        session.apply(CapabilityRevoked(at(5), F))
    with pytest.raises(CapabilityAlreadyGranted):
        session.apply(CapabilityGranted(at(5), C))
    session.apply(CapabilityUsed(at(5), C))
    session.apply(CapabilityRevoked(at(6), C))
    with pytest.raises(CapabilityNotGranted):
        session.apply(CapabilityUsed(at(7), C))
    assert not session.input_allowed
    session.apply(CapabilityGranted(at(8), C))
    assert session.may_use(C)


def test_pause_stops_everything_even_view() -> None:
    session = session_in(SessionState.ACTIVE)
    assert session.capture_allowed and session.input_allowed
    session.apply(Paused(at(5)))
    assert not session.capture_allowed and not session.input_allowed
    for capability in (V, C):
        assert not session.may_use(capability)
        with pytest.raises(IllegalTransition):
            session.apply(CapabilityUsed(at(5), capability))
    # Control may be taken away while paused, and stays away after resuming.
    session.apply(CapabilityRevoked(at(6), C))
    session.apply(Resumed(at(7)))
    assert session.capture_allowed and not session.input_allowed


@pytest.mark.parametrize("paused_first", [False, True])
def test_a_recording_outage_holds_the_session_until_the_system_lifts_it(
    paused_first: bool,
) -> None:
    session = session_in(SessionState.ACTIVE)
    if paused_first:
        session.apply(Paused(at(4.5)))
    (held,) = session.apply(RecordingHalted(at(5), "No space left on device"))
    assert (held.event_type, held.actor) == ("session.paused", "system")
    assert held.data == {"cause": "recording_unavailable", "problem": "No space left on device"}
    assert session.held and session.paused
    assert not session.capture_allowed and not session.input_allowed
    assert session.apply(RecordingHalted(at(5.5), "again")) == []  # one outage, one hold
    # Neither party can lift the hold: their resume only ends their own pause.
    if paused_first:
        session.apply(Resumed(at(6), Party.CUSTOMER))
    with pytest.raises(IllegalTransition):
        session.apply(Resumed(at(6.5), Party.AGENT))
    assert session.state is SessionState.ACTIVE and session.paused
    with pytest.raises(SessionHeld):
        session.check_use(V)
    assert not session.may_use(V)
    # The customer may pause during the hold; the hold's end then leaves it paused.
    session.apply(Paused(at(7)))
    (lifted,) = session.apply(RecordingRestored(at(8)))
    assert (lifted.event_type, lifted.actor) == ("session.resumed", "system")
    assert not session.held and session.state is SessionState.PAUSED
    assert session.apply(RecordingRestored(at(8.5))) == []
    session.apply(Resumed(at(9)))
    assert session.capture_allowed and session.input_allowed


def test_the_end_forgets_the_hold() -> None:
    session = session_in(SessionState.ACTIVE)
    session.apply(RecordingHalted(at(5), "EIO"))
    session.apply(Ended(at(6), EndReason.ERROR))
    assert not session.held and not session.paused


def test_redemption_after_key_expiry_refused() -> None:
    session = new_session()
    with pytest.raises(KeyRedeemedTooLate):
        session.apply(redeemed(10))
    assert session.state is SessionState.ISSUED
    assert session.customer_name is None


def test_time_must_not_go_backwards() -> None:
    session = session_in(SessionState.ACTIVE)
    with pytest.raises(TimeWentBackwards):
        session.apply(Paused(at(2)))
    assert session.state is SessionState.ACTIVE


def test_naive_event_time_refused() -> None:
    with pytest.raises(ValueError):
        new_session().apply(Expired(datetime(2026, 11, 3, 9, 5)))


def test_issue_validates_expiry() -> None:
    with pytest.raises(ValueError):
        SupportSession.issue(
            consultation_number=NUMBER,
            agent_id="a1",
            verification_code=VerificationCode("ACDEFH"),
            key_expires_at=T0,
            now=T0,
        )


def test_check_use_outside_live_states() -> None:
    for state in set(SessionState) - LIVE_STATES:
        with pytest.raises(IllegalTransition):
            session_in(state).check_use(V)


# -- audit records and the customer's name -----------------------------------------


def full_session() -> tuple[SupportSession, list[AuditRecord]]:
    session, records = SupportSession.issue(
        consultation_number=NUMBER,
        agent_id="a1",
        verification_code=VerificationCode("ACDEFH"),
        key_expires_at=at(10),
        now=T0,
    )
    events: list[SessionEvent] = [
        redeemed(1),
        ConsentRequested(at(2), SHOWN),
        ConsentGiven(at(3), frozenset({V, C, D})),
        CapabilityUsed(at(4), V),
        CapabilityUsed(at(4), D),
        CapabilityGranted(at(5), F),
        CapabilityUsed(at(5), F),
        Paused(at(6)),
        CapabilityRevoked(at(7), C),
        Resumed(at(8), Party.CUSTOMER),
        Ended(at(9), EndReason.CUSTOMER),
    ]
    for event in events:
        records += session.apply(event)
    return session, records


def test_audit_records_of_a_full_session() -> None:
    _, records = full_session()
    assert [r.event_type for r in records] == [
        "support_key.issued",
        "support_key.redeemed",
        "consent.requested",
        "consent.given",
        "capability.used",
        "capability.granted",
        "capability.used",
        "session.paused",
        "capability.revoked",
        "session.resumed",
        "session.ended",
    ]
    assert {r.subject for r in records} == {"BN-2026-4821-7730-8"}
    given = records[3]
    assert given.actor == "customer"
    assert given.data["text_sha256"] == SHOWN.sha256
    assert given.data["capabilities"] == ["control", "diagnostics", "view"]
    assert records[0].actor == "agent:a1"
    assert records[-1].data == {"reason": "customer", "from_state": "active"}
    chain = AuditChain()
    entries = [chain.append_record(r) for r in records]
    assert verify(entries, anchors=[chain.anchor()]).ok


def test_customer_name_never_leaves_the_live_session() -> None:
    session = session_in(SessionState.ACTIVE)
    name = session.customer_name
    assert name is not None and name.reveal() == NAME
    assert NAME not in repr(session) and NAME not in repr(redeemed())
    assert NAME not in json.dumps(session.audit_view())
    with pytest.raises(TypeError):
        pickle.dumps(session)
    ended, records = full_session()
    dumped = json.dumps([asdict(r) for r in records], default=str, ensure_ascii=False)
    for part in NAME.split():
        assert part not in dumped
    assert ended.customer_name is None
    assert NAME not in json.dumps(ended.audit_view())


def test_customer_name_is_not_empty() -> None:
    with pytest.raises(ValueError):
        CustomerName("   ")


def test_consent_text_in_other_language_is_cited() -> None:
    session = session_in(SessionState.REDEEMED)
    english = consent_text(language=Language.EN).render("Anna Berger")
    (record,) = session.apply(ConsentRequested(at(2), english))
    assert record.data == {
        "consent_version": "2026-12-3",
        "language": "en",
        "text_sha256": english.sha256,
    }


def test_consent_cites_the_text_the_customer_read_not_the_one_asked() -> None:
    """The audit once cited the text rendered in the link's language; a customer who
    switched the dialog to English and ticked control read another one."""
    session = session_in(SessionState.REDEEMED)
    asked = consent_text().render("Anna Berger")
    session.apply(ConsentRequested(at(2), asked))
    read = consent_text(language=Language.EN).render("Anna Berger", {Capability.CONTROL})
    (record,) = session.apply(ConsentGiven(at(3), frozenset({V, Capability.CONTROL}), read))
    assert record.data["language"] == "en"
    assert record.data["text_sha256"] == read.sha256 != asked.sha256
    assert session.consent_shown == read


def test_a_decline_cites_the_text_read_too() -> None:
    session = session_in(SessionState.REDEEMED)
    session.apply(ConsentRequested(at(2), consent_text().render("Anna Berger")))
    read = consent_text(language=Language.EN).render("Anna Berger")
    (record,) = session.apply(ConsentDeclined(at(3), "declined", read))
    assert record.data["text_sha256"] == read.sha256 and record.data["language"] == "en"


# -- Hypothesis: random event sequences --------------------------------------------

capabilities = st.sampled_from(list(Capability))


def events_of(event_type: type[SessionEvent], when: datetime) -> st.SearchStrategy[SessionEvent]:
    if event_type is KeyRedeemed:
        return st.just(KeyRedeemed(when, CustomerName(NAME), "c" * 32, "n" * 32))
    if event_type is KeyRedeemedAgain:
        return st.just(KeyRedeemedAgain(when, "c" * 32, "n" * 32))
    if event_type is ConsentRequested:
        return st.just(ConsentRequested(when, SHOWN))
    if event_type is ConsentGiven:
        return st.frozensets(capabilities).map(lambda caps: ConsentGiven(when, caps))
    if event_type in (CapabilityGranted, CapabilityUsed):
        return capabilities.map(lambda cap: event_type(when, cap))
    if event_type is CapabilityRevoked:
        return st.builds(
            CapabilityRevoked, st.just(when), capabilities, st.sampled_from(list(Party))
        )
    if event_type in (Paused, Resumed):
        return st.sampled_from(list(Party)).map(lambda by: event_type(when, by))
    if event_type is Ended:
        return st.sampled_from(list(EndReason)).map(lambda reason: Ended(when, reason))
    if event_type is RecordingHalted:
        return st.just(RecordingHalted(when, "No space left on device"))
    if event_type is RecordingRestored:
        return st.just(RecordingRestored(when))
    return st.just(Expired(when))


class SessionMachine(RuleBasedStateMachine):
    """Feeds random events (legal and illegal) and checks the invariants after each."""

    def __init__(self) -> None:
        super().__init__()
        self.session = new_session()
        self.now = T0
        self.audit: list[AuditRecord] = []
        self.ever_terminal = False

    def _feed(self, event: SessionEvent) -> None:
        before_state = self.session.state
        before_granted = self.session.granted
        before_view = self.session.audit_view()
        try:
            records = self.session.apply(event)
        except SessionError as error:
            # A refused event changes nothing.
            assert self.session.state is before_state
            assert self.session.granted == before_granted
            assert self.session.audit_view() == before_view
            if (before_state, type(event)) not in TRANSITIONS:
                assert isinstance(error, IllegalTransition)
            if isinstance(event, CapabilityUsed) and before_state is SessionState.ACTIVE:
                # Refused although live: not granted, held, or out of time order.
                assert event.capability not in before_granted or isinstance(
                    error, TimeWentBackwards | SessionHeld
                )
            return
        self.audit += records
        # Nothing is accepted after the end.
        assert not self.ever_terminal
        assert self.session.state is TRANSITIONS[(before_state, type(event))]
        if isinstance(event, CapabilityUsed):
            # No capability is used unless granted, live, not paused and not held.
            assert before_state is SessionState.ACTIVE
            assert event.capability in before_granted
            assert not self.session.held
        if isinstance(event, RecordingHalted):
            assert self.session.held and self.session.paused
        if isinstance(event, RecordingRestored):
            assert not self.session.held
        if isinstance(event, CapabilityGranted):
            assert event.capability not in before_granted
            assert self.session.granted == before_granted | {event.capability}
        if isinstance(event, CapabilityRevoked):
            assert event.capability in before_granted and event.capability is not V
            assert self.session.granted == before_granted - {event.capability}
        if self.session.state in TERMINAL_STATES:
            self.ever_terminal = True
        if event.at > self.now:
            self.now = event.at
        # Shown by --hypothesis-show-statistics: which rows of the table were applied.
        hypothesis.event(f"{before_state.value} --{type(event).__name__}-->")

    @rule(data=st.data(), step=st.integers(-60, 300))
    def any_event(self, data: st.DataObject, step: int) -> None:
        event_type = data.draw(st.sampled_from(EVENT_TYPES))
        self._feed(data.draw(events_of(event_type, self.now + timedelta(seconds=step))))

    @rule(data=st.data(), step=st.integers(0, 30))
    def move_forward(self, data: st.DataObject, step: int) -> None:
        """Drive the session towards and through the live states, where the
        capability rules live; ``any_event`` supplies the endings and the noise."""
        when = self.now + timedelta(seconds=step)
        forward: dict[SessionState, type[SessionEvent]] = {
            SessionState.ISSUED: KeyRedeemed,
            SessionState.REDEEMED: ConsentRequested,
        }
        state = self.session.state
        allowed = [e for (s, e) in TRANSITIONS if s is state]
        if not allowed:
            return
        if data.draw(st.integers(0, 3)) == 0:
            self._feed(data.draw(events_of(data.draw(st.sampled_from(allowed)), when)))
        elif state in forward:
            self._feed(data.draw(events_of(forward[state], when)))
        elif state is SessionState.AWAITING_CONSENT:
            if data.draw(st.sampled_from(["yes", "yes", "no"])) == "no":
                self._feed(ConsentDeclined(when))
            else:
                caps = data.draw(st.frozensets(capabilities).map(lambda c: c | {V}))
                self._feed(ConsentGiven(when, caps))
        else:
            live = [
                CapabilityGranted,
                CapabilityRevoked,
                CapabilityUsed,
                Paused,
                Resumed,
                RecordingHalted,
                RecordingRestored,
            ]
            event_type = data.draw(st.sampled_from(live))
            self._feed(data.draw(events_of(event_type, when)))

    @invariant()
    def view_is_granted_while_live(self) -> None:
        if self.session.state in LIVE_STATES:
            assert V in self.session.granted
        else:
            assert not self.session.granted

    @invariant()
    def terminal_means_terminal_and_forgotten(self) -> None:
        if self.ever_terminal:
            assert self.session.state in TERMINAL_STATES
            assert self.session.customer_name is None

    @invariant()
    def audit_never_holds_the_name(self) -> None:
        assert NAME not in json.dumps([asdict(r) for r in self.audit], default=str)

    @invariant()
    def capture_and_input_only_when_active(self) -> None:
        if self.session.capture_allowed or self.session.input_allowed:
            assert self.session.state is SessionState.ACTIVE
            assert not self.session.held

    @invariant()
    def only_live_sessions_are_held(self) -> None:
        if self.session.held:
            assert self.session.state in LIVE_STATES and self.session.paused


SessionMachine.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_session_state_machine = SessionMachine.TestCase
