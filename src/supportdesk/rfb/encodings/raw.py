"""Raw encoding (0): every pixel in the client's pixel format, row by row."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..geometry import Rect
from ..pixel_format import PixelFormat
from .base import EncodingType

__all__ = ["RawEncoder"]


class RawEncoder:
    """Stateless Raw encoder; every client supports it (RFC 6143 section 7.7.1)."""

    encoding = EncodingType.RAW

    def subrects(self, frame: npt.NDArray[np.uint8], area: Rect) -> list[Rect]:
        """Tiles of at most 64 Ki pixels, so no single rectangle gets huge."""
        return list(area.tiles(0xFFFF, 1 << 16))

    def encode(self, rgb: npt.NDArray[np.uint8], pixel_format: PixelFormat) -> bytes:
        """Width x height PIXELs, left to right, top to bottom."""
        return pixel_format.encode_pixels(rgb)
