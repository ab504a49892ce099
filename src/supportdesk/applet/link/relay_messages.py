"""What each control message from the relay must hold, checked before the applet acts on it.

The relay is trusted to run the session, not to send well-formed JSON: a message
with a missing field, a string where a number belongs, a negative channel or
credit, or a screen the customer does not have is a :class:`LinkProtocolError`
here, before any of it reaches the RFB channels, the consent dialog or the
receipt. The link then ends cleanly (``client.py``) and the customer still
gets the receipt. Fields the applet does not read are not checked; unknown message
types are left to the caller (they are ignored, as a newer relay may send more).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from supportdesk.domain.capabilities import Capability
from supportdesk.link.frames import MAX_RFB_CHANNEL, LinkProtocolError

__all__ = ["MAX_SCREENS", "check_relay_message"]

MAX_SCREENS = 16
"""The relay keeps at most this many of the customer's screens (``hello``)."""

_MAX_CREDIT = 1 << 31

Rule = Callable[[object], bool]


def _int_in(low: int, high: int) -> Rule:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high


def _optional(rule: Rule) -> Rule:
    return lambda v: v is None or rule(v)


def _seconds(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 86_400


def _is_str(v: object) -> bool:
    return isinstance(v, str)


def _is_bool(v: object) -> bool:
    return isinstance(v, bool)


def _capabilities(v: object) -> bool:
    known = {c.value for c in Capability}
    return isinstance(v, list) and all(isinstance(item, str) and item in known for item in v)


def _watchers(v: object) -> bool:
    return isinstance(v, list) and all(isinstance(item, dict) for item in v)


def _agents(v: object) -> bool:
    """Who works on the session (``team_lines.py``): a name, owner or not, control."""
    return isinstance(v, list) and all(
        isinstance(item, dict)
        and isinstance(item.get("name"), str)
        and isinstance(item.get("owner", False), bool)
        and isinstance(item.get("control", False), bool)
        for item in v
    )


_CHANNEL = _int_in(1, MAX_RFB_CHANNEL)
_REQUIRED: dict[str, dict[str, Rule]] = {
    "open": {"channel": _CHANNEL},
    "close": {"channel": _CHANNEL},
    "credit": {"channel": _CHANNEL, "bytes": _int_in(0, _MAX_CREDIT)},
    "keyframe": {"channel": _CHANNEL},
    "screen": {"screen": _int_in(0, MAX_SCREENS - 1)},
    "agent_notice": {"notice": _is_str, "change": _is_str, "agent_name": _is_str},
    "state": {"state": _is_str, "capabilities": _capabilities},
    "consent_request": {
        "bank": _is_str,
        "domain": _is_str,
        "agent_name": _is_str,
        "consultation_number": _is_str,
        "verification_code": _is_str,
        "capabilities": _capabilities,
    },
}
_OPTIONAL: dict[str, dict[str, Rule]] = {
    "open": {"view_only": _is_bool},
    "state": {
        "paused": _is_bool,
        "held": _is_bool,
        "notice": _optional(_is_str),
        "watchers": _watchers,
        "agents": _agents,
    },
    "end": {"reason": _optional(_is_str), "survey": _optional(_is_str)},
    "agent_notice": {"refusable": _is_bool},
    "chat": {"text": _is_str},
    "consent_request": {"renewal": _is_bool, "consent_version": _is_str},
    "resume": {"secret": _is_str, "grace_seconds": _seconds},
}


def check_relay_message(message: Mapping[str, Any]) -> None:
    """Raise LinkProtocolError unless ``message`` holds what its type needs, well typed."""
    kind = message.get("type")
    if not isinstance(kind, str):
        raise LinkProtocolError("a control message needs a string 'type'")
    for name, rule in _REQUIRED.get(kind, {}).items():
        if name not in message:
            raise LinkProtocolError(f"{kind!r} without {name!r}")
        if not rule(message[name]):
            raise LinkProtocolError(f"{kind!r} with a bad {name!r}: {message[name]!r:.80}")
    for name, rule in _OPTIONAL.get(kind, {}).items():
        if name in message and not rule(message[name]):
            raise LinkProtocolError(f"{kind!r} with a bad {name!r}: {message[name]!r:.80}")
