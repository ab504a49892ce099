"""Tight encoding (7): fill, palette + zlib, full-colour zlib and JPEG sub-encodings.

Byte layout follows the Tight specification as decoded by noVNC
(``core/decoders/tight.js``) and TigerVNC:

* compression-control byte: bits 0-3 reset zlib streams 0-3, bits 4-7 the
  compression type: ``1000`` fill, ``1001`` JPEG, ``0fss`` basic compression
  with zlib stream ``ss`` and explicit filter flag ``f``;
* TPIXEL: 3 bytes R, G, B when the client format is 32 bpp, depth 24 and all
  maxima 255; otherwise a PIXEL in the client's format;
* data of fewer than 12 bytes goes out uncompressed; longer data goes through
  one of four zlib streams (each one deflate stream kept across rectangles,
  flushed with Z_SYNC_FLUSH) and is preceded by its length in the compact
  1-3 byte form.

Stream use: 0 full colour, 1 two-colour palette, 2 larger palettes.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt
import simplejpeg

from ..geometry import Rect
from ..pixel_format import PixelFormat
from .base import EncodingType, contiguous_rgb

__all__ = [
    "MAX_COMPACT_LENGTH",
    "TightEncoder",
    "TightSettings",
    "TightSubencoding",
    "encode_compact_length",
]

MAX_COMPACT_LENGTH = (1 << 22) - 1
_MIN_TO_COMPRESS = 12
_FILL = 0x80
_JPEG = 0x90
_EXPLICIT_FILTER = 0x40
_PALETTE_FILTER = 1
_MAX_PALETTE = 256
_MIN_JPEG_AREA = 64
_STREAM_FULL, _STREAM_MONO, _STREAM_INDEXED = 0, 1, 2


class TightSubencoding(Enum):
    """Which Tight method a rectangle went out with (for tests and statistics)."""

    FILL = "fill"
    MONO = "mono"
    PALETTE = "palette"
    FULL_COLOUR = "full-colour"
    JPEG = "jpeg"


def encode_compact_length(length: int) -> bytes:
    """Tight's compact length: 7 bits per byte, low first, high bit = more, at most 3 bytes."""
    if not 0 <= length <= MAX_COMPACT_LENGTH:
        raise ValueError(f"Tight data length {length} exceeds {MAX_COMPACT_LENGTH}")
    out = bytearray([length & 0x7F])
    if length > 0x7F:
        out[0] |= 0x80
        out.append((length >> 7) & 0x7F)
        if length > 0x3FFF:
            out[1] |= 0x80
            out.append(length >> 14)
    return bytes(out)


@dataclass(frozen=True, slots=True)
class TightSettings:
    """Client-chosen knobs: zlib level 0..9 and JPEG quality (None: never JPEG)."""

    compress_level: int = 2
    jpeg_quality: int | None = None
    jpeg_subsampling: str = "420"


def _tpixels_from_values(values: npt.NDArray[np.uint32], pf: PixelFormat) -> bytes:
    """TPIXEL bytes for pixel values already in the client's format."""
    if pf.is_rgb888:
        rgb = np.empty((values.shape[0], 3), dtype=np.uint8)
        rgb[:, 0] = (values >> np.uint32(pf.red_shift)) & 0xFF
        rgb[:, 1] = (values >> np.uint32(pf.green_shift)) & 0xFF
        rgb[:, 2] = (values >> np.uint32(pf.blue_shift)) & 0xFF
        return rgb.tobytes()
    order = ">" if pf.big_endian else "<"
    dtype = {8: "u1", 16: f"{order}u2", 32: f"{order}u4"}[pf.bits_per_pixel]
    return values.astype(dtype).tobytes()


@dataclass(frozen=True, slots=True)
class _BlockKey:
    """The solid colour of a block, or None for a block of several colours."""

    colour: tuple[int, ...] | None


def _is_photo_like(colours: int, area: int) -> bool:
    """Many distinct colours for the area: palette coding pays little, JPEG pays off."""
    return colours > 64 and colours * 8 > area


class TightEncoder:
    """Tight encoder for one connection: owns the four zlib streams' state.

    Tiles are limited to 2048 pixels wide and 65,536 pixels in area, as
    TightVNC and TigerVNC do, which keeps every length under the 22-bit
    compact-length limit.
    """

    encoding = EncodingType.TIGHT
    max_tile_width = 2048
    max_tile_area = 65536
    block_size = 64

    def subrects(self, frame: npt.NDArray[np.uint8], area: Rect) -> list[Rect]:
        """Cut ``area`` into bands of 64 rows, then into runs of 64-pixel blocks.

        Adjacent blocks of the same solid colour merge into one run (sent as a
        fill), adjacent non-solid blocks merge into another (palette, zlib or
        JPEG as their content says). Runs stay within the tile limits.
        """
        out: list[Rect] = []
        size = self.block_size
        max_run = min(self.max_tile_width, self.max_tile_area // size)
        for y in range(area.y, area.bottom, size):
            h = min(size, area.bottom - y)
            run_x, run_key = area.x, _BlockKey(None)
            for x in range(area.x, area.right, size):
                w = min(size, area.right - x)
                block = frame[y : y + h, x : x + w, :3]
                first = block[0, 0]
                key = _BlockKey(tuple(int(c) for c in first) if (block == first).all() else None)
                if x > run_x and (key != run_key or x + w - run_x > max_run):
                    out.append(Rect(run_x, y, x - run_x, h))
                    run_x = x
                run_key = key
            out.append(Rect(run_x, y, area.right - run_x, h))
        return out

    def __init__(self, settings: TightSettings | None = None) -> None:
        self.settings = settings or TightSettings()
        self._streams: list[Any] = [None, None, None, None]
        self._pending_reset = 0
        self.last_subencoding: TightSubencoding | None = None

    def configure(self, settings: TightSettings) -> None:
        """Apply new client settings; a new zlib level restarts the streams (with reset bits)."""
        if settings.compress_level != self.settings.compress_level:
            for i, stream in enumerate(self._streams):
                if stream is not None:
                    self._pending_reset |= 1 << i
                self._streams[i] = None
        self.settings = settings

    def restart_streams(self) -> None:
        """Start all four zlib streams afresh; the next rectangle tells the client to reset.

        After a recording keyframe (docs/recording-format.md, rule K2) every later
        rectangle must decode without the compression history from before it.
        """
        for i in range(4):
            self._streams[i] = None
        self._pending_reset = 0x0F

    def encode(self, rgb: npt.NDArray[Any], pixel_format: PixelFormat) -> bytes:
        """Body of one Tight rectangle (compression control byte onwards)."""
        height, width = rgb.shape[:2]
        if width > self.max_tile_width or width * height > self.max_tile_area:
            raise ValueError(f"Tight tile {width}x{height} exceeds the tile limits")
        values = pixel_format.pixel_values(rgb[:, :, :3]).reshape(-1)
        first = values[0]
        if bool((values == first).all()):
            self.last_subencoding = TightSubencoding.FILL
            return self._control(_FILL) + _tpixels_from_values(values[:1], pixel_format)
        palette, indices = np.unique(values, return_inverse=True)
        jpeg_ok = self._jpeg_allowed(pixel_format, width, height)
        photo_like = _is_photo_like(len(palette), width * height)
        if len(palette) <= _MAX_PALETTE and not (jpeg_ok and photo_like):
            return self._palette_rect(palette, indices.reshape(height, width), pixel_format)
        if jpeg_ok:
            return self._jpeg_rect(rgb)
        self.last_subencoding = TightSubencoding.FULL_COLOUR
        data = _tpixels_from_values(values, pixel_format)
        return self._control(_STREAM_FULL << 4) + self._compressed(_STREAM_FULL, data)

    # -- sub-encodings -------------------------------------------------------------

    def _palette_rect(
        self, palette: npt.NDArray[np.uint32], indices: npt.NDArray[Any], pf: PixelFormat
    ) -> bytes:
        if len(palette) == 2:
            self.last_subencoding = TightSubencoding.MONO
            stream = _STREAM_MONO
            data = np.packbits(indices.astype(np.uint8), axis=1).tobytes()
        else:
            self.last_subencoding = TightSubencoding.PALETTE
            stream = _STREAM_INDEXED
            data = indices.astype(np.uint8).tobytes()
        head = self._control((stream << 4) | _EXPLICIT_FILTER)
        head += bytes([_PALETTE_FILTER, len(palette) - 1]) + _tpixels_from_values(palette, pf)
        return head + self._compressed(stream, data)

    def _jpeg_rect(self, rgb: npt.NDArray[Any]) -> bytes:
        self.last_subencoding = TightSubencoding.JPEG
        quality = self.settings.jpeg_quality
        assert quality is not None
        image = contiguous_rgb(rgb)
        subsampling = self.settings.jpeg_subsampling
        if subsampling == "Gray":
            gray = image.astype(np.uint16) @ np.array([77, 150, 29], dtype=np.uint16) >> 8
            jpeg = simplejpeg.encode_jpeg(
                np.ascontiguousarray(gray.astype(np.uint8)[:, :, None]),
                quality=quality,
                colorspace="GRAY",
            )
        else:
            jpeg = simplejpeg.encode_jpeg(
                image, quality=quality, colorspace="RGB", colorsubsampling=subsampling
            )
        return self._control(_JPEG) + encode_compact_length(len(jpeg)) + bytes(jpeg)

    # -- helpers -------------------------------------------------------------------

    def _jpeg_allowed(self, pf: PixelFormat, width: int, height: int) -> bool:
        return (
            self.settings.jpeg_quality is not None
            and pf.is_rgb888
            and width * height >= _MIN_JPEG_AREA
        )

    def _control(self, value: int) -> bytes:
        byte = value | self._pending_reset
        self._pending_reset = 0
        return bytes([byte])

    def _compressed(self, stream_id: int, data: bytes) -> bytes:
        if len(data) < _MIN_TO_COMPRESS:
            return data
        stream = self._streams[stream_id]
        if stream is None:
            stream = zlib.compressobj(max(1, min(9, self.settings.compress_level)))
            self._streams[stream_id] = stream
        out: bytes = stream.compress(data) + stream.flush(zlib.Z_SYNC_FLUSH)
        return encode_compact_length(len(out)) + out
