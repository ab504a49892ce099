"""What an auditor reads for an audit entry's codes: the name of every event code the
server writes, and who an actor string names ("agent:bernd" is the agent bernd).

The table is complete by test: tests/server/test_audit_event_names.py reads the source
for every event code written and fails on one without a name here. A code without a
name (an entry of an older version) is shown as itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from supportdesk.i18n import N_

EVENT_NAMES: dict[str, str] = {
    "account.created": N_("Account created"),
    "account.disabled": N_("Account locked"),
    "account.enabled": N_("Account unlocked"),
    "account.password_reset": N_("Password reset"),
    "account.role_changed": N_("Role changed"),
    "account.totp_enrolled": N_("Authenticator app set up"),
    "audit.exported": N_("Audit trail exported"),
    "audit.verified": N_("Audit trail verified"),
    "capability.granted": N_("Permission granted"),
    "capability.revoked": N_("Permission withdrawn"),
    "capability.used": N_("Permission used"),
    "consent.declined": N_("Consent declined"),
    "consent.given": N_("Consent given"),
    "consent.renewed": N_("Consent renewed"),
    "consent.requested": N_("Consent requested"),
    "login.failed": N_("Login failed"),
    "login.password_ok": N_("Password accepted, second factor pending"),
    "login.succeeded": N_("Logged in"),
    "logout": N_("Logged out"),
    "recording_exported": N_("Recording exported"),
    "recording_failed": N_("Recording failed"),
    "recording_finished": N_("Recording finished"),
    "recording_hold": N_("Recording hold changed"),
    "recording_interrupted": N_("Recording interrupted"),
    "recording_limit_reached": N_("Recording limit reached"),
    "recording_opened": N_("Recording played back"),
    "recording_purge_failed": N_("Recording deletion failed"),
    "recording_purged": N_("Recording deleted"),
    "recording_rate_limited": N_("Recording slowed down"),
    "recording_started": N_("Recording started"),
    "recording_verified": N_("Recording verified"),
    "report.exported": N_("Report exported"),
    "security.public_address_insecure": N_("Customers' address is not HTTPS"),
    "security.totp_relaxed": N_("Second factor relaxed by configuration"),
    "service_request.assigned": N_("Service request assigned"),
    "service_request.note_added": N_("Note added to service request"),
    "service_request.purged": N_("Service request erased"),
    "service_request.status_changed": N_("Service request status changed"),
    "session.chat": N_("Chat lines exchanged"),
    "session.diagnostics_requested": N_("Diagnostics requested"),
    "session.diagnostics_sent": N_("Diagnostics sent"),
    "session.diagnostics_withheld": N_("Diagnostics withheld"),
    "session.control_refused": N_("Control refused by the customer"),
    "session.ended": N_("Session ended"),
    "session.expired": N_("Session expired"),
    "session.file_transfer": N_("File transfer"),
    "session.handed_over": N_("Session handed over"),
    "session.helper_invited": N_("Colleague invited to help"),
    "session.helper_left": N_("Colleague no longer helping"),
    "session.link_lost": N_("Connection lost"),
    "session.masking_setup": N_("Masking at consent"),
    "session.masking_started": N_("Masking started"),
    "session.masking_stopped": N_("Masking stopped"),
    "session.link_restored": N_("Connection restored"),
    "session.paused": N_("Session paused"),
    "session.resumed": N_("Session resumed"),
    "session.taken_over": N_("Session taken over by another server"),
    "session.team_change_refused": N_("Hand-over or invitation refused"),
    "survey.answered": N_("Survey answered"),
    "survey.comments_purged": N_("Survey comments erased"),
    "survey.refused": N_("Survey answer refused"),
    "support_key.issued": N_("Support key issued"),
    "support_key.redeemed": N_("Support key redeemed"),
    "support_key.redemption_failed": N_("Support key refused"),
}

ACTOR_KINDS: dict[str, str] = {
    "agent": N_("Staff"),
    "customer": N_("Customer"),
    "system": N_("System"),
    "client": N_("Address"),
    "cli": N_("Command line"),
}

_AGENT = "agent:"


@dataclass(frozen=True)
class Actor:
    """Who an entry's actor string names: a kind (a key of ACTOR_KINDS, or "" when
    unknown) and a name (a user name, an address; "" for the customer and the system)."""

    kind: str
    name: str

    @classmethod
    def of(cls, raw: str) -> Actor:
        kind, colon, rest = raw.partition(":")
        if not colon:
            return cls(raw, "") if raw in ("customer", "system") else cls("", raw)
        if kind not in ACTOR_KINDS:
            return cls("", raw)
        # Session entries written before the fix name the agent twice ("agent:agent:x").
        while kind == "agent" and rest.startswith(_AGENT):
            rest = rest[len(_AGENT) :]
        return cls(kind, rest)


def stored_actors(typed: str) -> tuple[str, ...]:
    """Every actor string an auditor's search for ``typed`` means: "bernd" is the agent
    (in both stored forms), the command-line user and the address of that name;
    "agent:bernd" or "customer" are taken as they are."""
    text = typed.strip()
    if not text:
        return ()
    if ":" in text:
        actor = Actor.of(text)
        if actor.kind == "agent":
            return (f"{_AGENT}{actor.name}", f"{_AGENT}{_AGENT}{actor.name}")
        return (text,)
    if text.lower() in ("customer", "system"):
        return (text.lower(),)
    user = text.lower()  # user names are kept in lower case
    return (f"{_AGENT}{user}", f"{_AGENT}{_AGENT}{user}", f"cli:{text}", f"client:{text}")


def event_name(code: str, gettext: Callable[[str], str]) -> str:
    """The event's name in the reader's language; the code itself when it has none."""
    name = EVENT_NAMES.get(code)
    return gettext(name) if name else code


def actor_kind_name(kind: str, gettext: Callable[[str], str]) -> str:
    name = ACTOR_KINDS.get(kind)
    return gettext(name) if name else ""
