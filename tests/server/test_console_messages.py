"""The console schema: each type with its fields' JSON types, ranges and lengths, no
other field, no other type; every input is a checked message or a documented error."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from supportdesk.link.bounded_json import JsonRefused
from supportdesk.server.relay.console_messages import (
    CHAT_MAX,
    CONSOLE_MESSAGE_MAX,
    MAX_SCREENS,
    SCHEMA,
    ConsoleMessageRefused,
    parse_console_message,
)

VALID: list[dict[str, Any]] = [
    {"type": "chat", "text": "Guten Tag"},
    {"type": "chat", "text": "ä" * CHAT_MAX},
    {"type": "end"},
    {"type": "viewer_ticket"},
    {"type": "screen", "screen": 0},
    {"type": "screen", "screen": MAX_SCREENS - 1},
    {"type": "file_cancel", "id": "a1b2_c3-d4"},
    {"type": "diagnostics_request"},
    {"type": "decoders", "codecs": ["avc1.42E01F", "vp8"]},
    {"type": "pointer", "x": 0.5, "y": 1, "down": True},
    {"type": "pointer", "x": None, "y": None},
]

REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"type": "screen", "screen": -1}, "integer from 0"),
    ({"type": "screen", "screen": MAX_SCREENS}, "integer from 0"),
    ({"type": "screen", "screen": "1"}, "integer from 0"),
    ({"type": "screen", "screen": True}, "integer from 0"),
    ({"type": "screen", "screen": 1.5}, "integer from 0"),
    ({"type": "screen"}, "missing"),
    ({"type": "chat", "text": "x" * (CHAT_MAX + 1)}, "at most"),
    ({"type": "chat", "text": ["Hallo"]}, "text"),
    ({"type": "end", "reason": "x"}, "unexpected field"),
    ({"type": "file_cancel", "id": "../x"}, "transfer id"),
    ({"type": "decoders", "codecs": ["x" * 65]}, "codec"),
    ({"type": "decoders", "codecs": ["vp8"] * 9}, "codec"),
    ({"type": "pointer", "x": 2, "y": 0}, "from 0 to 1"),
    ({"type": "pointer", "x": 0, "y": 0, "down": 1}, "true or false"),
    ({"type": "open", "channel": 3}, "unknown console message"),
    ({"type": 7}, "unknown console message"),
    ({"kind": "chat"}, "unknown console message"),
]


@pytest.mark.parametrize("message", VALID, ids=lambda m: m["type"])
def test_every_console_message_the_page_sends_is_taken_as_it_is(message: dict[str, Any]) -> None:
    assert parse_console_message(json.dumps(message)) == message


@pytest.mark.parametrize(("message", "reason"), REFUSED, ids=lambda v: str(v)[:40])
def test_malformed_and_unknown_messages_are_refused_with_a_reason(
    message: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ConsoleMessageRefused, match=reason):
        parse_console_message(json.dumps(message))


def test_what_is_not_bounded_json_is_refused_by_the_decoder() -> None:
    with pytest.raises(JsonRefused, match="deeper"):
        parse_console_message('{"type":"chat","text":' + "[" * 5_000 + "]" * 5_000 + "}")
    with pytest.raises(JsonRefused, match="exceeds"):
        parse_console_message(json.dumps({"type": "chat", "text": "x" * CONSOLE_MESSAGE_MAX}))
    with pytest.raises(JsonRefused, match="not a JSON object"):
        parse_console_message("[]")


def test_random_field_values_are_checked_or_refused_never_passed_on_unchecked() -> None:
    rng = random.Random(4)
    values: list[Any] = [None, True, -1, 0, 1, 0.5, 15, 16, 2**70, "", "x" * 3000, [], {}, ["vp8"]]
    for _ in range(2000):
        kind = rng.choice([*SCHEMA, "nope"])
        message: dict[str, Any] = {"type": kind}
        for name in rng.sample(["text", "screen", "id", "codecs", "x", "y", "down", "z"], 3):
            message[name] = rng.choice(values)
        try:
            checked = parse_console_message(json.dumps(message))
        except (ConsoleMessageRefused, JsonRefused):
            continue
        assert checked == message and set(checked) <= {"type", *SCHEMA[kind]}
