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
    # One wording per kind of field for a missing answer: text fields ask to enter,
    # a list asks to select, radio buttons ask to choose (server/pages/field_wording.py).
    "required_name": N_("Please enter your name."),
    "required_key": N_("Please enter the support key our service team gave you."),
    "required_topic": N_("Please select a topic."),
    "required_description": N_("Please describe your question."),
    "required_choice": N_("Please choose one option."),
    "required_contact": N_("Please enter your phone number or e-mail address."),
    "required_reference": N_("Please enter your reference number."),
    "required_access_code": N_("Please enter your access code."),
    # The same words for a wrong, expired, used, unknown or throttled key: the page must
    # not tell a guesser which one it was (docs/security.md). The 5 is MAX_WRONG_TRIES
    # (domain/support_key.py; a test keeps them equal); "can" because a wrong try counts
    # against the keys sharing its first digits, not against one key for certain.
    "no_session": N_(
        "This key does not fit or has expired – please ask our service team for a new one. "
        "For your security, a key can become void after 5 wrong entries."
    ),
    "unknown_topic": N_("Please choose one of the topics."),
    "invalid_choice": N_("Please choose phone or e-mail."),
    "invalid_phone": N_("Please enter a phone number with area code, e.g. 0941 123456."),
    "invalid_email": N_("Please enter a valid e-mail address, e.g. name@example.de."),
    "invalid_reference": N_("A reference number looks like SA-2026-000123."),
    "not_found": N_("We found no request with this reference number and access code."),
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
