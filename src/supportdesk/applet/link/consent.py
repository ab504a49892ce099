"""The consent exchange on the applet link: the relay's ``consent_request`` in, the
customer's answer out, and what it means for the session's facts.

The first request starts the session on "Ja". A renewal (``"renewal": true``, after a
long gap in the link) asks the same questions again: "Ja" goes on, and what the
customer no longer ticks is withdrawn; "Nein" ends the session.

Every answer names the text the dialog showed at that moment (:func:`consent_answer`):
its version, language and SHA-256. The relay accepts a "Ja" only on a text it knows
and audits that one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from websockets.asyncio.client import ClientConnection

from supportdesk.applet.consent import ConsentRequest, build_dialog
from supportdesk.applet.files import in_daemon_thread
from supportdesk.applet.session_facts import SessionFacts
from supportdesk.domain.capabilities import Capability
from supportdesk.domain.consent import ConsentDecision, ConsentRecord
from supportdesk.domain.mask_rules import InvalidMaskRules, MaskRules
from supportdesk.link.frames import LinkProtocolError

log = logging.getLogger(__name__)

Ask = Callable[[ConsentRequest], ConsentRecord]
Control = Callable[[dict[str, Any]], Awaitable[None]]


def consent_request(message: dict[str, Any], certified: str | None) -> ConsentRequest:
    """The relay's ``consent_request`` as the dialogs' model. The verified address is
    ``certified``, the name from the certificate this link verified
    (:func:`~supportdesk.applet.bank_tls.certified_name`): the server's own ``domain``
    is never shown, since a server can claim any. None (no certificate vouches for
    the link) leaves it empty, and the customer is not asked (:func:`ask_first`).

    Raises LinkProtocolError for a request the dialog must not show (an agent name it
    cannot display safely, an unknown capability, a missing field).
    """
    try:
        return ConsentRequest(
            bank_name=str(message["bank"]),
            bank_domain=certified or "",
            agent_name=str(message["agent_name"]),
            consultation_number=str(message["consultation_number"]),
            verification_code=str(message["verification_code"]),
            requested=frozenset(Capability(c) for c in message.get("capabilities", [])),
            consent_version=str(message.get("consent_version")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkProtocolError(f"unusable consent request: {exc}") from None


def mask_rules(message: dict[str, Any]) -> MaskRules:
    """The bank's window rules sent with the consent request (none: no rules)."""
    try:
        return MaskRules.from_json(message.get("mask_rules"))
    except InvalidMaskRules as exc:
        raise LinkProtocolError(f"unusable mask rules: {exc}") from None


def peer_certificate(socket: ClientConnection | None) -> dict[str, Any] | None:
    """The certificate the link's TLS verified (None: no TLS, or none verified)."""
    if socket is None:
        return None
    tls = socket.transport.get_extra_info("ssl_object")
    certificate = tls.getpeercert() if tls is not None else None
    return certificate or None


def consent_answer(record: ConsentRecord) -> dict[str, Any]:
    """The ``consent`` message for the customer's answer, citing the text shown."""
    message: dict[str, Any] = {
        "type": "consent",
        "decision": "yes" if record.decision is ConsentDecision.GIVEN else "no",
        "consent_version": record.version,
        "language": record.language.value,
        "consent_sha256": record.text_sha256,
    }
    if record.decision is ConsentDecision.GIVEN:
        message["capabilities"] = sorted(c.value for c in record.capabilities)
    return message


async def ask_first(
    request: ConsentRequest, ask: Ask, facts: SessionFacts, control: Control
) -> bool:
    """Ask the customer (the dialog blocks: in a daemon thread, so the link lives on
    and a dialog left open by a lost link does not keep the program from exiting) and
    answer the relay; True: consent given, the session starts."""
    facts.consultation_number = request.consultation_number
    facts.bank_name = request.bank_name
    facts.bank_domain = request.bank_domain
    facts.agent_name = request.agent_name
    record = await in_daemon_thread(ask, request) if request.bank_domain else _unasked(request)
    facts.consent = record
    if record.decision is not ConsentDecision.GIVEN:
        facts.end_reason = "declined"
        await control(consent_answer(record))
        return False
    granted = sorted(c.value for c in record.capabilities)
    facts.started_at = record.at
    facts.capabilities = frozenset(granted)
    facts.grants = [(record.at, "granted", c) for c in granted]
    await control(consent_answer(record))
    return True


async def ask_again(
    request: ConsentRequest, ask: Ask, facts: SessionFacts, control: Control
) -> bool:
    """A renewal: True if the customer said "Ja" again (capabilities no longer ticked
    are revoked); False: "Nein", the session ends by the customer."""
    record = await in_daemon_thread(ask, request) if request.bank_domain else _unasked(request)
    if record.decision is not ConsentDecision.GIVEN:
        facts.end_reason = "customer"
        facts.ended_at = facts.ended_at or datetime.now(UTC)
        await control(consent_answer(record))
        return False
    chosen = sorted(c.value for c in record.capabilities)
    await control(consent_answer(record))
    for dropped in sorted(facts.capabilities - set(chosen)):
        await control({"type": "revoke", "capability": dropped})
    return True


def _unasked(request: ConsentRequest) -> ConsentRecord:
    """No certificate vouches for this link (a context that does not verify): the
    dialog would have no verified address to show, so the customer is not asked and
    the answer is "Nein"; nothing is captured."""
    log.warning("no verified certificate name for this link: consent not asked")
    return build_dialog(request).decide(False, (), datetime.now(UTC))
