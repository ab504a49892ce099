"""The consent exchange on the applet link: the relay's ``consent_request`` in, the
customer's answer out, and what it means for the session's facts.

The first request starts the session on "Ja". A renewal (``"renewal": true``, after a
long gap in the link) asks the same questions again: "Ja" goes on, and what the
customer no longer ticks is withdrawn; "Nein" ends the session.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from supportdesk.applet.consent import ConsentRequest
from supportdesk.applet.files import in_daemon_thread
from supportdesk.applet.session_facts import SessionFacts
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import ConsentDecision, ConsentRecord
from supportdesk.link.frames import LinkProtocolError

Ask = Callable[[ConsentRequest], ConsentRecord]
Control = Callable[[dict[str, Any]], Awaitable[None]]


def consent_request(message: dict[str, Any]) -> ConsentRequest:
    """The relay's ``consent_request`` as the dialogs' model.

    Raises LinkProtocolError for a request the dialog must not show (an agent name it
    cannot display safely, an unknown capability, a missing field).
    """
    try:
        return ConsentRequest(
            bank_name=str(message["bank"]),
            bank_domain=str(message["domain"]),
            agent_name=str(message["agent_name"]),
            consultation_number=str(message["consultation_number"]),
            verification_code=str(message["verification_code"]),
            requested=frozenset(Capability(c) for c in message.get("capabilities", [])),
            consent_version=str(message.get("consent_version")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkProtocolError(f"unusable consent request: {exc}") from None


async def ask_first(
    request: ConsentRequest, ask: Ask, facts: SessionFacts, control: Control
) -> bool:
    """Ask the customer (the dialog blocks: in a daemon thread, so the link lives on
    and a dialog left open by a lost link does not keep the program from exiting) and
    answer the relay; True: consent given, the session starts."""
    facts.consultation_number = request.consultation_number
    facts.bank_name = request.bank_name
    facts.agent_name = request.agent_name
    record = await in_daemon_thread(ask, request)
    facts.consent = record
    if record.decision is not ConsentDecision.GIVEN:
        facts.end_reason = "declined"
        await control({"type": "consent", "decision": "no"})
        return False
    granted = sorted(c.value for c in record.capabilities)
    facts.started_at = record.at
    facts.capabilities = frozenset(granted)
    facts.grants = [(record.at, "granted", c) for c in granted]
    await control({"type": "consent", "decision": "yes", "capabilities": granted})
    return True


async def ask_again(
    request: ConsentRequest, ask: Ask, facts: SessionFacts, control: Control
) -> bool:
    """A renewal: True if the customer said "Ja" again (capabilities no longer ticked
    are revoked); False: "Nein", the session ends by the customer."""
    record = await in_daemon_thread(ask, request)
    if record.decision is not ConsentDecision.GIVEN:
        facts.end_reason = "customer"
        facts.ended_at = facts.ended_at or datetime.now(UTC)
        await control({"type": "consent", "decision": "no"})
        return False
    chosen = sorted(c.value for c in record.capabilities)
    await control({"type": "consent", "decision": "yes", "capabilities": chosen})
    for dropped in sorted(facts.capabilities - set(chosen)):
        await control({"type": "revoke", "capability": dropped})
    return True
