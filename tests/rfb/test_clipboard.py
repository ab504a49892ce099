"""Clipboard over RFB: Latin-1 cut text, the Extended Clipboard with UTF-8, limits, the gate."""

from __future__ import annotations

import struct
import tracemalloc
import zlib
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk.rfb import ClientCutText, LocalProtocolError, RemoteProtocolError
from supportdesk.rfb.client_parser import ClientMessageParser
from supportdesk.rfb.clipboard import EXTENDED_CLIPBOARD_ENCODING
from supportdesk.rfb.input_filter import ViewerInputFilter
from supportdesk.rfb.messages import ExtendedClipboard

from . import viewer as v
from .conftest import Pair

GREETING = "Grüße aus Köln – 100 €"
TEXT = 1
CAPS, REQUEST, PEEK, NOTIFY, PROVIDE = (1 << 24, 1 << 25, 1 << 26, 1 << 27, 1 << 28)
NOVNC_CAPS = v.extended_clipboard(CAPS | REQUEST | PEEK | NOTIFY | PROVIDE | TEXT, b"\0\0\0\0")


def provide(text: bytes, *, size: int | None = None) -> bytes:
    """A provide as noVNC builds it: zlib(U32 size, UTF-8 with CRLF, NUL)."""
    body = struct.pack(">I", len(text) if size is None else size) + text
    return v.extended_clipboard(PROVIDE | TEXT, zlib.compress(body))


def provided_text(payload: bytes) -> bytes:
    data = zlib.decompress(payload)
    (size,) = struct.unpack_from(">I", data)
    assert len(data) == 4 + size
    return data[4:]


def extended_pair(connect: Callable[..., Pair], caps: bytes | None = NOVNC_CAPS) -> Pair:
    conn, viewer = connect(encodings=(7, EXTENDED_CLIPBOARD_ENCODING))
    if caps is not None:
        conn.receive_data(caps)
    return conn, viewer


# -- plain cut text (RFC 6143): Latin-1 -------------------------------------------------


def test_without_the_extension_cut_text_is_latin_1(connect: Callable[..., Pair]) -> None:
    conn, viewer = connect(encodings=(7,))
    conn.receive_data(v.client_cut_text("Grüße".encode("latin-1")))
    assert conn.events_received() == [ClientCutText("Grüße")]
    conn.send_cut_text(GREETING)
    viewer.feed(conn.data_to_send())
    assert viewer.log[-1] == ("cut", "Grüße aus Köln ? 100 ?")


def test_extended_message_without_the_extension_is_a_protocol_error(
    connect: Callable[..., Pair],
) -> None:
    conn, _ = connect(encodings=(7,))
    with pytest.raises(RemoteProtocolError, match="before the server sent caps"):
        conn.receive_data(NOVNC_CAPS)


def test_cut_text_over_the_limit_is_refused_both_ways() -> None:
    from supportdesk.rfb import RFBServerConnection

    conn = RFBServerConnection(100, 100, max_cut_text=10)
    conn.clipboard_allowed = True
    conn.receive_data(b"RFB 003.008\n\x01\x01")
    with pytest.raises(LocalProtocolError, match="exceeds 10"):
        conn.send_cut_text("x" * 11)
    conn.send_cut_text("x" * 10)
    with pytest.raises(RemoteProtocolError, match="exceeds the limit of 10"):
        conn.receive_data(v.client_cut_text(b"y" * 11))


# -- the Extended Clipboard ----------------------------------------------------------------


def test_server_announces_caps_once(connect: Callable[..., Pair]) -> None:
    conn, viewer = connect(encodings=(7, EXTENDED_CLIPBOARD_ENCODING))
    flags = CAPS | REQUEST | PEEK | NOTIFY | PROVIDE | TEXT
    assert ("xclip", flags, struct.pack(">I", 1 << 20)) in viewer.log
    conn.receive_data(v.set_encodings(7, EXTENDED_CLIPBOARD_ENCODING))
    assert conn.data_to_send() == b""


def test_agent_text_arrives_as_utf_8_after_notify_and_request(
    connect: Callable[..., Pair],
) -> None:
    conn, viewer = extended_pair(connect)
    assert conn.data_to_send() == b"" and conn.events_received() == []
    conn.receive_data(v.extended_clipboard(NOTIFY | TEXT))
    viewer.feed(conn.data_to_send())
    assert viewer.log[-1] == ("xclip", REQUEST | TEXT, b"")
    conn.receive_data(provide(f"{GREETING}\r\nZeile 2\0".encode()))
    assert conn.events_received() == [ClientCutText(f"{GREETING}\nZeile 2")]


def test_customer_text_is_notified_then_provided_on_request(
    connect: Callable[..., Pair],
) -> None:
    conn, viewer = extended_pair(connect)
    conn.send_cut_text(f"{GREETING}\nZeile 2")
    viewer.feed(conn.data_to_send())
    assert viewer.log[-1] == ("xclip", NOTIFY | TEXT, b"")
    conn.receive_data(v.extended_clipboard(REQUEST | TEXT))
    viewer.feed(conn.data_to_send())
    kind, flags, payload = viewer.log[-1]
    assert (kind, flags) == ("xclip", PROVIDE | TEXT)
    assert provided_text(payload) == f"{GREETING}\r\nZeile 2\0".encode()
    conn.receive_data(v.extended_clipboard(REQUEST | TEXT))
    assert conn.data_to_send() == b""  # given once; nothing is left to hand out


def test_newer_text_replaces_the_held_one(connect: Callable[..., Pair]) -> None:
    conn, viewer = extended_pair(connect)
    conn.send_cut_text("alt")
    conn.send_cut_text("neu")
    conn.receive_data(v.extended_clipboard(REQUEST | TEXT))
    viewer.feed(conn.data_to_send())
    assert provided_text(viewer.log[-1][2]) == b"neu\0"


def test_peek_says_whether_text_is_held(connect: Callable[..., Pair]) -> None:
    conn, viewer = extended_pair(connect)
    conn.receive_data(v.extended_clipboard(PEEK))
    viewer.feed(conn.data_to_send())
    assert viewer.log[-1] == ("xclip", NOTIFY, b"")
    conn.send_cut_text("da")
    conn.receive_data(v.extended_clipboard(PEEK))
    viewer.feed(conn.data_to_send())
    assert viewer.log[-1] == ("xclip", NOTIFY | TEXT, b"")


def test_text_goes_unsolicited_when_the_client_takes_that_much(
    connect: Callable[..., Pair],
) -> None:
    caps = v.extended_clipboard(CAPS | PROVIDE | TEXT, struct.pack(">I", 1000))
    conn, viewer = extended_pair(connect, caps)
    conn.send_cut_text(GREETING)
    viewer.feed(conn.data_to_send())
    assert viewer.log[-1][:2] == ("xclip", PROVIDE | TEXT)
    assert provided_text(viewer.log[-1][2]) == GREETING.encode() + b"\0"


def test_client_without_text_format_gets_latin_1(connect: Callable[..., Pair]) -> None:
    caps = v.extended_clipboard(CAPS | NOTIFY | PROVIDE | 2, struct.pack(">I", 0))
    conn, viewer = extended_pair(connect, caps)
    conn.send_cut_text("Grüße")
    viewer.feed(conn.data_to_send())
    assert viewer.log[-1] == ("cut", "Grüße")


# -- hostile extended messages -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (provide(b"x" * 101), "exceeds the limit of 100"),
        (provide(b"kurz", size=50), "ends inside the text"),
        (v.extended_clipboard(PROVIDE | TEXT, b"kein zlib"), "bad zlib data"),
        (v.extended_clipboard(PROVIDE | TEXT, zlib.compress(b"\0\0")), "ends before"),
        (provide(b"\xff\xfe\0"), "not UTF-8"),
        (v.extended_clipboard(CAPS | TEXT | 4), "carry 0 sizes"),
        (v.extended_clipboard(REQUEST | NOTIFY | TEXT), "actions 0x0a000000"),
        (v.extended_clipboard(0), "actions 0x00000000"),
        (b"\x06\x00\x00\x00\xff\xff\xff\xfe\x00\x00", "no room for its flags"),
    ],
)
def test_broken_extended_messages_are_protocol_errors(message: bytes, reason: str) -> None:
    from supportdesk.rfb import RFBServerConnection

    conn = RFBServerConnection(100, 100, max_cut_text=100)
    conn.clipboard_allowed = True
    conn.receive_data(b"RFB 003.008\n\x01\x01" + v.set_encodings(EXTENDED_CLIPBOARD_ENCODING))
    with pytest.raises(RemoteProtocolError, match=reason):
        conn.receive_data(message)


def test_a_zlib_bomb_is_refused_without_inflating_it() -> None:
    from supportdesk.rfb import RFBServerConnection

    conn = RFBServerConnection(100, 100, max_cut_text=64 * 1024)
    conn.clipboard_allowed = True
    conn.receive_data(b"RFB 003.008\n\x01\x01" + v.set_encodings(EXTENDED_CLIPBOARD_ENCODING))
    inflated = 50 * 1024 * 1024
    bomb = zlib.compress(struct.pack(">I", inflated) + bytes(inflated), 9)
    message = v.extended_clipboard(PROVIDE | TEXT, bomb)
    assert len(message) < 64 * 1024  # small on the wire, 50 MiB inflated
    tracemalloc.start()
    try:
        with pytest.raises(RemoteProtocolError, match="52428800 bytes exceeds"):
            conn.receive_data(message)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024


def test_oversized_extended_message_is_refused_at_its_header() -> None:
    parser = ClientMessageParser(max_cut_text=100)
    with pytest.raises(RemoteProtocolError, match="101 bytes exceeds"):
        parser.receive_data(struct.pack(">Bxxxi", 6, -101))
    assert parser.buffered == 0


def test_extended_message_split_byte_by_byte_parses_the_same() -> None:
    data = NOVNC_CAPS + provide(GREETING.encode() + b"\0")
    whole = ClientMessageParser()
    whole.receive_data(data)
    single = ClientMessageParser()
    for byte in data:
        single.receive_data(bytes([byte]))
    expected = [m.message for m in whole.messages_received()]
    assert [m.message for m in single.messages_received()] == expected
    assert isinstance(expected[0], ExtendedClipboard) and expected[0].is_caps


FLAGS = st.one_of(
    st.sampled_from([CAPS | TEXT, REQUEST | TEXT, PEEK, NOTIFY | TEXT, PROVIDE | TEXT]),
    st.integers(min_value=0, max_value=0xFFFFFFFF),
)
PAYLOADS = st.one_of(
    st.binary(max_size=64),
    st.binary(max_size=300).map(lambda b: zlib.compress(struct.pack(">I", len(b)) + b)),
    st.tuples(st.integers(0, (1 << 32) - 1), st.binary(max_size=40)).map(
        lambda t: zlib.compress(struct.pack(">I", t[0]) + t[1])
    ),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(FLAGS, PAYLOADS), max_size=6), st.integers(1, 64))
def test_any_extended_messages_are_accepted_or_refused_cleanly(
    messages: list[tuple[int, bytes]], chunk: int
) -> None:
    """The fuzz invariant for the clipboard: text within the limit, or RemoteProtocolError."""
    from supportdesk.rfb import RFBServerConnection

    conn = RFBServerConnection(100, 100, max_cut_text=200)
    conn.clipboard_allowed = True
    conn.receive_data(b"RFB 003.008\n\x01\x01" + v.set_encodings(EXTENDED_CLIPBOARD_ENCODING))
    conn.events_received()
    data = b"".join(v.extended_clipboard(flags, payload) for flags, payload in messages)
    try:
        for i in range(0, len(data), chunk):
            conn.receive_data(data[i : i + chunk])
    except RemoteProtocolError:
        pass
    for event in conn.events_received():
        assert isinstance(event, ClientCutText)
        assert len(event.text.encode()) <= 200


# -- the relay's gate ---------------------------------------------------------------------


HANDSHAKE = b"RFB 003.008\n\x01\x01"
CLIPBOARD_INPUT = [
    v.extended_clipboard(NOTIFY | TEXT),
    v.extended_clipboard(REQUEST | TEXT),
    v.extended_clipboard(PEEK),
    provide(GREETING.encode() + b"\0"),
    v.client_cut_text(b"abc"),
]


def test_gate_drops_extended_clipboard_without_control_but_passes_caps() -> None:
    gate = ViewerInputFilter(lambda: False)
    stream = HANDSHAKE + NOVNC_CAPS + b"".join(CLIPBOARD_INPUT)
    assert gate.feed(stream) == HANDSHAKE + NOVNC_CAPS
    assert gate.dropped == len(CLIPBOARD_INPUT)


def test_gate_passes_extended_clipboard_with_control() -> None:
    gate = ViewerInputFilter(lambda: True)
    stream = HANDSHAKE + NOVNC_CAPS + b"".join(CLIPBOARD_INPUT)
    assert gate.feed(stream) == stream


def test_gate_limit_is_a_parameter() -> None:
    gate = ViewerInputFilter(lambda: True, max_cut_text=10)
    with pytest.raises(RemoteProtocolError, match="exceeds the limit of 10"):
        gate.feed(HANDSHAKE + provide(b"x" * 100))
