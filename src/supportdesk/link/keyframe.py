"""Keyframe payloads: a full-screen RFB update that decodes with no earlier state.

The support program sends them on the link (``KEYFRAME_FLAG | channel`` frames,
:mod:`.frames`) and the recording keeps them: a keyframe record lets playback start
in the middle of a recording. The format lives here, with the link, so that the
program that makes them needs nothing of the recording's code. Its payload
is a small header (size and the channel's pixel format) and one complete
FramebufferUpdate covering the whole screen, built with *fresh* encoders: Raw, or
Tight from a new ``TightEncoder`` whose first rectangle also carries the reset
bits of all four zlib streams, so a decoder with any history decodes it correctly.
See "Keyframes" in ``docs/recording-format.md`` for what the applet must do
around it (reset its live Tight streams) for playback to continue past it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Literal

import numpy.typing as npt

from supportdesk.rfb.encodings.base import Encoder
from supportdesk.rfb.encodings.raw import RawEncoder
from supportdesk.rfb.encodings.tight import TightEncoder, TightSettings
from supportdesk.rfb.errors import RemoteProtocolError
from supportdesk.rfb.geometry import Rect
from supportdesk.rfb.messages import encode_framebuffer_update_header, encode_rectangle_header
from supportdesk.rfb.pixel_format import PIXEL_FORMAT_SIZE, PixelFormat, as_rgb

__all__ = ["KEYFRAME_MAGIC", "Keyframe", "KeyframeInvalid", "encode_keyframe", "parse_keyframe"]


class KeyframeInvalid(ValueError):
    """The bytes are not a keyframe payload."""


KEYFRAME_MAGIC = b"SDKF"
_VERSION = 1
_HEAD = struct.Struct(">4sBxHH")
_RESET_ALL_STREAMS = 0x0F
_TIGHT = 7


@dataclass(frozen=True, slots=True)
class Keyframe:
    width: int
    height: int
    pixel_format: PixelFormat
    update: bytes
    """One FramebufferUpdate message (type byte onwards) in ``pixel_format``."""


def encode_keyframe(
    frame: npt.NDArray[Any],
    pixel_format: PixelFormat,
    *,
    encoding: Literal["tight", "raw"] = "tight",
    compress_level: int = 6,
) -> bytes:
    """The payload of a keyframe record for ``frame`` (H x W x 3|4 uint8 RGB[X]).

    ``pixel_format`` must be the format the channel's viewer asked for
    (``RFBServerConnection.pixel_format``); the player sends the update as it is.
    Lossless by default (no JPEG), so playback starts from the exact picture.
    """
    rgb = as_rgb(frame)
    height, width = rgb.shape[:2]
    encoder: Encoder
    if encoding == "tight":
        encoder = TightEncoder(TightSettings(compress_level=compress_level))
    else:
        encoder = RawEncoder()
    tiles = encoder.subrects(rgb, Rect(0, 0, width, height))
    out = bytearray(encode_framebuffer_update_header(len(tiles)))
    first_tight = True
    for tile in tiles:
        out += encode_rectangle_header(tile.x, tile.y, tile.width, tile.height, encoder.encoding)
        body = encoder.encode(rgb[tile.y : tile.bottom, tile.x : tile.right], pixel_format)
        if encoder.encoding == _TIGHT and first_tight:
            first_tight = False
            body = bytes([body[0] | _RESET_ALL_STREAMS]) + body[1:]
        out += body
    return _HEAD.pack(KEYFRAME_MAGIC, _VERSION, width, height) + pixel_format.pack() + bytes(out)


def parse_keyframe(payload: bytes) -> Keyframe:
    """Split a keyframe payload; raises KeyframeInvalid if it is not one."""
    head_size = _HEAD.size + PIXEL_FORMAT_SIZE
    if len(payload) < head_size + 4:
        raise KeyframeInvalid("keyframe payload too short")
    magic, version, width, height = _HEAD.unpack_from(payload)
    if magic != KEYFRAME_MAGIC or version != _VERSION:
        raise KeyframeInvalid("not a keyframe payload")
    try:
        pixel_format = PixelFormat.unpack(payload[_HEAD.size : head_size])
    except (ValueError, RemoteProtocolError) as exc:
        raise KeyframeInvalid(f"keyframe pixel format: {exc}") from None
    update = payload[head_size:]
    if update[0] != 0:
        raise KeyframeInvalid("keyframe does not hold a FramebufferUpdate")
    return Keyframe(width, height, pixel_format, update)
