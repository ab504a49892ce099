"""The relay's input gate: handshake through, input dropped unless allowed, rest intact."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.rfb.errors import RemoteProtocolError
from supportdesk.rfb.input_filter import ViewerInputFilter

HANDSHAKE = b"RFB 003.008\n" + b"\x01" + b"\x01"
SET_ENCODINGS = struct.pack(">BxHi", 2, 1, 7)
UPDATE_REQUEST = struct.pack(">BBHHHH", 3, 1, 0, 0, 100, 100)
KEY = struct.pack(">BBxxI", 4, 1, 0x61)
POINTER = struct.pack(">BBHH", 5, 1, 10, 20)
CUT = struct.pack(">BxxxI", 6, 3) + b"abc"
STREAM = HANDSHAKE + SET_ENCODINGS + KEY + UPDATE_REQUEST + POINTER + CUT


def test_input_passes_when_allowed() -> None:
    gate = ViewerInputFilter(lambda: True)
    assert gate.feed(STREAM) == STREAM
    assert gate.dropped == 0


def test_input_is_dropped_when_not_allowed() -> None:
    gate = ViewerInputFilter(lambda: False)
    assert gate.feed(STREAM) == HANDSHAKE + SET_ENCODINGS + UPDATE_REQUEST
    assert gate.dropped == 3


def test_the_decision_is_taken_per_message() -> None:
    allowed = [True]
    gate = ViewerInputFilter(lambda: allowed[0])
    assert gate.feed(HANDSHAKE + KEY) == HANDSHAKE + KEY
    allowed[0] = False
    assert gate.feed(KEY + UPDATE_REQUEST) == UPDATE_REQUEST


def test_version_3_3_has_no_security_byte() -> None:
    gate = ViewerInputFilter(lambda: False)
    stream = b"RFB 003.003\n" + b"\x01" + KEY + UPDATE_REQUEST
    assert gate.feed(stream) == b"RFB 003.003\n\x01" + UPDATE_REQUEST


def test_garbage_is_a_protocol_error() -> None:
    with pytest.raises(RemoteProtocolError):
        ViewerInputFilter(lambda: True).feed(b"GET / HTTP/1.1\r\n")
    with pytest.raises(RemoteProtocolError):
        ViewerInputFilter(lambda: True).feed(HANDSHAKE + b"\xff")


@given(st.lists(st.integers(min_value=1, max_value=len(STREAM)), max_size=20))
def test_split_anywhere_gives_the_same_output(cuts: list[int]) -> None:
    gate = ViewerInputFilter(lambda: False)
    points = sorted(set(cuts))
    pieces = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)], strict=True)]
    assert b"".join(gate.feed(p) for p in pieces) == HANDSHAKE + SET_ENCODINGS + UPDATE_REQUEST
