"""What a remote-support session is at one moment and what it allows right now: its
fields, and the questions the relay asks before anything crosses. No I/O; the machine
that changes it is ``support_session``.

Pause means nothing crosses: no capture, no input, no file transfer, no diagnostics,
not even view. A paused customer may be typing something private, and "paused" on
screen must mean the agent sees nothing. While the system holds the session (its
recording cannot be written, :attr:`SessionFacts.held_for`), nothing crosses either,
whether the parties have paused or not.

The customer's name is held by the live session object only (for the agent's
console). It is in no audit record and no :meth:`SessionFacts.audit_view`, and the
object forgets it when the session reaches a terminal state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from supportdesk.domain.capabilities import Capability, capability_names
from supportdesk.domain.consent import ConsentRecord, RenderedConsent
from supportdesk.domain.consultation_number import ConsultationNumber
from supportdesk.domain.session_actors import agent_actor
from supportdesk.domain.session_events import (
    LIVE_STATES,
    TERMINAL_STATES,
    CapabilityNotGranted,
    CapabilityUsed,
    CustomerName,
    EndReason,
    IllegalTransition,
    SessionError,
    SessionHeld,
    SessionState,
)
from supportdesk.domain.session_team import SessionTeam, may_control, on_team
from supportdesk.domain.utc import iso_utc
from supportdesk.domain.verification_code import VerificationCode


@dataclass
class SessionFacts:
    """A session's state and what it allows; :class:`SupportSession` changes it."""

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

    @property
    def _agent_actor(self) -> str:
        return agent_actor(self.agent_id)
