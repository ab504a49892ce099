"""The life of one remote-support session as a state machine fed events, with no I/O.

issued -> redeemed -> awaiting consent -> active <-> paused -> ended, or declined, or
expired. While redeemed, the same customer may redeem the key again (a new join
token, see ``second_redemption``); the state stays redeemed. The shell turns what
happens (a key typed on the portal, a click in the applet, a timer) into events,
calls :meth:`SupportSession.apply`, and writes the audit records it returns. Every
state change is a row of :data:`TRANSITIONS`; anything else raises
:class:`IllegalTransition` naming state and event.

Pause means nothing crosses: no capture, no input, no file transfer, no diagnostics,
not even view. A paused customer may be typing something private, and "paused" on
screen must mean the agent sees nothing. Capabilities may still be granted or
revoked while paused, so a customer can take control away before resuming.

The system pauses too: while the recording cannot be written (:class:`RecordingHalted`
until :class:`RecordingRestored`; a repeated report is a no-op) the live session is
*held*. A hold sits beside the parties' pause rather than replacing it: the state
stays active or paused, the customer and the agent may still pause and resume, but
nothing crosses until the system lifts the hold, and only the system can.

The customer's name is held by the live session object only (for the agent's
console). It is in no audit record and no :meth:`SupportSession.audit_view`, and the
object forgets it when the session reaches a terminal state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.domain.capabilities import REQUIRED_CAPABILITIES, Capability, capability_names
from supportdesk.domain.consent import ConsentDecision, ConsentRecord, RenderedConsent
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
    SessionTeam,
    TeamEvent,
    change,
    may_control,
    on_team,
)
from supportdesk.domain.utc import iso_utc, require_utc
from supportdesk.domain.verification_code import VerificationCode

__all__ = [
    "AGENT_ACTOR_PREFIX",
    "CUSTOMER_ACTOR",
    "EVENT_TYPES",
    "LIVE_STATES",
    "SYSTEM_ACTOR",
    "TERMINAL_STATES",
    "TRANSITIONS",
    "CapabilityAlreadyGranted",
    "CapabilityGranted",
    "CapabilityNotGranted",
    "CapabilityRevoked",
    "CapabilityUsed",
    "ConsentDeclined",
    "ConsentGiven",
    "ConsentRequested",
    "ConsentWithoutView",
    "CustomerName",
    "EndReason",
    "Ended",
    "Expired",
    "IllegalTransition",
    "KeyRedeemed",
    "KeyRedeemedAgain",
    "KeyRedeemedTooLate",
    "Party",
    "Paused",
    "RecordingHalted",
    "RecordingRestored",
    "Resumed",
    "SessionError",
    "SessionEvent",
    "SessionHeld",
    "SessionState",
    "SupportSession",
    "TimeWentBackwards",
    "ViewNotRevocable",
]


AGENT_ACTOR_PREFIX = "agent:"
CUSTOMER_ACTOR = "customer"
SYSTEM_ACTOR = "system"


@dataclass
class SupportSession:
    """One support session. Create with :meth:`issue`; change only with :meth:`apply`."""

    consultation_number: ConsultationNumber
    agent_id: str
    """The owning agent as the audit trail names it ("agent:<username>"; a bare id is
    named with the prefix): the issuing one, until a hand-over (``session_team``)."""
    verification_code: VerificationCode
    issued_at: datetime
    key_expires_at: datetime
    state: SessionState = SessionState.ISSUED
    granted: frozenset[Capability] = frozenset()
    consent_shown: RenderedConsent | None = None
    consent_record: ConsentRecord | None = None
    end_reason: EndReason | None = None
    last_event_at: datetime | None = None
    held_for: str | None = None
    """Why the system holds the session (the recording's problem), or None."""
    team: SessionTeam = field(default_factory=SessionTeam)
    """The owner's helpers and whose control the customer refused (``session_team``)."""
    _customer_name: CustomerName | None = field(default=None, repr=False)

    @classmethod
    def issue(
        cls,
        *,
        consultation_number: ConsultationNumber,
        agent_id: str,
        verification_code: VerificationCode,
        key_expires_at: datetime,
        now: datetime,
    ) -> tuple[SupportSession, list[AuditRecord]]:
        """A new session for a key the agent just issued, and its audit record."""
        require_utc(now)
        require_utc(key_expires_at, "key_expires_at")
        if key_expires_at <= now:
            raise ValueError("a key must expire after it is issued")
        session = cls(consultation_number, agent_id, verification_code, now, key_expires_at)
        session.last_event_at = now
        record = session._record(
            now,
            "support_key.issued",
            session._agent_actor,
            {"expires_at": iso_utc(key_expires_at)},
        )
        return session, [record]

    # -- queries -------------------------------------------------------------------

    @property
    def customer_name(self) -> CustomerName | None:
        """The name for the agent's console; ``None`` before redemption and after the
        end."""
        return self._customer_name

    @property
    def is_terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    @property
    def held(self) -> bool:
        """True while the system holds the session because it cannot be recorded."""
        return self.held_for is not None

    @property
    def paused(self) -> bool:
        """True while nothing may cross: paused by a party, or held by the system."""
        return self.state is SessionState.PAUSED or (self.state in LIVE_STATES and self.held)

    @property
    def capture_allowed(self) -> bool:
        """May the applet capture the screen right now?"""
        return (
            self.state is SessionState.ACTIVE and not self.held and Capability.VIEW in self.granted
        )

    @property
    def input_allowed(self) -> bool:
        """May the relay pass the agent's keyboard and pointer input right now?"""
        return (
            self.state is SessionState.ACTIVE
            and not self.held
            and Capability.CONTROL in self.granted
        )

    def may_control(self, actor: str) -> bool:
        """May ``actor``'s keyboard and pointer reach the customer right now: the
        session takes input, and the actor owns it or helps with control, not refused."""
        return self.input_allowed and may_control(self._agent_actor, self.team, actor)

    def on_team(self, actor: str) -> bool:
        """Whether ``actor`` owns the session or helps in it."""
        return on_team(self._agent_actor, self.team, actor)

    def check_use(self, capability: Capability) -> None:
        """Raise unless ``capability`` may be used now; return quietly if it may."""
        if self.state is not SessionState.ACTIVE:
            raise IllegalTransition(self.state, CapabilityUsed)
        if self.held:
            raise SessionHeld(f"held by the system: {self.held_for}")
        if capability not in self.granted:
            raise CapabilityNotGranted(f"{capability.value} is not granted")

    def may_use(self, capability: Capability) -> bool:
        try:
            self.check_use(capability)
        except SessionError:
            return False
        return True

    def audit_view(self) -> dict[str, Any]:
        """Everything about the session that may be stored or shown outside the live
        console: no name, only plain JSON values."""
        return {
            "consultation_number": str(self.consultation_number),
            "agent_id": self.agent_id,
            "state": self.state.value,
            "granted": capability_names(self.granted),
            "issued_at": iso_utc(self.issued_at),
            "key_expires_at": iso_utc(self.key_expires_at),
            "consent": None if self.consent_record is None else self.consent_record.audit_data(),
            "end_reason": None if self.end_reason is None else self.end_reason.value,
            "held": self.held,
            "last_event_at": None if self.last_event_at is None else iso_utc(self.last_event_at),
        }

    # -- the one way to change a session ---------------------------------------------

    def apply(self, event: SessionEvent) -> list[AuditRecord]:
        """Apply ``event`` and return the audit records it produces.

        Raises :class:`IllegalTransition` if the table has no row for the current state
        and the event's type, or another :class:`SessionError` if the row exists but
        the event breaks a rule (a capability not granted, time going backwards...).
        The session is unchanged whenever this raises.
        """
        require_utc(event.at, "event.at")
        target = TRANSITIONS.get((self.state, type(event)))
        if target is None:
            raise IllegalTransition(self.state, type(event))
        if self.last_event_at is not None and event.at < self.last_event_at:
            raise TimeWentBackwards(
                f"{type(event).__name__} at {iso_utc(event.at)} is before the last "
                f"event at {iso_utc(self.last_event_at)}"
            )
        records = self._effect(event)
        self.state = target
        self.last_event_at = event.at
        if target in TERMINAL_STATES:
            # Live session over: forget the name and everything the agent may do.
            self._customer_name = None
            self.granted = frozenset()
            self.held_for = None
        return records

    def _effect(self, event: SessionEvent) -> list[AuditRecord]:
        # Validate first, then mutate: a raise must leave the session as it was.
        match event:
            case KeyRedeemed():
                if event.at >= self.key_expires_at:
                    raise KeyRedeemedTooLate(f"key expired at {iso_utc(self.key_expires_at)}")
                self._customer_name = event.customer_name
                return [
                    self._record(
                        event.at,
                        "support_key.redeemed",
                        CUSTOMER_ACTOR,
                        {
                            "client": event.client_pseudonym,
                            "customer": event.customer_pseudonym,
                        },
                    )
                ]
            case KeyRedeemedAgain():
                if event.at >= self.key_expires_at:
                    raise KeyRedeemedTooLate(f"key expired at {iso_utc(self.key_expires_at)}")
                data = {"client": event.client_pseudonym, "customer": event.customer_pseudonym}
                return [
                    self._record(
                        event.at, "support_key.redeemed", CUSTOMER_ACTOR, {**data, "again": True}
                    )
                ]
            case ConsentRequested():
                self.consent_shown = event.consent
                return [
                    self._record(
                        event.at,
                        "consent.requested",
                        SYSTEM_ACTOR,
                        {
                            "consent_version": event.consent.version,
                            "language": event.consent.language.value,
                            "text_sha256": event.consent.sha256,
                        },
                    )
                ]
            case ConsentGiven():
                if not event.capabilities >= REQUIRED_CAPABILITIES:
                    raise ConsentWithoutView("consent must include VIEW")
                self.consent_shown = event.shown or self.consent_shown  # what was read
                self.consent_record = self._consent(
                    ConsentDecision.GIVEN, event.capabilities, event.at
                )
                self.granted = frozenset(event.capabilities)
                return [
                    self._record(
                        event.at, "consent.given", CUSTOMER_ACTOR, self.consent_record.audit_data()
                    )
                ]
            case ConsentDeclined():
                self.consent_shown = event.shown or self.consent_shown
                self.consent_record = self._consent(ConsentDecision.DECLINED, frozenset(), event.at)
                return [
                    self._record(
                        event.at,
                        "consent.declined",
                        CUSTOMER_ACTOR,
                        {**self.consent_record.audit_data(), "reason": event.reason},
                    )
                ]
            case CapabilityGranted():
                if event.capability in self.granted:
                    raise CapabilityAlreadyGranted(f"{event.capability.value} is already granted")
                self.granted = self.granted | {event.capability}
                return [
                    self._record(
                        event.at,
                        "capability.granted",
                        CUSTOMER_ACTOR,
                        {"capability": event.capability.value},
                    )
                ]
            case CapabilityRevoked():
                if event.capability in REQUIRED_CAPABILITIES:
                    raise ViewNotRevocable("end the session instead of revoking VIEW")
                if event.capability not in self.granted:
                    raise CapabilityNotGranted(f"{event.capability.value} is not granted")
                self.granted = self.granted - {event.capability}
                return [
                    self._record(
                        event.at,
                        "capability.revoked",
                        self._party_actor(event.by),
                        {"capability": event.capability.value},
                    )
                ]
            case Paused():
                return [self._record(event.at, "session.paused", self._party_actor(event.by), {})]
            case Resumed():
                return [self._record(event.at, "session.resumed", self._party_actor(event.by), {})]
            case RecordingHalted():
                if self.held:
                    return []  # one outage, one hold: a repeated report changes nothing
                self.held_for = event.problem or "recording unavailable"
                return [
                    self._record(
                        event.at,
                        "session.paused",
                        SYSTEM_ACTOR,
                        {"cause": "recording_unavailable", "problem": self.held_for},
                    )
                ]
            case RecordingRestored():
                if not self.held:
                    return []
                self.held_for = None
                return [
                    self._record(
                        event.at, "session.resumed", SYSTEM_ACTOR, {"cause": "recording_available"}
                    )
                ]
            case CapabilityUsed():
                self.check_use(event.capability)
                # Frames and keystrokes are far too many to audit one by one (the
                # recording has them); data leaving the customer's machine is audited.
                if event.capability in (Capability.FILE_TRANSFER, Capability.DIAGNOSTICS):
                    return [
                        self._record(
                            event.at,
                            "capability.used",
                            self._agent_actor,
                            {"capability": event.capability.value},
                        )
                    ]
                return []
            case Ended():
                self.end_reason = event.reason
                return [
                    self._record(
                        event.at,
                        "session.ended",
                        self._end_actor(event.reason),
                        {"reason": event.reason.value, "from_state": self.state.value},
                    )
                ]
            # Each code written where the scan of the audit names finds it (a literal).
            case HandedOver():
                return self._team(event, "session.handed_over")
            case HelperInvited():
                return self._team(event, "session.helper_invited")
            case HelperLeft():
                return self._team(event, "session.helper_left")
            case ControlRefused():
                return self._team(event, "session.control_refused")
            case Expired():
                return [
                    self._record(
                        event.at, "session.expired", SYSTEM_ACTOR, {"from_state": self.state.value}
                    )
                ]

    # -- helpers -----------------------------------------------------------------------

    @property
    def _agent_actor(self) -> str:
        # The server passes the agent's actor name itself ("agent:bernd", as the relay
        # compares it); prefixing that again wrote "agent:agent:bernd" into the trail.
        # Entries written so are kept as they are (the chain hashes what was stored);
        # the audit page reads both forms as the same agent.
        if self.agent_id.startswith(AGENT_ACTOR_PREFIX):
            return self.agent_id
        return f"{AGENT_ACTOR_PREFIX}{self.agent_id}"

    def _party_actor(self, party: Party) -> str:
        return CUSTOMER_ACTOR if party is Party.CUSTOMER else self._agent_actor

    def _end_actor(self, reason: EndReason) -> str:
        if reason is EndReason.CUSTOMER:
            return CUSTOMER_ACTOR
        if reason is EndReason.AGENT:
            return self._agent_actor
        return SYSTEM_ACTOR

    def _team(self, event: TeamEvent, event_type: str) -> list[AuditRecord]:
        """Apply a change of who works on the session (``session_team``)."""
        done = change(self._agent_actor, self.team, event)  # raises a TeamError
        if done is None:
            return []
        self.agent_id, self.team = done.owner, done.team
        return [self._record(event.at, event_type, done.actor, done.data)]

    def _consent(
        self, decision: ConsentDecision, capabilities: frozenset[Capability], at: datetime
    ) -> ConsentRecord:
        # ConsentRequested always precedes (the table guarantees it), so the record
        # cites the exact text the customer saw.
        assert self.consent_shown is not None
        return ConsentRecord.of(self.consent_shown, decision, capabilities, at)

    def _record(
        self, at: datetime, event_type: str, actor: str, data: dict[str, Any]
    ) -> AuditRecord:
        return AuditRecord(at, event_type, actor, str(self.consultation_number), data)
