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
from enum import Enum
from types import MappingProxyType
from typing import Any, NoReturn

from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.domain.capabilities import REQUIRED_CAPABILITIES, Capability, capability_names
from supportdesk.domain.consent import ConsentDecision, ConsentRecord, RenderedConsent
from supportdesk.domain.consultation_number import ConsultationNumber
from supportdesk.domain.utc import iso_utc, require_utc
from supportdesk.domain.verification_code import VerificationCode


class SessionState(Enum):
    ISSUED = "issued"
    REDEEMED = "redeemed"
    AWAITING_CONSENT = "awaiting_consent"
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"
    DECLINED = "declined"
    EXPIRED = "expired"


TERMINAL_STATES = frozenset({SessionState.ENDED, SessionState.DECLINED, SessionState.EXPIRED})
LIVE_STATES = frozenset({SessionState.ACTIVE, SessionState.PAUSED})


class EndReason(Enum):
    CUSTOMER = "customer"
    AGENT = "agent"
    TIMEOUT = "timeout"
    ERROR = "error"
    CONNECTION_LOST = "connection_lost"  # the customer's link stayed away past the grace


class Party(Enum):
    """Who did something in a live session."""

    CUSTOMER = "customer"
    AGENT = "agent"


class CustomerName:
    """The customer's name as entered on the portal: readable on purpose only.

    ``repr``/``str`` are redacted and pickling is refused, so the name cannot slip
    into a log line, a serialised event or a cache by accident; :meth:`reveal` is the
    one deliberate way to show it (the agent's console).
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        cleaned = " ".join(value.split())
        if not cleaned:
            raise ValueError("the customer's name is empty")
        self._value = cleaned

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "CustomerName(<redacted>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CustomerName) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> NoReturn:
        raise TypeError("a customer name is never serialised")


# Events. Each carries the instant it happened (aware UTC), supplied by the shell.


@dataclass(frozen=True)
class KeyRedeemed:
    """The customer redeemed the support key on the portal. The pseudonyms are keyed
    hashes made by the shell (``audit_chain.pseudonymise``); the name stays in memory."""

    at: datetime
    customer_name: CustomerName
    client_pseudonym: str
    customer_pseudonym: str


@dataclass(frozen=True)
class KeyRedeemedAgain:
    """The same customer redeemed the key again while the session still waited for
    the customer's link (the portal's choice page, then the support program): a new
    join token replaces the first. ``second_redemption`` decides whether it may; the
    session checks the key's lifetime again and audits it."""

    at: datetime
    client_pseudonym: str
    customer_pseudonym: str


@dataclass(frozen=True)
class ConsentRequested:
    """The applet is showing ``consent`` to the customer."""

    at: datetime
    consent: RenderedConsent


@dataclass(frozen=True)
class ConsentGiven:
    """The customer clicked "Ja" with these capabilities ticked (VIEW required)."""

    at: datetime
    capabilities: frozenset[Capability]


@dataclass(frozen=True)
class ConsentDeclined:
    """The customer said no: ``declined`` ("Nein"), or ``picker_cancelled`` (the
    browser's screen picker was closed without choosing)."""

    at: datetime
    reason: str = "declined"


@dataclass(frozen=True)
class CapabilityGranted:
    """The customer granted one more capability during the session."""

    at: datetime
    capability: Capability


@dataclass(frozen=True)
class CapabilityRevoked:
    """A capability was withdrawn, usually by the customer (e.g. taking control back)."""

    at: datetime
    capability: Capability
    by: Party = Party.CUSTOMER


@dataclass(frozen=True)
class Paused:
    at: datetime
    by: Party = Party.CUSTOMER


@dataclass(frozen=True)
class Resumed:
    at: datetime
    by: Party = Party.CUSTOMER


@dataclass(frozen=True)
class RecordingHalted:
    """The recording cannot be written (disk full, permissions): hold the session."""

    at: datetime
    problem: str


@dataclass(frozen=True)
class RecordingRestored:
    """The recording takes writes again: lift the hold."""

    at: datetime


@dataclass(frozen=True)
class CapabilityUsed:
    """The relay or applet is about to use ``capability`` (a frame, an input event, a
    file, a probe). Applying it is the check: it raises unless the use is allowed."""

    at: datetime
    capability: Capability


@dataclass(frozen=True)
class Ended:
    at: datetime
    reason: EndReason


@dataclass(frozen=True)
class Expired:
    """A waiting phase ran out: key not redeemed, applet not started, no answer."""

    at: datetime


SessionEvent = (
    KeyRedeemed
    | KeyRedeemedAgain
    | ConsentRequested
    | ConsentGiven
    | ConsentDeclined
    | CapabilityGranted
    | CapabilityRevoked
    | Paused
    | Resumed
    | RecordingHalted
    | RecordingRestored
    | CapabilityUsed
    | Ended
    | Expired
)

EVENT_TYPES: tuple[type[SessionEvent], ...] = (
    KeyRedeemed,
    KeyRedeemedAgain,
    ConsentRequested,
    ConsentGiven,
    ConsentDeclined,
    CapabilityGranted,
    CapabilityRevoked,
    Paused,
    Resumed,
    RecordingHalted,
    RecordingRestored,
    CapabilityUsed,
    Ended,
    Expired,
)

_S = SessionState
TRANSITIONS: MappingProxyType[tuple[SessionState, type[SessionEvent]], SessionState] = (
    MappingProxyType(
        {
            (_S.ISSUED, KeyRedeemed): _S.REDEEMED,
            (_S.ISSUED, Ended): _S.ENDED,  # the agent withdraws the key
            (_S.ISSUED, Expired): _S.EXPIRED,
            (_S.REDEEMED, KeyRedeemedAgain): _S.REDEEMED,  # same customer, no link yet
            (_S.REDEEMED, ConsentRequested): _S.AWAITING_CONSENT,
            (_S.REDEEMED, Ended): _S.ENDED,
            (_S.REDEEMED, Expired): _S.EXPIRED,  # the applet was never started
            (_S.AWAITING_CONSENT, ConsentGiven): _S.ACTIVE,
            (_S.AWAITING_CONSENT, ConsentDeclined): _S.DECLINED,
            (_S.AWAITING_CONSENT, Ended): _S.ENDED,
            (_S.AWAITING_CONSENT, Expired): _S.EXPIRED,
            (_S.ACTIVE, CapabilityGranted): _S.ACTIVE,
            (_S.ACTIVE, CapabilityRevoked): _S.ACTIVE,
            (_S.ACTIVE, CapabilityUsed): _S.ACTIVE,
            (_S.ACTIVE, Paused): _S.PAUSED,
            (_S.ACTIVE, RecordingHalted): _S.ACTIVE,  # held: see the module docstring
            (_S.ACTIVE, RecordingRestored): _S.ACTIVE,
            (_S.ACTIVE, Ended): _S.ENDED,
            (_S.PAUSED, CapabilityGranted): _S.PAUSED,
            (_S.PAUSED, CapabilityRevoked): _S.PAUSED,
            (_S.PAUSED, Resumed): _S.ACTIVE,
            (_S.PAUSED, RecordingHalted): _S.PAUSED,
            (_S.PAUSED, RecordingRestored): _S.PAUSED,
            (_S.PAUSED, Ended): _S.ENDED,
        }
    )
)
"""(state, event type) -> next state. Absent pairs are illegal."""


class SessionError(Exception):
    """Base of everything :meth:`SupportSession.apply` refuses."""


class IllegalTransition(SessionError):
    """The event is not allowed in the session's current state."""

    def __init__(self, state: SessionState, event_type: type[SessionEvent]) -> None:
        super().__init__(f"{event_type.__name__} is not allowed in state {state.value}")
        self.state = state
        self.event_type = event_type


class CapabilityNotGranted(SessionError):
    """Use or revocation of a capability the customer has not (or no longer) granted."""


class CapabilityAlreadyGranted(SessionError):
    """Grant of a capability that is already held: the shell sent it twice."""


class ViewNotRevocable(SessionError):
    """VIEW cannot be revoked on its own: the customer ends the session instead."""


class ConsentWithoutView(SessionError):
    """Consent must include VIEW; without it the applet must send ConsentDeclined."""


class KeyRedeemedTooLate(SessionError):
    """A redemption arrived at or after the key's expiry (the shell should have said
    no; the session refuses too, so no clock skew between the two lets it through)."""


class SessionHeld(SessionError):
    """A capability was to be used while the system holds the session (no recording)."""


class TimeWentBackwards(SessionError):
    """An event is older than the one before: audit order must follow real order."""


AGENT_ACTOR_PREFIX = "agent:"
CUSTOMER_ACTOR = "customer"
SYSTEM_ACTOR = "system"


@dataclass
class SupportSession:
    """One support session. Create with :meth:`issue`; change only with :meth:`apply`."""

    consultation_number: ConsultationNumber
    agent_id: str
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
            case Expired():
                return [
                    self._record(
                        event.at, "session.expired", SYSTEM_ACTOR, {"from_state": self.state.value}
                    )
                ]

    # -- helpers -----------------------------------------------------------------------

    @property
    def _agent_actor(self) -> str:
        return f"{AGENT_ACTOR_PREFIX}{self.agent_id}"

    def _party_actor(self, party: Party) -> str:
        return CUSTOMER_ACTOR if party is Party.CUSTOMER else self._agent_actor

    def _end_actor(self, reason: EndReason) -> str:
        if reason is EndReason.CUSTOMER:
            return CUSTOMER_ACTOR
        if reason is EndReason.AGENT:
            return self._agent_actor
        return SYSTEM_ACTOR

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
