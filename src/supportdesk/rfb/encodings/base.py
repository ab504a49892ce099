"""The one interface every pixel encoder implements, and the real encoding numbers."""

from __future__ import annotations

from enum import IntEnum
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from ..geometry import Rect
from ..pixel_format import PixelFormat

__all__ = ["Encoder", "EncodingType"]


class EncodingType(IntEnum):
    """Encoding-type numbers of real (pixel-carrying) encodings this core can send."""

    RAW = 0
    COPY_RECT = 1
    TIGHT = 7


class Encoder(Protocol):
    """Encodes one rectangle of RGB pixels into the body that follows its header.

    The caller first asks :meth:`subrects` how to cut an area of the frame,
    then calls :meth:`encode` on each piece, in order.
    """

    encoding: EncodingType

    def subrects(self, frame: npt.NDArray[np.uint8], area: Rect) -> list[Rect]:
        """Cut ``area`` of the H x W x 3 ``frame`` into the rectangles to encode."""
        ...

    def encode(self, rgb: npt.NDArray[np.uint8], pixel_format: PixelFormat) -> bytes:
        """Body bytes for the ``H x W x 3`` RGB array in the client's ``pixel_format``."""
        ...


def contiguous_rgb(rgb: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    """A C-contiguous ``H x W x 3`` uint8 copy-or-view of ``rgb``."""
    return np.ascontiguousarray(rgb[:, :, :3], dtype=np.uint8)
