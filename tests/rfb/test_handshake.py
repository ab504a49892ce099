"""Handshake of RFBServerConnection for RFB 3.3, 3.7 and 3.8, and the state table."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from supportdesk.rfb import (
    NATIVE_PIXEL_FORMAT,
    ClientInitReceived,
    LocalProtocolError,
    ProtocolVersion,
    ProtocolVersionReceived,
    RemoteProtocolError,
    RFBServerConnection,
    SecurityTypeSelected,
    ServerState,
)
from supportdesk.rfb.handshake import parse_client_version, state_table_markdown

SERVER_INIT_640x480 = (
    b"\x02\x80\x01\xe0"  # width 640, height 480
    b"\x20\x18\x00\x01"  # bpp 32, depth 24, little-endian, true colour
    b"\x00\xff\x00\xff\x00\xff"  # maxes 255
    b"\x10\x08\x00"  # shifts 16, 8, 0
    b"\x00\x00\x00"  # padding
    b"\x00\x00\x00\x06K\xc3\xa4se!"  # name "Käse!" in UTF-8 (6 bytes)
)


def new_server() -> RFBServerConnection:
    return RFBServerConnection(640, 480, "Käse!")


def test_server_speaks_first_with_version_3_8() -> None:
    assert new_server().data_to_send() == b"RFB 003.008\n"


def test_handshake_3_8_bytes_exact() -> None:
    conn = new_server()
    conn.data_to_send()
    conn.receive_data(b"RFB 003.008\n")
    assert conn.data_to_send() == b"\x01\x01"  # one security type: None
    assert conn.state is ServerState.AWAIT_SECURITY_TYPE
    conn.receive_data(b"\x01")
    assert conn.data_to_send() == b"\x00\x00\x00\x00"  # SecurityResult OK
    conn.receive_data(b"\x01")  # ClientInit, shared
    assert conn.data_to_send() == SERVER_INIT_640x480
    assert conn.state is ServerState.OPEN
    assert conn.shared is True
    assert conn.events_received() == [
        ProtocolVersionReceived(ProtocolVersion.V3_8),
        SecurityTypeSelected(1),
        ClientInitReceived(shared=True),
    ]


def test_handshake_3_7_has_no_security_result_for_none() -> None:
    conn = new_server()
    conn.data_to_send()
    conn.receive_data(b"RFB 003.007\n")
    assert conn.data_to_send() == b"\x01\x01"
    conn.receive_data(b"\x01")
    assert conn.data_to_send() == b""
    conn.receive_data(b"\x00")
    assert conn.data_to_send() == SERVER_INIT_640x480
    assert conn.shared is False
    assert conn.version is ProtocolVersion.V3_7


def test_handshake_3_3_server_decides_security_type() -> None:
    conn = new_server()
    conn.data_to_send()
    conn.receive_data(b"RFB 003.003\n")
    assert conn.data_to_send() == b"\x00\x00\x00\x01"
    assert conn.state is ServerState.AWAIT_CLIENT_INIT
    conn.receive_data(b"\x01")
    assert conn.data_to_send() == SERVER_INIT_640x480
    assert [type(e) for e in conn.events_received()] == [
        ProtocolVersionReceived,
        ClientInitReceived,
    ]


def test_handshake_byte_by_byte_and_pipelined_messages() -> None:
    stream = b"RFB 003.008\n" + b"\x01" + b"\x01" + b"\x04\x01\x00\x00\x00\x00\x00\x41"
    whole = new_server()
    whole.receive_data(stream)
    split = new_server()
    for i in range(len(stream)):
        split.receive_data(stream[i : i + 1])
    assert whole.data_to_send() == split.data_to_send()
    assert whole.events_received() == split.events_received()
    assert split.state is ServerState.OPEN


@pytest.mark.parametrize(
    ("wire", "version"),
    [
        (b"RFB 003.003\n", ProtocolVersion.V3_3),
        (b"RFB 003.005\n", ProtocolVersion.V3_3),
        (b"RFB 003.889\n", ProtocolVersion.V3_3),
        (b"RFB 003.007\n", ProtocolVersion.V3_7),
        (b"RFB 003.008\n", ProtocolVersion.V3_8),
    ],
)
def test_version_mapping(wire: bytes, version: ProtocolVersion) -> None:
    assert parse_client_version(wire) is version


@pytest.mark.parametrize(
    "wire",
    [b"RFB 004.000\n", b"RFB 003.002\n", b"HTTP/1.1 200", b"RFB 003.008\r", b"RFB 03.0008\n"],
)
def test_bad_versions_are_refused(wire: bytes) -> None:
    conn = new_server()
    with pytest.raises(RemoteProtocolError):
        conn.receive_data(wire)
    assert conn.state is ServerState.FAILED
    with pytest.raises(RemoteProtocolError):
        conn.receive_data(b"x")


def test_wrong_security_type_3_8_gets_reason() -> None:
    conn = new_server()
    conn.receive_data(b"RFB 003.008\n")
    conn.data_to_send()
    with pytest.raises(RemoteProtocolError):
        conn.receive_data(b"\x02")
    out = conn.data_to_send()
    assert out[:4] == b"\x00\x00\x00\x01"
    (length,) = struct.unpack(">I", out[4:8])
    assert out[8:].decode() == "security type 2 was not offered"
    assert length == len(out) - 8
    assert conn.state is ServerState.FAILED


def test_wrong_security_type_3_7_just_fails() -> None:
    conn = new_server()
    conn.receive_data(b"RFB 003.007\n")
    conn.data_to_send()
    with pytest.raises(RemoteProtocolError):
        conn.receive_data(b"\x02")
    assert conn.data_to_send() == b""


def test_sending_before_handshake_is_a_local_error() -> None:
    conn = new_server()
    with pytest.raises(LocalProtocolError):
        conn.send_bell()


def test_eof_mid_message_is_remote_error_and_clean_eof_closes() -> None:
    conn = new_server()
    conn.receive_data(b"RFB 003.008\n\x01\x01\x04\x01")
    with pytest.raises(RemoteProtocolError):
        conn.receive_eof()
    clean = new_server()
    clean.receive_data(b"RFB 003.008\n\x01\x01")
    clean.receive_eof()
    assert clean.state is ServerState.CLOSED


def test_server_init_uses_native_format() -> None:
    assert NATIVE_PIXEL_FORMAT.pack() == SERVER_INIT_640x480[4:20]


def test_docs_state_table_matches_code() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "rfb.md"
    assert state_table_markdown() in docs.read_text(encoding="utf-8")
