"""Words for the codes that the server, the agent's console and the customer's applet
all show: session states, agent roles, and why a file transfer stopped.

English message ids marked with ``N_`` for the catalogue; each side translates them
where it shows them (``supportdesk.i18n``). Words that depend on who reads them ("by
you" for the customer, "by the customer" for the agent) stay with that side.
"""

from __future__ import annotations

from supportdesk.i18n import N_

SESSION_STATES: dict[str, str] = {
    "issued": N_("key issued"),
    "redeemed": N_("key redeemed"),
    "awaiting_consent": N_("waiting for consent"),
    "active": N_("active"),
    "paused": N_("paused"),
    "ended": N_("ended"),
    "declined": N_("declined"),
    "expired": N_("expired"),
}

ROLES: dict[str, str] = {
    "agent": N_("agent"),
    "supervisor": N_("supervisor"),
    "auditor": N_("auditor"),
    "admin": N_("administrator"),
}

TRANSFER_STOPS: dict[str, str] = {
    # Cancel reasons and error codes of transfer.messages, except "customer" and
    # "agent" (who cancelled): the same words on both sides.
    "session_ended": N_("the session ended"),
    "paused": N_("the session was paused"),
    "capability_revoked": N_("file transfer was withdrawn"),
    "timeout": N_("timed out"),
    "too_large": N_("too large"),
    "bad_name": N_("file name not allowed"),
    "busy": N_("too many transfers at once"),
    "not_allowed": N_("not allowed"),
    "size_mismatch": N_("arrived damaged"),
    "hash_mismatch": N_("arrived damaged"),
    "source_changed": N_("the file changed while it was sent"),
    "read_failed": N_("could not be read"),
    "write_failed": N_("could not be saved"),
    "protocol": N_("transfer error"),
}
