"""How an update's changed rectangles go out as pixels: Raw or Tight, JPEG or exact.

The connection decides which rectangles an update carries; this decides how each one's
pixels are written. Tight (when the viewer prefers it) sends a moving picture as JPEG
where the viewer already shows JPEG from a recent update, and exactly what a lossless
refresh asks for; it remembers which areas the viewer shows from JPEG
(:mod:`.lossy_areas`), so the I/O shell can have them sent again exactly once they rest
(TurboVNC's lossless refresh).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy.typing as npt

from .encodings.base import Encoder, EncodingType
from .encodings.pseudo import EncodingPreferences
from .encodings.raw import RawEncoder
from .encodings.tight import TightEncoder, TightSettings, TightSubencoding
from .geometry import Rect
from .lossy_areas import LossyAreas
from .messages import encode_rectangle_header
from .pixel_format import PixelFormat

__all__ = ["PixelRects"]


class PixelRects:
    """The pixel encoders of one connection and what they left lossy."""

    def __init__(self) -> None:
        self._raw = RawEncoder()
        self.tight = TightEncoder()
        self._lossy = LossyAreas()
        self._lossless: list[Rect] = []
        """Areas a lossless refresh asked for that have not all gone out yet."""

    def configure(self, prefs: EncodingPreferences) -> None:
        """Take the viewer's SetEncodings: its compression and JPEG quality levels."""
        self.tight.configure(
            TightSettings(
                compress_level=prefs.compress_level if prefs.compress_level is not None else 2,
                jpeg_quality=prefs.jpeg_quality,
                jpeg_subsampling=prefs.jpeg_subsampling,
                # A high quality level (4:4:4) leaves room: a moving picture goes out in
                # 4:2:0, the lossless refresh follows when it rests. An explicit
                # subsampling, or a level that already subsamples, is kept as asked.
                photo_subsampling=(
                    "420" if prefs.subsampling is None and prefs.jpeg_subsampling == "444" else None
                ),
            )
        )

    def encoder(self, prefs: EncodingPreferences) -> Encoder:
        """The encoder for the viewer's preferred encoding (Raw unless it prefers Tight)."""
        return self.tight if prefs.preferred is EncodingType.TIGHT else self._raw

    def write(
        self,
        out: bytearray,
        rgb: npt.NDArray[Any],
        tiles: Sequence[Rect],
        encoder: Encoder,
        pixel_format: PixelFormat,
        still_damaged: Callable[[Rect], bool],
    ) -> None:
        """Append each tile's rectangle (header and pixels) to ``out``.

        ``still_damaged`` says whether an area still waits to be sent (an update cut by
        its budget): a lossless refresh stays asked for until its last part went out.
        """
        lossless = self._lossless
        self._lossless = [r for r in lossless if still_damaged(r)]
        tight = encoder is self.tight
        for tile in tiles:
            out += encode_rectangle_header(
                tile.x, tile.y, tile.width, tile.height, encoder.encoding
            )
            pixels = rgb[tile.y : tile.bottom, tile.x : tile.right]
            if not tight:
                out += encoder.encode(pixels, pixel_format)
                continue
            exact = any(not tile.intersect(r).is_empty for r in lossless)
            # Where the viewer already has JPEG from a recent update, the picture moves.
            moving = not exact and self._lossy.overlaps(tile)
            out += self.tight.encode(
                pixels,
                pixel_format,
                lossless=exact,
                moving=moving,
                packed=self.tight.packed_tile(tile),
            )
            self._lossy.sent(tile, lossy=self.tight.last_subencoding is TightSubencoding.JPEG)
        self.tight.forget_packed()

    @property
    def lossy_bounds(self) -> Rect | None:
        """The bounding box of what the viewer shows from JPEG and was not sent exactly since."""
        return self._lossy.bounds

    @property
    def lossy_sent(self) -> int:
        """How many rectangles went out as JPEG so far; it grows while a picture moves."""
        return self._lossy.added

    def refresh_lossy(self) -> list[Rect]:
        """The areas the viewer shows from JPEG, to be sent exactly from now on (and
        forgotten as lossy); empty if there are none."""
        rects = self._lossy.take()
        self._lossless.extend(rects)
        return rects
