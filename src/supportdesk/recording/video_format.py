"""The payloads of VIDEO and VIDEO_CONFIG records: a browser's encoded screen, as on the link.

A VIDEO payload is exactly what the browser sent on its video channel
(``docs/browser-share.md``): ``flags (1 byte, bit 0 = key chunk) ‖ timestamp
(uint64 big-endian, µs, the encoder's) ‖ chunk bytes``. A VIDEO_CONFIG payload is
the JSON of the ``video_config`` control message that announced them: ``codec`` (a
WebCodecs codec string), ``width``, ``height``. Pure parsing, no I/O.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .format import MAX_VIDEO_PAYLOAD, VIDEO_HEADER_SIZE

__all__ = [
    "MAX_CONFIG_BYTES",
    "VIDEO_KEY",
    "VideoChunk",
    "VideoConfig",
    "check_video_payload",
    "encode_video_config",
    "is_key_chunk",
    "parse_video_chunk",
    "parse_video_config",
]

VIDEO_KEY = 0x01
"""Bit 0 of a video payload's flags: a key chunk (decodable without what came before)."""
MAX_CONFIG_BYTES = 4096
MAX_SIDE = 16384
"""Larger than any screen a browser shares; WebCodecs refuses more anyway."""
MAX_CODEC = 64
_HEAD = struct.Struct(">BQ")
assert _HEAD.size == VIDEO_HEADER_SIZE


@dataclass(frozen=True, slots=True)
class VideoChunk:
    """A VIDEO record's payload taken apart."""

    key: bool
    timestamp_us: int
    """The encoder's timestamp (µs): the picture's time, not the recording's."""
    data: bytes


def check_video_payload(payload: bytes) -> None:
    """Raise ValueError unless ``payload`` has a header and fits a link message."""
    if len(payload) <= VIDEO_HEADER_SIZE:
        raise ValueError(f"a video chunk needs more than {VIDEO_HEADER_SIZE} bytes")
    if len(payload) > MAX_VIDEO_PAYLOAD:
        raise ValueError(
            f"a video chunk of {len(payload)} bytes exceeds the link's limit of "
            f"{MAX_VIDEO_PAYLOAD} bytes"
        )


def is_key_chunk(payload: bytes) -> bool:
    return bool(payload[0] & VIDEO_KEY)


def parse_video_chunk(payload: bytes) -> VideoChunk:
    """Split a video payload; raises ValueError if it is too short or too long."""
    check_video_payload(payload)
    flags, timestamp = _HEAD.unpack_from(payload)
    return VideoChunk(bool(flags & VIDEO_KEY), timestamp, bytes(payload[VIDEO_HEADER_SIZE:]))


@dataclass(frozen=True, slots=True)
class VideoConfig:
    """What the video chunks that follow are: a WebCodecs codec string and the picture size."""

    codec: str
    width: int
    height: int

    @property
    def family(self) -> str:
        """``h264``, ``vp9``, ``vp8`` or ``av1`` (from the codec string), else ``unknown``."""
        prefix = self.codec.split(".", 1)[0]
        return {"avc1": "h264", "avc3": "h264", "vp09": "vp9", "vp8": "vp8", "av01": "av1"}.get(
            prefix, "unknown"
        )

    def as_message(self) -> dict[str, Any]:
        return {"codec": self.codec, "width": self.width, "height": self.height}


def _config_from(data: Mapping[str, Any]) -> VideoConfig:
    codec, width, height = data.get("codec"), data.get("width"), data.get("height")
    if not isinstance(codec, str) or not 0 < len(codec) <= MAX_CODEC or not codec.isprintable():
        raise ValueError("video_config needs a codec string")
    for side in (width, height):
        if not isinstance(side, int) or isinstance(side, bool) or not 0 < side <= MAX_SIDE:
            raise ValueError(f"video_config needs a width and height of 1 to {MAX_SIDE}")
    assert isinstance(width, int) and isinstance(height, int)
    return VideoConfig(codec, width, height)


def encode_video_config(config: Mapping[str, Any]) -> bytes:
    """The VIDEO_CONFIG payload of a ``video_config`` message; raises ValueError if malformed.

    Only ``codec``, ``width`` and ``height`` are kept: what a decoder needs, nothing else.
    """
    parsed = _config_from(config)
    return json.dumps(parsed.as_message(), separators=(",", ":")).encode()


def parse_video_config(payload: bytes) -> VideoConfig:
    """A VIDEO_CONFIG payload as :class:`VideoConfig`; raises ValueError if malformed."""
    if len(payload) > MAX_CONFIG_BYTES:
        raise ValueError("video_config too long")
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise ValueError("video_config is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("video_config is not a JSON object")
    return _config_from(data)
