"""Which sentence a missing answer gets: worded for the kind of field it is.

The validators say only ``required``; the customer should read "enter your name" under
a text field and "choose one option" under radio buttons, not one sentence for all.
"""

from __future__ import annotations

from collections.abc import Mapping

REQUIRED_WORDING: Mapping[str, str] = {
    # text fields
    "name": "required_name",
    "support_key": "required_key",
    "description": "required_description",
    "contact_value": "required_contact",
    "reference": "required_reference",
    "secret": "required_access_code",
    # a select
    "topic": "required_topic",
    # radio buttons
    "contact_kind": "required_choice",
}


def worded(errors: Mapping[str, str]) -> dict[str, str]:
    """``errors`` with each field's ``required`` replaced by its own wording's code."""
    return {
        field: REQUIRED_WORDING.get(field, code) if code == "required" else code
        for field, code in errors.items()
    }
