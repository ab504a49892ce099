"""The shared bounded JSON decoder: every input is an object within the bounds or
JsonRefused, never RecursionError, and the depth scan stays linear on crafted text."""

from __future__ import annotations

import json
import random

import pytest

from supportdesk.link.bounded_json import MAX_DEPTH, JsonRefused, decode_object, nesting_depth
from supportdesk.link.frames import (
    CONTROL_CHANNEL,
    LinkProtocolError,
    decode_control,
    decode_frame,
    encode_control,
)


def nested(depth: int) -> str:
    return '{"type":"x","a":' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


def test_the_deep_nesting_that_raised_recursion_error_is_refused_cleanly() -> None:
    text = '{"type":"chat","text":' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(JsonRefused, match="deeper than"):
        decode_object(text, max_bytes=1 << 20)
    with pytest.raises(LinkProtocolError, match="deeper than"):
        decode_control(text.encode())


def test_nesting_up_to_the_bound_is_taken_one_more_is_refused() -> None:
    assert decode_object(nested(MAX_DEPTH), max_bytes=4096)["type"] == "x"
    with pytest.raises(JsonRefused):
        decode_object(nested(MAX_DEPTH + 1), max_bytes=4096)


def test_brackets_and_escaped_quotes_inside_strings_do_not_count() -> None:
    text = json.dumps({"type": "chat", "text": '[[[[{{{{"\\' * 50, "x": [{"y": "]]]"}]})
    assert nesting_depth(text) == 3
    assert decode_object(text, max_bytes=4096)["text"].startswith("[[[[")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"a": NaN}', "NaN"),
        ('{"a": -Infinity}', "Infinity"),
        ('{"a": ' + "9" * 4000 + "}", "too long"),
        ("[1, 2]", "not a JSON object"),
        ('"just a string"', "not a JSON object"),
        ("{", "not JSON"),
        ('{"a": "unterminated', "not JSON"),
    ],
)
def test_what_a_browser_could_not_read_back_is_refused(text: str, reason: str) -> None:
    with pytest.raises(JsonRefused, match=reason):
        decode_object(text, max_bytes=1 << 20)


def test_size_is_checked_before_anything_is_decoded() -> None:
    with pytest.raises(JsonRefused, match="exceeds 10"):
        decode_object(b'{"type": "chat"}', max_bytes=10)
    with pytest.raises(JsonRefused, match="not UTF-8"):
        decode_object(b'{"a": "\xff"}', max_bytes=100)


def test_crafted_quotes_and_backslashes_scan_in_linear_time() -> None:
    # Each would make a naive string pattern backtrack over the rest of the text at
    # every quote; the scan counts no brackets in them, and the parser refuses them.
    for text in ('"' + '\\"' * 100_000, '"\\' * 100_000, '"' * 200_001):
        assert nesting_depth(text) == 0
        with pytest.raises(JsonRefused):
            decode_object(text, max_bytes=1 << 20)


def test_random_inputs_are_taken_or_refused_with_the_documented_error() -> None:
    rng = random.Random(15)
    alphabet = '{}[]",:\\ 0123456789.eE-+truefalsnNIy'
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 80)))
        try:
            value = decode_object(text, max_bytes=1 << 10)
        except JsonRefused:
            continue
        assert isinstance(value, dict)
        assert nesting_depth(json.dumps(value)) <= MAX_DEPTH


def test_control_messages_round_trip_and_keep_their_own_errors() -> None:
    message = {"type": "chat", "text": "Grüße [x]", "nested": {"a": [1, 2]}}
    frame = decode_frame(encode_control(message))
    assert frame.channel == CONTROL_CHANNEL
    assert decode_control(frame.payload) == message
    with pytest.raises(LinkProtocolError, match="string 'type'"):
        decode_control(b'{"type": 1}')
