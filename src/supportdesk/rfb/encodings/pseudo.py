"""Pseudo-encodings: their numbers, what a SetEncodings list means, and pseudo-rectangles.

A pseudo-encoding in SetEncodings announces a capability rather than a way to
send pixels. :class:`EncodingPreferences` condenses a SetEncodings list into
what the server needs: the preferred real encoding, CopyRect support, Tight
quality and compression, and which extensions the client understands.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from ..messages import Screen, encode_rectangle_header
from ..pixel_format import PixelFormat
from .base import EncodingType

__all__ = [
    "JPEG_LEVELS",
    "DesktopSizeReason",
    "DesktopSizeStatus",
    "EncodingPreferences",
    "PseudoEncoding",
    "encode_cursor_rect",
    "encode_desktop_size_rect",
    "encode_extended_desktop_size_rect",
]


class PseudoEncoding(IntEnum):
    """Pseudo-encoding numbers this core understands (ranges by their first member)."""

    QUALITY_LEVEL_0 = -32  # .. -23 for levels 0..9
    QUALITY_LEVEL_9 = -23
    DESKTOP_SIZE = -223
    LAST_RECT = -224
    CURSOR = -239
    COMPRESS_LEVEL_0 = -256  # .. -247 for levels 0..9
    COMPRESS_LEVEL_9 = -247
    EXTENDED_DESKTOP_SIZE = -308
    FENCE = -312
    CONTINUOUS_UPDATES = -313
    FINE_QUALITY_0 = -512  # .. -412 for JPEG quality 0..100
    FINE_QUALITY_100 = -412
    SUBSAMPLING_NONE = -768  # .. -763: none, 4X, 2X, gray, 8X, 16X
    SUBSAMPLING_16X = -763


class DesktopSizeReason(IntEnum):
    """ExtendedDesktopSize x-position: why the size changed."""

    SERVER = 0
    THIS_CLIENT = 1
    OTHER_CLIENT = 2


class DesktopSizeStatus(IntEnum):
    """ExtendedDesktopSize y-position: the result of a SetDesktopSize request."""

    OK = 0
    PROHIBITED = 1
    OUT_OF_RESOURCES = 2
    INVALID_LAYOUT = 3


JPEG_LEVELS: tuple[tuple[int, str], ...] = (
    (15, "420"),
    (29, "420"),
    (41, "420"),
    (42, "422"),
    (62, "422"),
    (77, "422"),
    (79, "444"),
    (86, "444"),
    (92, "444"),
    (100, "444"),
)
"""JPEG quality and chroma subsampling per Tight quality level 0..9 (TurboVNC's table)."""

_SUBSAMPLING = {0: "444", 1: "420", 2: "422", 3: "Gray", 4: "420", 5: "420"}
"""Fine subsampling levels; 8X and 16X fall back to 4:2:0, the coarsest libjpeg offers."""


@dataclass(frozen=True, slots=True)
class EncodingPreferences:
    """What a client's SetEncodings list asks of the server."""

    preferred: EncodingType = EncodingType.RAW
    copy_rect: bool = False
    quality_level: int | None = None
    compress_level: int | None = None
    fine_quality: int | None = None
    subsampling: int | None = None
    desktop_size: bool = False
    extended_desktop_size: bool = False
    cursor: bool = False
    last_rect: bool = False
    continuous_updates: bool = False
    fence: bool = False

    @classmethod
    def from_encodings(cls, encodings: Sequence[int]) -> EncodingPreferences:
        """Condense a SetEncodings list; the first entry of each kind wins."""
        preferred: EncodingType | None = None
        quality = compress = fine = subsampling = None
        for enc in encodings:
            if preferred is None and enc in (EncodingType.TIGHT, EncodingType.RAW):
                preferred = EncodingType(enc)
            elif quality is None and -32 <= enc <= -23:
                quality = enc + 32
            elif compress is None and -256 <= enc <= -247:
                compress = enc + 256
            elif fine is None and -512 <= enc <= -412:
                fine = enc + 512
            elif subsampling is None and -768 <= enc <= -763:
                subsampling = enc + 768
        present = set(encodings)
        return cls(
            preferred=preferred if preferred is not None else EncodingType.RAW,
            copy_rect=EncodingType.COPY_RECT in present,
            quality_level=quality,
            compress_level=compress,
            fine_quality=fine,
            subsampling=subsampling,
            desktop_size=PseudoEncoding.DESKTOP_SIZE in present,
            extended_desktop_size=PseudoEncoding.EXTENDED_DESKTOP_SIZE in present,
            cursor=PseudoEncoding.CURSOR in present,
            last_rect=PseudoEncoding.LAST_RECT in present,
            continuous_updates=PseudoEncoding.CONTINUOUS_UPDATES in present,
            fence=PseudoEncoding.FENCE in present,
        )

    @property
    def jpeg_quality(self) -> int | None:
        """JPEG quality 1..100 for Tight, or None if the client did not ask for JPEG."""
        if self.fine_quality is not None:
            return max(1, self.fine_quality)
        if self.quality_level is not None:
            return JPEG_LEVELS[self.quality_level][0]
        return None

    @property
    def jpeg_subsampling(self) -> str:
        """Chroma subsampling for simplejpeg ("444", "422", "420" or "Gray")."""
        if self.subsampling is not None:
            return _SUBSAMPLING[self.subsampling]
        if self.quality_level is not None:
            return JPEG_LEVELS[self.quality_level][1]
        return "420"


def encode_desktop_size_rect(width: int, height: int) -> bytes:
    """DesktopSize pseudo-rectangle: header only, carrying the new size."""
    return encode_rectangle_header(0, 0, width, height, PseudoEncoding.DESKTOP_SIZE)


def encode_extended_desktop_size_rect(
    reason: DesktopSizeReason,
    status: DesktopSizeStatus,
    width: int,
    height: int,
    screens: Sequence[Screen],
) -> bytes:
    """ExtendedDesktopSize pseudo-rectangle: header, U8 screen count, padding, screens."""
    header = encode_rectangle_header(
        reason, status, width, height, PseudoEncoding.EXTENDED_DESKTOP_SIZE
    )
    body = struct.pack(">B3x", len(screens)) + b"".join(s.pack() for s in screens)
    return header + body


def encode_cursor_rect(
    hotspot_x: int, hotspot_y: int, rgba: npt.NDArray[np.uint8], pixel_format: PixelFormat
) -> bytes:
    """Cursor pseudo-rectangle: PIXELs of the image, then a 1-bit opacity mask, MSB first.

    ``rgba`` is ``H x W x 4``; alpha >= 128 counts as opaque.
    """
    height, width = rgba.shape[:2]
    header = encode_rectangle_header(hotspot_x, hotspot_y, width, height, PseudoEncoding.CURSOR)
    pixels = pixel_format.encode_pixels(rgba[:, :, :3])
    mask = np.packbits(rgba[:, :, 3] >= 128, axis=1).tobytes()
    return header + pixels + mask
