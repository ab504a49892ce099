"""What the customer has granted a session: the consent text shown, the answer to it,
and the capabilities it allows, changed only by the consent and capability events.

Plain values, no I/O: :func:`change_grants` says what an event makes of the grants and
what the audit entry holds; ``support_session`` applies it (as it applies a change of
the team from ``session_team``) and writes the entry under its event code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from supportdesk.domain.capabilities import REQUIRED_CAPABILITIES, Capability
from supportdesk.domain.consent import ConsentDecision, ConsentRecord, RenderedConsent
from supportdesk.domain.session_actors import CUSTOMER_ACTOR, SYSTEM_ACTOR, party_actor
from supportdesk.domain.session_events import (
    CapabilityAlreadyGranted,
    CapabilityGranted,
    CapabilityNotGranted,
    CapabilityRevoked,
    ConsentDeclined,
    ConsentGiven,
    ConsentRequested,
    ConsentWithoutView,
    ViewNotRevocable,
)

GrantEvent = (
    ConsentRequested | ConsentGiven | ConsentDeclined | CapabilityGranted | CapabilityRevoked
)


@dataclass(frozen=True)
class Grants:
    """The consent text last shown, the customer's answer to it, and what is granted."""

    granted: frozenset[Capability]
    consent_shown: RenderedConsent | None
    consent_record: ConsentRecord | None


@dataclass(frozen=True)
class GrantChange:
    """The grants after an event, and who the audit entry names, with what data."""

    grants: Grants
    actor: str
    data: dict[str, Any]


def change_grants(grants: Grants, event: GrantEvent, agent: str) -> GrantChange:
    """The grants after ``event``; raises a ``SessionError`` if the event breaks a rule
    (nothing changes then). ``agent`` is the owning agent's actor name: the one a
    revocation by the agent names."""
    match event:
        case ConsentRequested():
            data = {
                "consent_version": event.consent.version,
                "language": event.consent.language.value,
                "text_sha256": event.consent.sha256,
            }
            return GrantChange(replace(grants, consent_shown=event.consent), SYSTEM_ACTOR, data)
        case ConsentGiven():
            if not event.capabilities >= REQUIRED_CAPABILITIES:
                raise ConsentWithoutView("consent must include VIEW")
            shown = event.shown or grants.consent_shown  # what was read
            record = _consent(shown, ConsentDecision.GIVEN, event.capabilities, event.at)
            new = Grants(frozenset(event.capabilities), shown, record)
            return GrantChange(new, CUSTOMER_ACTOR, record.audit_data())
        case ConsentDeclined():
            shown = event.shown or grants.consent_shown
            record = _consent(shown, ConsentDecision.DECLINED, frozenset(), event.at)
            new = replace(grants, consent_shown=shown, consent_record=record)
            return GrantChange(new, CUSTOMER_ACTOR, {**record.audit_data(), "reason": event.reason})
        case CapabilityGranted():
            if event.capability in grants.granted:
                raise CapabilityAlreadyGranted(f"{event.capability.value} is already granted")
            new = replace(grants, granted=grants.granted | {event.capability})
            return GrantChange(new, CUSTOMER_ACTOR, {"capability": event.capability.value})
        case CapabilityRevoked():
            if event.capability in REQUIRED_CAPABILITIES:
                raise ViewNotRevocable("end the session instead of revoking VIEW")
            if event.capability not in grants.granted:
                raise CapabilityNotGranted(f"{event.capability.value} is not granted")
            new = replace(grants, granted=grants.granted - {event.capability})
            actor = party_actor(event.by, agent)
            return GrantChange(new, actor, {"capability": event.capability.value})


def _consent(
    shown: RenderedConsent | None,
    decision: ConsentDecision,
    capabilities: frozenset[Capability],
    at: datetime,
) -> ConsentRecord:
    # ConsentRequested always precedes (the table guarantees it), so the record
    # cites the exact text the customer saw.
    assert shown is not None
    return ConsentRecord.of(shown, decision, capabilities, at)
