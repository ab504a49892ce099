"""The file-transfer messages, strict both ways."""

from __future__ import annotations

import contextlib
import hashlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk.link.frames import MAX_CONTROL_PAYLOAD, encode_control
from supportdesk.transfer.errors import InvalidMessage, RemoteTransferError
from supportdesk.transfer.messages import (
    MAX_CHUNK,
    MESSAGE_TYPES,
    CancelReason,
    Direction,
    ErrorCode,
    FileAccept,
    FileAck,
    FileCancel,
    FileChunk,
    FileComplete,
    FileDecline,
    FileError,
    FileOffer,
    TransferMessage,
    is_transfer_message,
    parse_message,
)

SHA = hashlib.sha256(b"x").hexdigest()

EXAMPLES: list[TransferMessage] = [
    FileOffer("t1", Direction.TO_CUSTOMER, "Kontoauszug März.pdf", 123, SHA),
    FileAccept("t1", 8),
    FileDecline("t1"),
    FileChunk("t1", 0, b"\x00\xffdata"),
    FileAck("t1", 0),
    FileCancel("t1", CancelReason.CUSTOMER),
    FileComplete("t1", SHA),
    FileError("t1", ErrorCode.HASH_MISMATCH, "content does not match the offer"),
]


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: m.TYPE)
def test_round_trip_through_json(message: TransferMessage) -> None:
    wire = json.loads(json.dumps(message.to_json()))
    assert is_transfer_message(wire)
    assert parse_message(wire) == message


def test_every_type_has_an_example() -> None:
    assert {m.TYPE for m in EXAMPLES} == set(MESSAGE_TYPES)


def test_a_full_chunk_fits_a_control_message() -> None:
    chunk = FileChunk("a" * 64, 2**40, b"\xff" * MAX_CHUNK)
    assert len(encode_control(chunk.to_json())) < MAX_CONTROL_PAYLOAD


def _with(message: TransferMessage, **changes: Any) -> dict[str, Any]:
    return {**message.to_json(), **changes}


BAD: list[dict[str, Any]] = [
    {"type": "file_nonsense", "id": "t1"},
    {"type": 7},
    _with(EXAMPLES[0], id="../x"),
    _with(EXAMPLES[0], id=""),
    _with(EXAMPLES[0], id="x" * 65),
    _with(EXAMPLES[0], direction="sideways"),
    _with(EXAMPLES[0], size=-1),
    _with(EXAMPLES[0], size=True),
    _with(EXAMPLES[0], size=1.5),
    _with(EXAMPLES[0], size="12"),
    _with(EXAMPLES[0], size=2**60),
    _with(EXAMPLES[0], sha256=SHA.upper()),
    _with(EXAMPLES[0], sha256=SHA[:-1]),
    _with(EXAMPLES[0], name=""),
    _with(EXAMPLES[0], name="n" * 1025),
    _with(EXAMPLES[0], name=None),
    _with(EXAMPLES[0], extra="field"),
    {k: v for k, v in EXAMPLES[0].to_json().items() if k != "sha256"},
    _with(EXAMPLES[1], window=0),
    _with(EXAMPLES[1], window=65),
    _with(EXAMPLES[3], data=""),
    _with(EXAMPLES[3], data="not base64!"),
    _with(EXAMPLES[3], data="QQ"),  # missing padding
    _with(EXAMPLES[3], data="QUFB" * 30000),  # more than 64 KiB decoded
    _with(EXAMPLES[3], data=["QUFB"]),
    _with(EXAMPLES[3], seq=-1),
    _with(EXAMPLES[4], seq=None),
    _with(EXAMPLES[5], reason="bored"),
    _with(EXAMPLES[6], sha256="0" * 63),
    _with(EXAMPLES[7], code="oops"),
    _with(EXAMPLES[7], detail="d" * 201),
]


@pytest.mark.parametrize("message", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_malformed_messages_are_refused(message: dict[str, Any]) -> None:
    with pytest.raises(InvalidMessage):
        parse_message(message)


def test_invalid_message_is_the_peers_fault_and_a_value_error() -> None:
    assert issubclass(InvalidMessage, RemoteTransferError)
    assert issubclass(InvalidMessage, ValueError)


def test_empty_chunks_cannot_be_built() -> None:
    with pytest.raises(InvalidMessage):
        FileChunk("t1", 0, b"")


def test_other_control_messages_are_not_transfer_messages() -> None:
    assert not is_transfer_message({"type": "chat", "text": "Hallo"})
    assert not is_transfer_message({"type": None})


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@given(
    st.sampled_from(sorted(MESSAGE_TYPES)),
    st.dictionaries(
        st.sampled_from(["id", "direction", "name", "size", "sha256", "window", "seq", "data"]),
        JSON,
    ),
)
def test_arbitrary_fields_parse_or_raise_invalid_message(kind: str, fields: dict[str, Any]) -> None:
    with contextlib.suppress(InvalidMessage):
        parse_message({"type": kind, **fields})
