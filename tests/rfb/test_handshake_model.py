"""One handshake model: the relay's gate, the applet's engine and the recording tracker agree.

A differential test: the same byte streams go to the gate and to the engine (and the
engine gets what the gate forwards). For every version a viewer may name, they must
agree on where the handshake ends, and a closed gate must let no input reach the
engine however the stream is framed.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportdesk.recording.errors import PlaybackError
from supportdesk.recording.rfb_decoder import ClientStreamTracker
from supportdesk.rfb import (
    ClientCutText,
    KeyEvent,
    PointerEvent,
    RemoteProtocolError,
    RFBServerConnection,
)
from supportdesk.rfb.clipboard import EXTENDED_CLIPBOARD_ENCODING
from supportdesk.rfb.input_filter import ViewerInputFilter
from supportdesk.rfb.messages import ClientMessage, ExtendedClipboard

from . import viewer as v

INPUT = (KeyEvent, PointerEvent, ClientCutText)
REQUEST, PEEK, NOTIFY, PROVIDE, CAPS, TEXT = 1 << 25, 1 << 26, 1 << 27, 1 << 28, 1 << 24, 1

# (version string, bytes the client sends before its first message) per RFC 6143 7.1.1:
# 3.3 and every 3.x other than 3.7/3.8 have no security choice from the client.
ACCEPTED = [
    (b"RFB 003.003\n", b"\x01"),
    (b"RFB 003.005\n", b"\x01"),
    (b"RFB 003.006\n", b"\x01"),
    (b"RFB 003.889\n", b"\x01"),
    (b"RFB 003.009\n", b"\x01"),
    (b"RFB 003.007\n", b"\x01\x01"),
    (b"RFB 003.008\n", b"\x01\x01"),
]
REFUSED = [
    b"RFB 004.000\n",
    b"RFB 003.002\n",
    b"RFB 000.000\n",
    b"RFB 03.008\n\n",
    b"RFB 003.00a\n",
    b"GET / HTTP/1.1",
]


def engine_events(data: bytes, *, chunk: int | None = None) -> tuple[list[object], bool]:
    """Messages the applet's engine takes from ``data`` and whether it refused the stream."""
    conn = RFBServerConnection(64, 48)
    events: list[object] = []
    pieces = [data] if chunk is None else [data[i : i + chunk] for i in range(0, len(data), chunk)]
    try:
        for piece in pieces:
            conn.receive_data(piece)
            events += conn.events_received()
    except RemoteProtocolError:
        events += conn.events_received()
        return events, True
    return events, False


def gate_output(data: bytes, allowed: bool, *, chunk: int | None = None) -> tuple[bytes, bool]:
    gate = ViewerInputFilter(lambda: allowed)
    out = bytearray()
    pieces = [data] if chunk is None else [data[i : i + chunk] for i in range(0, len(data), chunk)]
    try:
        for piece in pieces:
            out += gate.feed(piece)
    except RemoteProtocolError:
        return bytes(out), True
    return bytes(out), False


def input_events(events: list[object]) -> list[object]:
    return [
        e
        for e in events
        if isinstance(e, INPUT) or (isinstance(e, ExtendedClipboard) and not e.is_caps)
    ]


def test_rfb_3_5_cannot_slip_a_key_past_a_closed_gate() -> None:
    """The attack: the gate took 3.5 as two handshake bytes, the engine (as 3.3) one.

    The byte the gate swallowed as "ClientInit" began a KeyEvent at the engine, whose
    other seven bytes were the first seven of an update request the gate forwarded.
    """
    request = struct.pack(">BBHHHH", 3, 0, 0x0000, 0x0061, 0x0003, 0x0000)
    stream = b"RFB 003.005\n" + b"\x01" + b"\x04" + request
    forwarded, _ = gate_output(stream, allowed=False)
    events, _ = engine_events(forwarded)
    assert input_events(events) == []
    # The stream does carry a key, for the engine, which the gate dropped:
    assert any(isinstance(e, KeyEvent) for e in engine_events(stream)[0])


@pytest.mark.parametrize(("version", "security"), ACCEPTED)
def test_gate_engine_and_tracker_agree_where_messages_begin(
    version: bytes, security: bytes
) -> None:
    messages = v.key_event(True, 0x61) + v.update_request(True, 0, 0, 10, 10)
    stream = version + security + messages
    forwarded, failed = gate_output(stream, allowed=False)
    assert not failed
    assert forwarded == version + security + v.update_request(True, 0, 0, 10, 10)
    events, refused = engine_events(stream)
    assert not refused and isinstance(events[-2], KeyEvent)
    gated, _ = engine_events(forwarded)
    assert input_events(gated) == []
    tracked = ClientStreamTracker().feed(stream)
    assert [type(m) for m in tracked] == [type(e) for e in events[-2:]]


@pytest.mark.parametrize("version", REFUSED)
def test_gate_engine_and_tracker_refuse_the_same_versions(version: bytes) -> None:
    data = version.ljust(12, b"\n") + b"\x01\x01"
    assert gate_output(data, allowed=True)[1]
    assert engine_events(data)[1]
    with pytest.raises(PlaybackError):
        ClientStreamTracker().feed(data)


def test_a_refused_security_type_passes_the_gate_once_and_then_nothing() -> None:
    stream = b"RFB 003.008\n" + b"\x02"
    gate = ViewerInputFilter(lambda: True)
    assert gate.feed(stream) == stream  # the applet tells the viewer why
    with pytest.raises(RemoteProtocolError):
        gate.feed(b"\x01" + v.key_event(True, 0x61))
    events, refused = engine_events(stream + b"\x01" + v.key_event(True, 0x61))
    assert refused and input_events(events) == []


def _streams() -> st.SearchStrategy[bytes]:
    version = st.sampled_from([b"RFB 003.003\n", b"RFB 003.005\n", b"RFB 003.007\n",
                               b"RFB 003.008\n", b"RFB 003.889\n"])  # fmt: skip
    message = st.sampled_from([
        v.key_event(True, 0x61), v.pointer_event(1, 3, 4), v.client_cut_text(b"abc"),
        v.update_request(False, 0, 0, 8, 8), v.set_encodings(7, EXTENDED_CLIPBOARD_ENCODING),
        v.extended_clipboard(REQUEST | TEXT), v.extended_clipboard(PEEK),
        v.extended_clipboard(CAPS | TEXT, b"\0\0\0\0"), v.client_fence(1 << 31, b"x"),
        b"\x01", b"\x00\x01", b"\x04", b"\x06\x00\x00\x00",
    ])  # fmt: skip
    return st.builds(
        lambda ver, sec, body: ver + sec + b"".join(body),
        version,
        st.sampled_from([b"", b"\x01", b"\x01\x01", b"\x01\x00", b"\x02"]),
        st.lists(message, max_size=12),
    )


@settings(max_examples=400, deadline=None)
@given(_streams(), st.integers(min_value=1, max_value=9))
def test_differential_gate_and_engine_on_the_same_streams(data: bytes, chunk: int) -> None:
    """Closed gate: nothing it forwards is input at the engine. Open gate: the engine
    sees through it exactly what it sees on the raw stream, up to the first refusal."""
    closed, _ = gate_output(data, allowed=False, chunk=chunk)
    assert input_events(engine_events(closed, chunk=chunk)[0]) == []
    opened, gate_refused = gate_output(data, allowed=True, chunk=chunk)
    raw_events, engine_refused = engine_events(data, chunk=chunk)
    through_events, _ = engine_events(opened)
    if not gate_refused and not engine_refused:
        assert through_events == raw_events
    else:
        shorter = min(len(through_events), len(raw_events))
        assert through_events[:shorter] == raw_events[:shorter]


def test_extended_clipboard_request_is_not_answered_without_control() -> None:
    conn = RFBServerConnection(64, 48)
    conn.receive_data(b"RFB 003.008\n\x01\x01" + v.set_encodings(EXTENDED_CLIPBOARD_ENCODING))
    conn.receive_data(
        v.extended_clipboard(CAPS | REQUEST | PEEK | NOTIFY | PROVIDE | TEXT, bytes(4))
    )
    conn.clipboard_allowed = True
    conn.send_cut_text("Kontostand 1.234 EUR")  # copied while control was granted
    conn.clipboard_allowed = False  # ... then the customer took control back
    conn.data_to_send()
    for flags in (REQUEST | TEXT, PEEK, NOTIFY | TEXT):
        conn.receive_data(v.extended_clipboard(flags))
    assert conn.data_to_send() == b""
    assert conn.clipboard_refused == 3
    conn.clipboard_allowed = True
    conn.receive_data(v.extended_clipboard(REQUEST | TEXT))
    assert conn.data_to_send() == b""  # the old text was forgotten, not kept for later
    events: list[ClientMessage] = [
        e for e in conn.events_received() if isinstance(e, ClientMessage)
    ]
    assert not [e for e in events if isinstance(e, ExtendedClipboard) and not e.is_caps]


@pytest.mark.parametrize(("version", "security"), ACCEPTED)
def test_the_recording_decoder_reads_the_engines_handshake_for_every_version(
    version: bytes, security: bytes
) -> None:
    """The player reads what the engine sent, whichever version the viewer named."""
    from supportdesk.recording.rfb_decoder import ServerMessageKind, ServerStreamDecoder

    conn = RFBServerConnection(64, 48, "Kunde")
    conn.receive_data(version + security + v.update_request(False, 0, 0, 64, 48))
    conn.send_framebuffer_update(np.zeros((48, 64, 3), dtype=np.uint8))
    decoder = ServerStreamDecoder()
    kinds = [m.kind for m in decoder.feed(conn.data_to_send())]
    assert kinds == [ServerMessageKind.HANDSHAKE, ServerMessageKind.FRAMEBUFFER_UPDATE]
    assert decoder.server_init is not None and decoder.server_init.name == "Kunde"
