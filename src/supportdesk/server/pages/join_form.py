"""Checking what the customer typed into the remote-support join form."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from supportdesk.domain.support_key import KEY_DIGITS

NAME_MAX = 80
_NAME_CHARS = re.compile(r"^[\w .,'’-]+$")


@dataclass(frozen=True)
class JoinRequest:
    name: str
    support_key: str


def validate_join(name: str, support_key: str) -> JoinRequest | dict[str, str]:
    """Return the cleaned request or field error codes.

    Codes: ``required``, ``too_long``, ``invalid_name``, ``key_digits_only``,
    ``key_length``.
    """
    errors: dict[str, str] = {}
    name = unicodedata.normalize("NFC", " ".join(name.split()))
    if not name:
        errors["name"] = "required"
    elif len(name) > NAME_MAX:
        errors["name"] = "too_long"
    elif not _NAME_CHARS.match(name) or not any(ch.isalpha() for ch in name):
        errors["name"] = "invalid_name"
    key = "".join(support_key.split()).replace("-", "")
    if not key:
        errors["support_key"] = "required"
    elif not key.isdigit() or not key.isascii():
        errors["support_key"] = "key_digits_only"
    elif len(key) != KEY_DIGITS:
        errors["support_key"] = "key_length"
    if errors:
        return errors
    return JoinRequest(name, key)
