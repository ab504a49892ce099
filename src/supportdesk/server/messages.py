"""Customer-facing texts chosen by code: field errors and request statuses.

Marked with ``N_`` so the catalogue extractor finds them; translated at render time.
"""

from __future__ import annotations

from supportdesk.code_words import ROLES, SESSION_STATES, TRANSFER_STOPS
from supportdesk.i18n import N_

__all__ = [
    "CAPABILITIES",
    "DECLINE_REASONS",
    "END_REASONS",
    "FIELD_ERRORS",
    "REQUEST_STATUSES",
    "ROLES",
    "SESSION_STATES",
    "TRANSFER_STOPS",
]


FIELD_ERRORS: dict[str, str] = {
    "required": N_("Please fill in this field."),
    "too_long": N_("This is too long."),
    "too_short": N_("Please describe your question in at least 10 characters."),
    "invalid_name": N_("Please enter your name using letters only."),
    "key_digits_only": N_("The support key consists of digits only."),
    "key_length": N_("The support key has exactly 12 digits."),
    "no_session": N_(
        "There is no remote-support session for this support key. Please check the key "
        "with our service team; it is valid for a few minutes only."
    ),
    "unknown_topic": N_("Please choose one of the topics."),
    "invalid_choice": N_("Please choose phone or e-mail."),
    "invalid_phone": N_("Please enter a phone number with area code, e.g. 0941 123456."),
    "invalid_email": N_("Please enter a valid e-mail address, e.g. name@example.de."),
    "invalid_reference": N_("A reference number looks like SA-2026-000123."),
    "not_found": N_("We found no request with this reference number and secret."),
    "csrf": N_(
        "Your form had expired for security reasons. Your input is kept – please send it again."
    ),
}

REQUEST_STATUSES: dict[str, str] = {
    "new": N_("received"),
    "in_progress": N_("in progress"),
    "waiting_for_customer": N_("waiting for your reply"),
    "done": N_("done"),
}

END_REASONS: dict[str, str] = {
    "customer": N_("by the customer"),
    "agent": N_("by the agent"),
    "timeout": N_("time limit reached"),
    "error": N_("connection to the customer lost"),
    "connection_lost": N_("the customer's connection did not come back in time"),
    "recording_limit": N_("the session's recording reached its size limit"),
}

DECLINE_REASONS: dict[str, str] = {
    "declined": N_("the customer said no"),
    "picker_cancelled": N_("the customer closed the screen picker without choosing"),
    "text_mismatch": N_("the customer's page showed another consent text"),
}

CAPABILITIES: dict[str, str] = {
    "view": N_("see the screen"),
    "control": N_("control mouse and keyboard"),
    "file_transfer": N_("transfer files"),
    "diagnostics": N_("query diagnostics"),
}
