"""What an agent's console may send on its control socket: the schema, checked before
anything is recorded, carried out or forwarded to the customer.

Pure rules, no sockets. :func:`parse_console_message` decodes one socket message
with the shared bounded decoder (:mod:`supportdesk.link.bounded_json`) and checks it
against :data:`SCHEMA`: the ``type`` must be one of ours, every field of that type
has its JSON type, range and length, and no other field may come along. A message
that is not JSON within the bounds raises ``JsonRefused`` (the socket closes, 1007);
one that is JSON but not a console message raises :class:`ConsoleMessageRefused`
(the console gets an ``error`` and the socket stays open). Either way nothing of it
reaches the customer: ``{"type": "screen", "screen": -1}`` once crashed the program.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from supportdesk.link.bounded_json import decode_object

__all__ = [
    "CHAT_MAX",
    "CONSOLE_MESSAGE_MAX",
    "MAX_SCREENS",
    "SCHEMA",
    "TEAM_REQUESTS",
    "ConsoleMessageRefused",
    "check_console_message",
    "parse_console_message",
]

CHAT_MAX = 2000
"""Characters of one chat line (the console's input holds as many)."""
MAX_SCREENS = 16
"""Screens the relay keeps from the program's ``hello``; a choice is an index below."""
MAX_CODECS = 8
CODEC_MAX = 64
CONSOLE_MESSAGE_MAX = 16 * 1024
"""Bytes of one console message: a chat line of 2000 characters, escaped, fits."""
_TRANSFER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


TEAM_REQUESTS = frozenset({"hand_over", "invite_helper", "release_helper"})
"""The messages that change who works on the session."""


class ConsoleMessageRefused(ValueError):
    """A JSON object that is not a console message; ``str()`` says why, for the console."""


Check = Callable[[str, object], object]
"""Checks one field's value (named for the message) and returns it, or raises."""


def _integer(low: int, high: int) -> Check:
    def check(name: str, value: object) -> object:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ConsoleMessageRefused(f"{name} must be an integer from {low} to {high}")
        return value

    return check


def _text(most: int) -> Check:
    def check(name: str, value: object) -> object:
        if not isinstance(value, str) or len(value) > most:
            raise ConsoleMessageRefused(f"{name} must be text of at most {most} characters")
        return value

    return check


def _transfer_id(name: str, value: object) -> object:
    if not isinstance(value, str) or _TRANSFER_ID.fullmatch(value) is None:
        raise ConsoleMessageRefused(f"{name} must be a transfer id")
    return value


def _fraction_or_none(name: str, value: object) -> object:
    fraction = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
    if value is not None and not fraction:
        raise ConsoleMessageRefused(f"{name} must be a number from 0 to 1, or null")
    return value


def _flag(name: str, value: object) -> object:
    if not isinstance(value, bool):
        raise ConsoleMessageRefused(f"{name} must be true or false")
    return value


def _codecs(name: str, value: object) -> object:
    if (
        not isinstance(value, list)
        or len(value) > MAX_CODECS
        or not all(isinstance(c, str) and len(c) <= CODEC_MAX for c in value)
    ):
        raise ConsoleMessageRefused(f"{name} must be a list of at most {MAX_CODECS} codec strings")
    return value


# Per type: its fields, each with its check and whether it must be there.
SCHEMA: Mapping[str, Mapping[str, tuple[Check, bool]]] = MappingProxyType(
    {
        "chat": {"text": (_text(CHAT_MAX), True)},
        "end": {},
        "viewer_ticket": {},
        "screen": {"screen": (_integer(0, MAX_SCREENS - 1), True)},
        "file_cancel": {"id": (_transfer_id, True)},
        "diagnostics_request": {},
        "decoders": {"codecs": (_codecs, True)},
        # Who works on the session (server/session_handover.py): a colleague by account
        # id; a hand-over names the owner the console saw, so a stale one is refused.
        "hand_over": {
            "agent": (_integer(1, 2**31 - 1), True),
            "owner": (_text(80), True),
            "keep_watching": (_flag, False),
        },
        "invite_helper": {"agent": (_integer(1, 2**31 - 1), True), "control": (_flag, False)},
        "release_helper": {"actor": (_text(80), True)},
        "pointer": {
            "x": (_fraction_or_none, True),
            "y": (_fraction_or_none, True),
            "down": (_flag, False),
        },
    }
)


def check_console_message(message: Mapping[str, Any]) -> dict[str, Any]:
    """``message`` if it is a console message by :data:`SCHEMA`; else ConsoleMessageRefused."""
    kind = message.get("type")
    fields = SCHEMA.get(kind) if isinstance(kind, str) else None
    if fields is None:
        shown = kind[:32] if isinstance(kind, str) else type(kind).__name__
        raise ConsoleMessageRefused(f"unknown console message {shown!r}")
    extra = sorted(k for k in message if k != "type" and k not in fields)
    if extra:
        raise ConsoleMessageRefused(f"{kind}: unexpected field {extra[0][:32]!r}")
    checked: dict[str, Any] = {"type": kind}
    for name, (check, required) in fields.items():
        if name in message:
            checked[name] = check(f"{kind}.{name}", message[name])
        elif required:
            raise ConsoleMessageRefused(f"{kind}: {name} is missing")
    return checked


def parse_console_message(data: str | bytes) -> dict[str, Any]:
    """Decode and check one message from a console socket (see the module docstring)."""
    return check_console_message(decode_object(data, max_bytes=CONSOLE_MESSAGE_MAX))
