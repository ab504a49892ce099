"""The vocabulary of a support session: its states, the events that move it, the table
of moves (:data:`TRANSITIONS`) and what :meth:`SupportSession.apply` refuses.

Plain data, no behaviour beyond validation: ``support_session`` is the machine that
applies these events; the shells build them from what happens (a key typed on the
portal, a click in the applet, a timer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from types import MappingProxyType
from typing import NoReturn

from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import RenderedConsent
from supportdesk.domain.session_team import (
    TEAM_EVENT_TYPES,
    ControlRefused,
    HandedOver,
    HelperInvited,
    HelperLeft,
)


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
    RECORDING_LIMIT = "recording_limit"  # the session's recording quota was used up


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
    """The customer clicked "Ja" with these capabilities ticked (VIEW required), on
    ``shown``: the text the customer's side displayed at that moment (None: the text
    of the :class:`ConsentRequested`)."""

    at: datetime
    capabilities: frozenset[Capability]
    shown: RenderedConsent | None = None


@dataclass(frozen=True)
class ConsentDeclined:
    """The customer said no: ``declined`` ("Nein"), or ``picker_cancelled`` (the
    browser's screen picker was closed without choosing)."""

    at: datetime
    reason: str = "declined"
    shown: RenderedConsent | None = None  # the text displayed, as for ConsentGiven


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
    | HandedOver
    | HelperInvited
    | HelperLeft
    | ControlRefused
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
    *TEAM_EVENT_TYPES,
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
            # Who works on the session (session_team.py) changes while it is live, and
            # the state stays: a hand-over neither pauses nor asks consent again.
            **{(s, t): s for s in (_S.ACTIVE, _S.PAUSED) for t in TEAM_EVENT_TYPES},
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
