"""The RFB PIXEL_FORMAT: its 16-byte wire form and conversion of RGB frames to it.

Frames handed to the core are numpy arrays of shape ``(height, width, 3)`` or
``(height, width, 4)``, dtype ``uint8``, channels in the order R, G, B (a fourth
channel is ignored). :meth:`PixelFormat.encode_pixels` turns such an array into
the byte layout a client asked for: 8, 16 or 32 bits per pixel, any channel
maxima and shifts, either byte order. Only true-colour formats exist here: a
client asking for a colour-map format is refused with
:class:`~supportdesk.rfb.errors.RemoteProtocolError`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .errors import RemoteProtocolError

__all__ = ["NATIVE_PIXEL_FORMAT", "PIXEL_FORMAT_SIZE", "PixelFormat", "as_rgb"]

PIXEL_FORMAT_SIZE = 16
_STRUCT = struct.Struct(">BBBBHHHBBB3x")

RGBArray = npt.NDArray[np.uint8]


def as_rgb(frame: npt.NDArray[Any]) -> RGBArray:
    """Check that ``frame`` is an H x W x 3|4 uint8 array and return its RGB view."""
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise ValueError(f"expected an HxWx3 or HxWx4 uint8 array, got {frame.dtype} {frame.shape}")
    return frame[:, :, :3]


@dataclass(frozen=True, slots=True)
class PixelFormat:
    """One RFB pixel format (RFC 6143, section 7.4), always true colour here."""

    bits_per_pixel: int
    depth: int
    big_endian: bool
    true_colour: bool
    red_max: int
    green_max: int
    blue_max: int
    red_shift: int
    green_shift: int
    blue_shift: int

    def __post_init__(self) -> None:
        problem = self.problem()
        if problem is not None:
            raise ValueError(problem)

    def problem(self) -> str | None:
        """Why this format cannot be served, or None if it is fine."""
        if not self.true_colour:
            return "colour-map pixel formats (true-colour-flag 0) are not supported"
        if self.bits_per_pixel not in (8, 16, 32):
            return f"bits-per-pixel must be 8, 16 or 32, not {self.bits_per_pixel}"
        if not 0 < self.depth <= self.bits_per_pixel:
            return f"depth {self.depth} does not fit {self.bits_per_pixel} bits per pixel"
        for name, cmax, shift in (
            ("red", self.red_max, self.red_shift),
            ("green", self.green_max, self.green_shift),
            ("blue", self.blue_max, self.blue_shift),
        ):
            if cmax <= 0 or cmax & (cmax + 1):
                return f"{name}-max {cmax} is not of the form 2**n - 1"
            if (cmax << shift) >> self.bits_per_pixel:
                return f"{name} channel (max {cmax}, shift {shift}) overflows the pixel"
        return None

    # -- wire form ---------------------------------------------------------------

    def pack(self) -> bytes:
        """The 16-byte PIXEL_FORMAT structure (big-endian fields, 3 padding bytes)."""
        return _STRUCT.pack(
            self.bits_per_pixel,
            self.depth,
            int(self.big_endian),
            int(self.true_colour),
            self.red_max,
            self.green_max,
            self.blue_max,
            self.red_shift,
            self.green_shift,
            self.blue_shift,
        )

    @classmethod
    def unpack(cls, data: bytes) -> PixelFormat:
        """Parse 16 bytes sent by a client; refuse anything we cannot serve.

        Raises :class:`RemoteProtocolError` for colour-map formats and for
        inconsistent true-colour formats. Non-zero boolean bytes count as true,
        as RFC 6143 says.
        """
        if len(data) != PIXEL_FORMAT_SIZE:
            raise ValueError(f"PIXEL_FORMAT is {PIXEL_FORMAT_SIZE} bytes, got {len(data)}")
        bpp, depth, be, tc, rmax, gmax, bmax, rs, gs, bs = _STRUCT.unpack(data)
        try:
            return cls(bpp, depth, be != 0, tc != 0, rmax, gmax, bmax, rs, gs, bs)
        except ValueError as exc:
            raise RemoteProtocolError(f"unusable pixel format: {exc}") from None

    # -- properties --------------------------------------------------------------

    @property
    def bytes_per_pixel(self) -> int:
        """Bytes of one PIXEL on the wire."""
        return self.bits_per_pixel // 8

    @property
    def is_rgb888(self) -> bool:
        """True for 32 bpp / depth 24 with all maxima 255: Tight then sends 3-byte TPIXELs."""
        return (
            self.bits_per_pixel == 32
            and self.depth == 24
            and self.red_max == self.green_max == self.blue_max == 255
        )

    @property
    def tight_pixel_size(self) -> int:
        """Bytes of one TPIXEL in the Tight encoding."""
        return 3 if self.is_rgb888 else self.bytes_per_pixel

    def _dtype(self) -> np.dtype[Any]:
        order = ">" if self.big_endian else "<"
        return np.dtype({8: "u1", 16: f"{order}u2", 32: f"{order}u4"}[self.bits_per_pixel])

    # -- conversion --------------------------------------------------------------

    def pixel_values(self, rgb: npt.NDArray[Any]) -> npt.NDArray[np.uint32]:
        """Pixel values (as integers) of an ``... x 3`` uint8 RGB array."""
        values = np.zeros(rgb.shape[:-1], dtype=np.uint32)
        for channel, cmax, shift in (
            (0, self.red_max, self.red_shift),
            (1, self.green_max, self.green_shift),
            (2, self.blue_max, self.blue_shift),
        ):
            component = rgb[..., channel].astype(np.uint32)
            if cmax != 255:
                component = (component * cmax + 127) // 255
            values |= component << np.uint32(shift)
        return values

    def encode_pixels(self, rgb: npt.NDArray[Any]) -> bytes:
        """PIXEL bytes, row-major, for an ``H x W x 3`` (or ``N x 3``) RGB array."""
        return self.pixel_values(rgb).astype(self._dtype()).tobytes()

    def encode_tight_pixels(self, rgb: npt.NDArray[Any]) -> bytes:
        """TPIXEL bytes: R, G, B for 888 formats, else the same as PIXEL bytes."""
        if self.is_rgb888:
            return np.ascontiguousarray(rgb[..., :3], dtype=np.uint8).tobytes()
        return self.encode_pixels(rgb)

    def decode_pixels(self, data: bytes, count: int | None = None) -> RGBArray:
        """Inverse of :meth:`encode_pixels`: an ``N x 3`` array of 8-bit RGB.

        Channels with a maximum below 255 are scaled back with rounding, so
        ``encode(decode(encode(x))) == encode(x)`` for every format.
        """
        values = np.frombuffer(data, dtype=self._dtype(), count=-1 if count is None else count)
        values = values.astype(np.uint32)
        out = np.empty((values.shape[0], 3), dtype=np.uint8)
        for channel, cmax, shift in (
            (0, self.red_max, self.red_shift),
            (1, self.green_max, self.green_shift),
            (2, self.blue_max, self.blue_shift),
        ):
            component = (values >> np.uint32(shift)) & np.uint32(cmax)
            out[:, channel] = (component * 255 + cmax // 2) // cmax
        return out


NATIVE_PIXEL_FORMAT = PixelFormat(
    bits_per_pixel=32,
    depth=24,
    big_endian=False,
    true_colour=True,
    red_max=255,
    green_max=255,
    blue_max=255,
    red_shift=16,
    green_shift=8,
    blue_shift=0,
)
"""What ServerInit announces: 32-bit BGRX, little-endian, 8 bits per channel."""
