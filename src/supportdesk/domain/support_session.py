"""The life of one remote-support session as a state machine fed events, with no I/O.

issued -> redeemed -> awaiting consent -> active <-> paused -> ended, or declined, or
expired. While redeemed, the same customer may redeem the key again (a new join
token, see ``second_redemption``); the state stays redeemed. The shell turns what
happens (a key typed on the portal, a click in the applet, a timer) into events,
calls :meth:`SupportSession.apply`, and writes the audit records it returns. Every
state change is a row of :data:`TRANSITIONS`; anything else raises
:class:`IllegalTransition` naming state and event.

What a session allows at a moment (pause and hold mean nothing crosses) is
``session_facts``; who the audit entries name is ``session_actors``; what consent and
capability events make of the customer's grants is ``session_grants``, as
``session_team`` says what hand-overs and helpers make of the team. Capabilities may
still be granted or revoked while paused, so a customer can take control away before
resuming.

The system pauses too: while the recording cannot be written (:class:`RecordingHalted`
until :class:`RecordingRestored`; a repeated report is a no-op) the live session is
*held*. A hold sits beside the parties' pause rather than replacing it: the state
stays active or paused, the customer and the agent may still pause and resume, but
nothing crosses until the system lifts the hold, and only the system can.

The customer's name comes with the redemption and is forgotten, with every grant and
the hold, when the session reaches a terminal state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consultation_number import ConsultationNumber
from supportdesk.domain.session_actors import (
    CUSTOMER_ACTOR,
    SYSTEM_ACTOR,
    end_actor,
    party_actor,
)
from supportdesk.domain.session_events import (
    TERMINAL_STATES,
    TRANSITIONS,
    CapabilityGranted,
    CapabilityRevoked,
    CapabilityUsed,
    ConsentDeclined,
    ConsentGiven,
    ConsentRequested,
    Ended,
    Expired,
    IllegalTransition,
    KeyRedeemed,
    KeyRedeemedAgain,
    KeyRedeemedTooLate,
    Paused,
    RecordingHalted,
    RecordingRestored,
    Resumed,
    SessionEvent,
    TimeWentBackwards,
)
from supportdesk.domain.session_facts import SessionFacts
from supportdesk.domain.session_grants import GrantEvent, Grants, change_grants
from supportdesk.domain.session_team import (
    ControlRefused,
    HandedOver,
    HelperInvited,
    HelperLeft,
    TeamEvent,
    change,
)
from supportdesk.domain.utc import iso_utc, require_utc
from supportdesk.domain.verification_code import VerificationCode


class SupportSession(SessionFacts):
    """One support session. Create with :meth:`issue`; change only with :meth:`apply`;
    ask what it allows through :class:`SessionFacts`."""

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
            # What the customer granted and who works on the session change by pure
            # functions of their own (session_grants, session_team); each code is
            # written here, where the scan of the audit names finds it (a literal).
            case ConsentRequested():
                return self._grant(event, "consent.requested")
            case ConsentGiven():
                return self._grant(event, "consent.given")
            case ConsentDeclined():
                return self._grant(event, "consent.declined")
            case CapabilityGranted():
                return self._grant(event, "capability.granted")
            case CapabilityRevoked():
                return self._grant(event, "capability.revoked")
            case HandedOver():
                return self._team(event, "session.handed_over")
            case HelperInvited():
                return self._team(event, "session.helper_invited")
            case HelperLeft():
                return self._team(event, "session.helper_left")
            case ControlRefused():
                return self._team(event, "session.control_refused")
            case Paused():
                return [
                    self._record(
                        event.at, "session.paused", party_actor(event.by, self._agent_actor), {}
                    )
                ]
            case Resumed():
                return [
                    self._record(
                        event.at, "session.resumed", party_actor(event.by, self._agent_actor), {}
                    )
                ]
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
                        end_actor(event.reason, self._agent_actor),
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

    def _team(self, event: TeamEvent, event_type: str) -> list[AuditRecord]:
        """Apply a change of who works on the session (``session_team``)."""
        done = change(self._agent_actor, self.team, event)  # raises a TeamError
        if done is None:
            return []
        self.agent_id, self.team = done.owner, done.team
        return [self._record(event.at, event_type, done.actor, done.data)]

    def _grant(self, event: GrantEvent, event_type: str) -> list[AuditRecord]:
        """Apply a change of what the customer granted (``session_grants``)."""
        before = Grants(self.granted, self.consent_shown, self.consent_record)
        done = change_grants(before, event, self._agent_actor)  # raises a SessionError
        self.granted = done.grants.granted
        self.consent_shown = done.grants.consent_shown
        self.consent_record = done.grants.consent_record
        return [self._record(event.at, event_type, done.actor, done.data)]

    def _record(
        self, at: datetime, event_type: str, actor: str, data: dict[str, Any]
    ) -> AuditRecord:
        return AuditRecord(at, event_type, actor, str(self.consultation_number), data)
