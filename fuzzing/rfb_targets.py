"""Fuzz targets of the RFB core: the applet's engine with its client parser, and the relay's gate.

``rfb-client``: a whole viewer stream (handshake included) into
:class:`RFBServerConnection`, which then answers and sends an update if one was asked
for; the client parser alone must frame the stream the same whole and cut in two, and
never buffer more than it promises. ``rfb-gate``: the same streams through the input
gate -- a closed gate's output must carry no input to the engine, an open gate's must
give the engine the messages the raw stream gives it.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from supportdesk.rfb import (
    ClientCutText,
    ClientMessageParser,
    KeyEvent,
    PointerEvent,
    RemoteProtocolError,
    RFBServerConnection,
)
from supportdesk.rfb.clipboard import EXTENDED_CLIPBOARD_ENCODING
from supportdesk.rfb.input_filter import ViewerInputFilter
from supportdesk.rfb.messages import ExtendedClipboard

from .target import InvariantBroken, Target

MAX_CUT_TEXT = 4096
MAX_ENCODINGS = 64
_FRAME = np.random.default_rng(7).integers(0, 256, (48, 64, 3), dtype=np.uint8)
_FRAME[:24, :32] = (30, 60, 90)  # a flat area, so Tight fills and palettes are reached


def _set_encodings(*encodings: int) -> bytes:
    return struct.pack(">BxH", 2, len(encodings)) + struct.pack(f">{len(encodings)}i", *encodings)


def _request(incremental: int, x: int, y: int, w: int, h: int) -> bytes:
    return struct.pack(">BBHHHH", 3, incremental, x, y, w, h)


def _clipboard(flags: int, payload: bytes = b"") -> bytes:
    body = struct.pack(">I", flags) + payload
    return struct.pack(">Bxxxi", 6, -len(body)) + body


_PROVIDE = zlib.compress(struct.pack(">I", 6) + b"Hallo\0")
_PIXEL_FORMAT = b"\x00\x00\x00\x00" + bytes(
    [32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 0, 8, 16, 0, 0, 0]
)
_PF16 = b"\x00\x00\x00\x00" + bytes([16, 16, 1, 1, 0, 31, 0, 63, 0, 31, 11, 5, 0, 0, 0, 0])
_BODY = [
    _PIXEL_FORMAT,
    _set_encodings(
        7, 1, 0, -223, -308, -239, -313, -312, 0xFFFFFEC7 - (1 << 32), EXTENDED_CLIPBOARD_ENCODING
    ),
    _request(0, 0, 0, 64, 48),
    _request(1, 10, 10, 20, 20),
    struct.pack(">BBxxI", 4, 1, 0x61),
    struct.pack(">BBHH", 5, 1, 10, 20),
    struct.pack(">BxxxI", 6, 5) + b"Hallo",
    _clipboard(0x01000001, struct.pack(">I", 0)),  # caps
    _clipboard(0x02000001),  # request
    _clipboard(0x04000000),  # peek
    _clipboard(0x08000001),  # notify
    _clipboard(0x10000001, _PROVIDE),
    struct.pack(">BBHHHH", 150, 1, 0, 0, 64, 48),
    struct.pack(">BxxxIB", 248, (1 << 31) | 3, 4) + b"ping",
    struct.pack(">BxHHBx", 251, 64, 48, 1) + struct.pack(">IHHHHI", 0, 0, 0, 64, 48, 0),
]
_VERSIONS = [b"RFB 003.008\n\x01\x01", b"RFB 003.007\n\x01\x00", b"RFB 003.003\n\x01",
             b"RFB 003.005\n\x01", b"RFB 003.889\n\x01"]  # fmt: skip


def seeds() -> list[bytes]:
    """Short viewer conversations: every handshake with two or three messages, so that
    mutations reach every message kind instead of dying in the first of a long stream."""
    out = []
    setup = _BODY[1]  # SetEncodings: Tight, CopyRect, pseudo-encodings, Extended Clipboard
    for i, version in enumerate(_VERSIONS):
        for j, message in enumerate(_BODY):
            other = _BODY[(i + j + 3) % len(_BODY)]
            out.append(version + setup + message + other)
    out.append(_VERSIONS[0] + _PF16 + _set_encodings(0, 1) + _request(0, 0, 0, 64, 48))
    out.append(_VERSIONS[0] + _PIXEL_FORMAT + setup + _request(0, 0, 0, 64, 48))
    out.append(_VERSIONS[2] + b"".join(_BODY))
    return out


def _engine(data: bytes, cut: int) -> tuple[list[object], RFBServerConnection]:
    """The events the engine took from ``data`` fed in two pieces (its error in ``conn.error``)."""
    conn = RFBServerConnection(64, 48, max_cut_text=MAX_CUT_TEXT, max_encodings=MAX_ENCODINGS)
    conn.clipboard_allowed = True
    events: list[object] = []
    try:
        for piece in (data[:cut], data[cut:]):
            conn.receive_data(piece)
            events += conn.events_received()
    except RemoteProtocolError:
        pass
    return events, conn


def _parser_outcome(data: bytes, pieces: list[bytes]) -> list[object]:
    parser = ClientMessageParser(max_cut_text=MAX_CUT_TEXT, max_encodings=MAX_ENCODINGS)
    out: list[object] = []
    try:
        for piece in pieces:
            parser.receive_data(piece)
            if parser.buffered > parser.max_buffered:
                raise InvariantBroken("the parser buffered more than max_buffered")
            out += [p.message for p in parser.messages_received()]
    except RemoteProtocolError:
        out += [p.message for p in parser.messages_received()]
        out.append("rejected")
    return out


def run_client(data: bytes) -> None:
    cut = (len(data) * 7) // 13
    _events, conn = _engine(data, cut)
    if conn.is_open:
        if conn.update_requested:
            conn.send_framebuffer_update(_FRAME)
        conn.send_cut_text("Grüße")
        conn.send_bell()
    conn.data_to_send()
    body = data[14:]
    whole = _parser_outcome(body, [body])
    if whole != _parser_outcome(body, [body[:cut], body[cut:]]):
        raise InvariantBroken("the parser framed the stream differently when cut")
    if len(body) <= 64 and whole != _parser_outcome(body, [bytes([b]) for b in body]):
        raise InvariantBroken("the parser framed the stream differently byte by byte")
    if conn.error is not None:
        raise conn.error  # counted as a clean rejection


def _input(events: list[object]) -> list[object]:
    return [
        e
        for e in events
        if isinstance(e, KeyEvent | PointerEvent | ClientCutText)
        or (isinstance(e, ExtendedClipboard) and not e.is_caps)
    ]


def _gate(data: bytes, allowed: bool, cut: int) -> tuple[bytes, RemoteProtocolError | None]:
    gate = ViewerInputFilter(lambda: allowed, max_cut_text=MAX_CUT_TEXT)
    out = bytearray()
    try:
        for piece in (data[:cut], data[cut:]):
            out += gate.feed(piece)
    except RemoteProtocolError as exc:
        return bytes(out), exc
    return bytes(out), None


def run_gate(data: bytes) -> None:
    cut = (len(data) * 5) // 11
    closed, refused = _gate(data, False, cut)
    events, _ = _engine(closed, len(closed) // 2)
    if _input(events):
        raise InvariantBroken(f"input passed a closed gate: {_input(events)[:3]}")
    opened, _ = _gate(data, True, cut)
    through, _ = _engine(opened, len(opened))
    raw, _ = _engine(data, cut)
    shorter = min(len(through), len(raw))
    if through[:shorter] != raw[:shorter]:
        raise InvariantBroken("the engine saw other messages through the open gate")
    if len(opened) > len(data):
        raise InvariantBroken("the gate forwarded bytes it was never given")
    if refused is not None:
        raise refused  # counted as a clean rejection


TARGETS = [
    Target(
        "rfb-client",
        "applet engine + client parser (whole viewer streams)",
        seeds,
        run_client,
        (RemoteProtocolError,),
    ),
    Target(
        "rfb-gate",
        "relay input gate, differential against the engine",
        seeds,
        run_gate,
        (RemoteProtocolError,),
    ),
]
