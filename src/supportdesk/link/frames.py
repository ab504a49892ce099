"""Framing of the applet link: every WebSocket message is ``channel (uint16 BE) || payload``.

Channel 0 carries control messages (one UTF-8 JSON object each); channels 1..32767
carry one RFB byte stream each, in the order written. A channel number with the high
bit set (``KEYFRAME_FLAG | n``) carries recording keyframes of RFB channel n from the
applet: each frame a piece, first byte 1 if more pieces follow, 0 for the last. The
relay records them and never forwards them (docs/relay-protocol.md).
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any

from supportdesk.link.bounded_json import JsonRefused, decode_object

CONTROL_CHANNEL = 0
MAX_CHANNEL = 0xFFFF
KEYFRAME_FLAG = 0x8000
MAX_RFB_CHANNEL = KEYFRAME_FLAG - 1
VIDEO_CHANNEL = 1
"""On a browser's link (docs/browser-share.md): the encoded screen, one chunk a message."""
MAX_PAYLOAD = 4 * 1024 * 1024
MAX_CONTROL_PAYLOAD = 256 * 1024
_HEADER = struct.Struct(">H")


class LinkProtocolError(ValueError):
    """A message on the link that breaks the framing or the control schema."""


@dataclass(frozen=True)
class Frame:
    channel: int
    payload: bytes


def encode_frame(channel: int, payload: bytes) -> bytes:
    if not 0 <= channel <= MAX_CHANNEL:
        raise LinkProtocolError(f"channel {channel} out of range")
    if len(payload) > MAX_PAYLOAD:
        raise LinkProtocolError(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return _HEADER.pack(channel) + payload


def encode_keyframe_pieces(channel: int, payload: bytes) -> list[bytes]:
    """The link messages that carry a recording keyframe of RFB ``channel``."""
    if not 0 < channel <= MAX_RFB_CHANNEL:
        raise LinkProtocolError(f"channel {channel} is not an RFB channel")
    size = MAX_PAYLOAD - 1
    starts = range(0, max(len(payload), 1), size)
    return [
        encode_frame(
            KEYFRAME_FLAG | channel,
            bytes([1 if start + size < len(payload) else 0]) + payload[start : start + size],
        )
        for start in starts
    ]


def decode_frame(message: bytes) -> Frame:
    if len(message) < _HEADER.size:
        raise LinkProtocolError("a link message needs at least its 2-byte channel")
    if len(message) - _HEADER.size > MAX_PAYLOAD:
        raise LinkProtocolError("link message too large")
    (channel,) = _HEADER.unpack_from(message)
    return Frame(channel, bytes(message[_HEADER.size :]))


def encode_control(message: dict[str, Any]) -> bytes:
    if not isinstance(message.get("type"), str):
        raise LinkProtocolError("a control message needs a string 'type'")
    body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(body) > MAX_CONTROL_PAYLOAD:
        raise LinkProtocolError("control message too large")
    return encode_frame(CONTROL_CHANNEL, body)


def decode_control(payload: bytes) -> dict[str, Any]:
    """The control message in ``payload``: a JSON object with a string ``type``, within
    the size and nesting bounds of :mod:`.bounded_json`; else LinkProtocolError."""
    if len(payload) > MAX_CONTROL_PAYLOAD:
        raise LinkProtocolError("control message too large")
    try:
        message = decode_object(payload, max_bytes=MAX_CONTROL_PAYLOAD)
    except JsonRefused as exc:
        raise LinkProtocolError(f"control {exc}") from None
    if not isinstance(message.get("type"), str):
        raise LinkProtocolError("a control message is a JSON object with a string 'type'")
    return message
