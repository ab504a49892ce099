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
from .tight_classify import PixelClass, bgrx_view, classify, pack_rgb, solid_blocks

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
_MIN_JPEG_AREA = 64
_STREAM_FULL, _STREAM_MONO, _STREAM_INDEXED = 0, 1, 2
_KEEP_PACKED = 64  # areas whose packed pixels subrects keeps for encode


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
    """Knobs: zlib level 0..9, JPEG quality (None: never JPEG) and subsampling."""

    compress_level: int = 2
    jpeg_quality: int | None = None
    jpeg_subsampling: str = "420"
    photo_subsampling: str | None = None
    """Subsampling for JPEG rectangles of a moving picture (None: ``jpeg_subsampling``).

    The server sets "420" because it refreshes JPEG areas losslessly once they stop
    changing: what moves goes out smaller, what stays is exact.
    """


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


def _tpixels_from_packed(packed: npt.NDArray[np.uint32], pf: PixelFormat) -> bytes:
    """TPIXEL bytes for packed ``0x00RRGGBB`` colours (a palette, a fill)."""
    rgb = packed.astype(">u4").view(np.uint8).reshape(-1, 4)[:, 1:]
    if pf.is_rgb888:
        return rgb.tobytes()
    return _tpixels_from_values(pf.pixel_values(rgb), pf)


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
        JPEG as their content says); a non-solid run directly below one of the
        same columns joins it while the tile limits allow (fewer JPEG headers for
        a photo). Which blocks are solid is found for the whole area at once.
        """
        if area.is_empty:
            return []
        size = self.block_size
        packed = pack_rgb(frame[area.y : area.bottom, area.x : area.right])
        self._packed_areas.append((area, packed))
        del self._packed_areas[:-_KEEP_PACKED]
        solid, colour = solid_blocks(packed, size)
        solid_rows, colour_rows = solid.tolist(), colour.tolist()
        max_run = min(self.max_tile_width, self.max_tile_area // size)
        out: list[Rect] = []
        above: dict[tuple[int, int], int] = {}  # open non-solid run (x, width) -> index in out
        for by, y in enumerate(range(area.y, area.bottom, size)):
            h = min(size, area.bottom - y)
            row_solid, row_colour = solid_rows[by], colour_rows[by]
            runs: list[tuple[int, int, bool]] = []
            run_x, run_key = area.x, -1
            for bx, x in enumerate(range(area.x, area.right, size)):
                w = min(size, area.right - x)
                key = row_colour[bx] if row_solid[bx] else -1
                if x > run_x and (key != run_key or x + w - run_x > max_run):
                    runs.append((run_x, x - run_x, run_key >= 0))
                    run_x = x
                run_key = key
            runs.append((run_x, area.right - run_x, run_key >= 0))
            below: dict[tuple[int, int], int] = {}
            for x, w, is_solid in runs:
                index = above.get((x, w))
                if not is_solid and index is not None:
                    prev = out[index]
                    if (prev.height + h) * w <= self.max_tile_area:
                        out[index] = Rect(x, prev.y, w, prev.height + h)
                        below[(x, w)] = index
                        continue
                if not is_solid:
                    below[(x, w)] = len(out)
                out.append(Rect(x, y, w, h))
            above = below
        return out

    def __init__(self, settings: TightSettings | None = None) -> None:
        self.settings = settings or TightSettings()
        self._streams: list[Any] = [None, None, None, None]
        self._pending_reset = 0
        self.last_subencoding: TightSubencoding | None = None
        self._packed_areas: list[tuple[Rect, npt.NDArray[np.uint32]]] = []

    def packed_tile(self, tile: Rect) -> npt.NDArray[np.uint32] | None:
        """The packed pixels of ``tile`` if a recent :meth:`subrects` cut it (else None).

        Pass them to :meth:`encode` so the tile is not packed a second time.
        """
        for area, packed in reversed(self._packed_areas):
            if area.contains(tile):
                y, x = tile.y - area.y, tile.x - area.x
                return packed[y : y + tile.height, x : x + tile.width]
        return None

    def forget_packed(self) -> None:
        """Drop the pixels kept by :meth:`subrects` (call when the update is encoded)."""
        self._packed_areas.clear()

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

    def encode(
        self,
        rgb: npt.NDArray[Any],
        pixel_format: PixelFormat,
        *,
        lossless: bool = False,
        moving: bool = False,
        packed: npt.NDArray[np.uint32] | None = None,
    ) -> bytes:
        """Body of one Tight rectangle (compression control byte onwards).

        ``lossless`` forbids JPEG for this rectangle (a refresh of a region that was
        sent as JPEG while it moved); ``moving`` says the picture there is changing
        from update to update, so JPEG uses ``photo_subsampling`` if one is set.
        ``packed`` are the same pixels from :meth:`packed_tile`, if at hand.
        """
        height, width = rgb.shape[:2]
        if width > self.max_tile_width or width * height > self.max_tile_area:
            raise ValueError(f"Tight tile {width}x{height} exceeds the tile limits")
        jpeg_ok = not lossless and self._jpeg_allowed(pixel_format, width, height)
        found = classify(pack_rgb(rgb) if packed is None else packed, photo_allowed=jpeg_ok)
        kind = found.kind
        if kind is PixelClass.SOLID:
            assert found.palette is not None
            self.last_subencoding = TightSubencoding.FILL
            return self._control(_FILL) + _tpixels_from_packed(found.palette, pixel_format)
        if kind is PixelClass.MONO or kind is PixelClass.PALETTE:
            assert found.palette is not None and found.indices is not None
            return self._palette_rect(found.palette, found.indices, pixel_format)
        if jpeg_ok:
            return self._jpeg_rect(rgb, moving)
        self.last_subencoding = TightSubencoding.FULL_COLOUR
        if pixel_format.is_rgb888:
            data = np.ascontiguousarray(rgb[:, :, :3], dtype=np.uint8).tobytes()
        else:
            values = pixel_format.pixel_values(rgb[:, :, :3]).reshape(-1)
            data = _tpixels_from_values(values, pixel_format)
        return self._control(_STREAM_FULL << 4) + self._compressed(_STREAM_FULL, data)

    # -- sub-encodings -------------------------------------------------------------

    def _palette_rect(
        self, palette: npt.NDArray[np.uint32], indices: npt.NDArray[Any], pf: PixelFormat
    ) -> bytes:
        if len(palette) == 2:
            self.last_subencoding = TightSubencoding.MONO
            stream = _STREAM_MONO
            data = np.packbits(indices, axis=1).tobytes()
        else:
            self.last_subencoding = TightSubencoding.PALETTE
            stream = _STREAM_INDEXED
            data = indices.tobytes()
        head = self._control((stream << 4) | _EXPLICIT_FILTER)
        head += bytes([_PALETTE_FILTER, len(palette) - 1]) + _tpixels_from_packed(palette, pf)
        return head + self._compressed(stream, data)

    def _jpeg_rect(self, rgb: npt.NDArray[Any], moving: bool) -> bytes:
        self.last_subencoding = TightSubencoding.JPEG
        quality = self.settings.jpeg_quality
        assert quality is not None
        subsampling = self.settings.jpeg_subsampling
        if moving and self.settings.photo_subsampling is not None:
            subsampling = self.settings.photo_subsampling
        bgrx = bgrx_view(rgb)
        if bgrx is not None and subsampling != "Gray":
            # libjpeg-turbo reads BGRX as it is: no RGB copy (a third of the time).
            jpeg = simplejpeg.encode_jpeg(
                bgrx, quality=quality, colorspace="BGRX", colorsubsampling=subsampling
            )
            return self._control(_JPEG) + encode_compact_length(len(jpeg)) + bytes(jpeg)
        image = contiguous_rgb(rgb)
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
