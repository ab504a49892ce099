"""The one JSON decoder for what a peer sends: bounded in size and nesting depth.

Every socket that takes JSON from outside (the customer's link's control messages,
the agent's console, a video viewer, the recording player) decodes it here. The
standard library's ``json.loads`` recurses once per nesting level, so a message of
a few kilobytes of ``[[[[…`` raises ``RecursionError`` deep inside the caller, and
it accepts ``NaN`` and ``Infinity``, which no browser's ``JSON.parse`` reads back.
This decoder measures the nesting before it parses (strings are skipped, so a ``[``
inside a string does not count), refuses non-finite numbers and integers longer
than any field needs, and raises :class:`JsonRefused` — one documented error, with a
reason fit for a WebSocket close frame — for everything it will not take.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

__all__ = ["MAX_DEPTH", "JsonRefused", "decode_object", "nesting_depth"]

MAX_DEPTH = 16
"""Deepest nesting of objects and arrays a message may have (a diagnostics report,
the deepest of ours, has 5)."""
_MAX_INT_DIGITS = 20
"""Digits of the longest integer taken: any 64-bit value, no bignum arithmetic."""

# A string, or (unterminated) the rest of the text: every quote starts a match that
# succeeds, so the scan is linear even for a text of unterminated quotes.
_TOKEN = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)|[\[\]{}]', re.DOTALL)
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JsonRefused(ValueError):
    """The peer's bytes are not a JSON object within the limits; ``str()`` says why
    in a few words (short enough for a close frame's reason)."""


def nesting_depth(text: str) -> int:
    """How deep objects and arrays nest in ``text`` (0 for a scalar), outside strings.

    Linear in the text and with no recursion; for text that is not JSON the number
    is meaningless but finite, and the parser refuses the text afterwards."""
    steps = [_STEP.get(token, 0) for token in _TOKEN.findall(text)]
    return max(accumulate(steps), default=0)


def _refuse_constant(name: str) -> float:
    raise JsonRefused(f"{name} is not a JSON number")


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > _MAX_INT_DIGITS:
        raise JsonRefused("number too long")
    return int(digits)


def decode_object(
    data: bytes | str, *, max_bytes: int, max_depth: int = MAX_DEPTH
) -> dict[str, Any]:
    """The JSON object in ``data`` (UTF-8 bytes or text), or :class:`JsonRefused`.

    ``max_bytes`` bounds the encoded size (checked first, before anything is
    decoded), ``max_depth`` the nesting of objects and arrays (the object itself is 1).
    """
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise JsonRefused(f"message of {size} bytes exceeds {max_bytes}")
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise JsonRefused("message is not UTF-8") from None
    else:
        text = data
    if nesting_depth(text) > max_depth:
        raise JsonRefused(f"message nests deeper than {max_depth} levels")
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_int=_bounded_int)
    except JsonRefused:
        raise
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise JsonRefused(f"message is not JSON: {_short(exc)}") from None
    if not isinstance(value, dict):
        raise JsonRefused("message is not a JSON object")
    return value


def _short(exc: Exception) -> str:
    return str(exc)[:60]
