"""What the Tight encoder needs to know about pixels, found in a few vectorised numpy passes.

Every question is asked of *packed* pixels: one ``uint32`` per pixel, ``0x00RRGGBB``
(:func:`pack_rgb`). Packing the RGB view of a BGRX capture is a single masked copy;
after it, "is this block one colour", "how many colours has this run" and "what is
the palette" are comparisons, one sort or a sample, never a Python loop per pixel:

* :func:`solid_blocks` -- which 64x64 blocks of an area are one colour, in one pass
  over the whole area (a reshape into blocks, one comparison with each block's first
  pixel);
* :func:`classify` -- fill, two colours, a palette of up to 256, or many colours
  trying the cheap answers first: a run of text is two colours after three passes,
  a photo is recognised from a 1-in-7 sample (more colours than a palette holds)
  before anything is sorted in full, and only a possible palette pays for one sort.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Classified", "PixelClass", "bgrx_view", "classify", "pack_rgb", "solid_blocks"]

Packed = npt.NDArray[np.uint32]

MAX_PALETTE = 256
_SAMPLE_STEP = 7  # prime, so the sample does not follow a tile's columns
_MIN_SAMPLED = 512  # below this many pixels, count every one
_PHOTO_COLOURS = 64


class PixelClass(Enum):
    """The kind of content a rectangle holds, which decides its Tight sub-encoding."""

    SOLID = "solid"
    MONO = "mono"
    PALETTE = "palette"
    MANY = "many"  # no palette fits, and JPEG is not allowed: full-colour zlib
    PHOTO = "photo"  # no palette fits, or many colours for the area: JPEG


@dataclass(frozen=True, slots=True)
class Classified:
    """A rectangle's class, and for SOLID/MONO/PALETTE its sorted colours and indices.

    ``palette`` holds packed colours; ``indices`` (H x W uint8) the index of each pixel.
    """

    kind: PixelClass
    palette: Packed | None = None
    indices: npt.NDArray[np.uint8] | None = None


def bgrx_view(rgb: npt.NDArray[Any]) -> npt.NDArray[np.uint8] | None:
    """The ``H x W x 4`` BGRX pixels behind ``rgb`` if it is the RGB view of a BGRX frame.

    That view (what the applet hands the engine: byte order reversed, a stride of 4)
    starts at each pixel's R byte; the B byte before it is the start of the pixel. None
    for any other layout.
    """
    if not (rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3):
        return None
    if rgb.strides[1] != 4 or rgb.strides[2] != -1 or not np.little_endian:
        return None
    h, w = rgb.shape[:2]
    bgr = rgb[:, :, ::-1]
    return np.lib.stride_tricks.as_strided(
        bgr, shape=(h, w, 4), strides=(bgr.strides[0], 4, 1), writeable=False
    )


def pack_rgb(rgb: npt.NDArray[Any]) -> Packed:
    """``H x W`` packed ``0x00RRGGBB`` pixels of an ``H x W x 3|4`` uint8 RGB array (a copy).

    The RGB view of a BGRX frame is read as the ``uint32`` it is and masked: one pass.
    Any other layout is combined channel by channel.
    """
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] < 3:
        raise ValueError(f"expected an HxWx3|4 uint8 array, got {rgb.dtype} {rgb.shape}")
    h, w = rgb.shape[:2]
    if h == 0 or w == 0:
        return np.zeros((h, w), dtype=np.uint32)
    bgrx = bgrx_view(rgb)
    if bgrx is not None:
        return bgrx.view(np.uint32)[:, :, 0] & np.uint32(0x00FFFFFF)
    r = rgb[:, :, 0].astype(np.uint32)
    g = rgb[:, :, 1].astype(np.uint32)
    b = rgb[:, :, 2].astype(np.uint32)
    r <<= 16
    g <<= 8
    r |= g
    r |= b
    return r


def solid_blocks(packed: Packed, size: int) -> tuple[npt.NDArray[np.bool_], Packed]:
    """Per ``size`` x ``size`` block of ``packed``: whether it is one colour, and its first pixel.

    Returns two ``(ceil(H/size), ceil(W/size))`` arrays. Whole blocks are compared in
    one pass; the ragged last row and column of blocks, if any, one block at a time.
    """
    h, w = packed.shape
    rows, cols = h // size, w // size
    bh, bw = -(-h // size), -(-w // size)
    solid = np.empty((bh, bw), dtype=np.bool_)
    colour = np.ascontiguousarray(packed[::size, ::size])
    if rows and cols:
        blocks = packed[: rows * size, : cols * size].reshape(rows, size, cols, size)
        solid[:rows, :cols] = (blocks == blocks[:, :1, :, :1]).all(axis=(1, 3))
    for by in range(bh):
        for bx in range(cols if by < rows else 0, bw):
            block = packed[by * size : (by + 1) * size, bx * size : (bx + 1) * size]
            solid[by, bx] = bool((block == block[0, 0]).all())
    return solid, colour


def classify(packed: Packed, *, photo_allowed: bool) -> Classified:
    """Find the cheapest lossless description of ``packed`` (H x W), or call it photo-like.

    With ``photo_allowed`` (the client takes JPEG and the format is 8-8-8) what no
    palette can hold, or what has many colours for its area (TightVNC's rule), is
    PHOTO; without, what no palette can hold is MANY.
    """
    flat = packed.reshape(-1)
    first = flat[0]
    differs = flat != first
    if not differs.any():
        return Classified(PixelClass.SOLID, flat[:1].copy(), None)
    second = flat[int(differs.argmax())]
    if bool(((flat == second) | ~differs).all()):
        # Two colours, the first pixel's first: the palette need not be sorted.
        palette = np.array([first, second], dtype=np.uint32)
        return Classified(PixelClass.MONO, palette, differs.astype(np.uint8).reshape(packed.shape))
    area = flat.size
    if area >= _MIN_SAMPLED:
        # A sample holds at most as many colours as the whole: past the palette's
        # limit there, no palette is possible and nothing needs sorting in full.
        sampled, _ = _distinct(flat[::_SAMPLE_STEP])
        if sampled > MAX_PALETTE:
            return Classified(PixelClass.PHOTO if photo_allowed else PixelClass.MANY)
    colours, (ordered, new) = _distinct(flat)
    if colours > MAX_PALETTE or (photo_allowed and _photo_like(colours, area)):
        return Classified(PixelClass.PHOTO if photo_allowed else PixelClass.MANY)
    palette = ordered[new]
    indices = np.searchsorted(palette, packed).astype(np.uint8)
    return Classified(PixelClass.PALETTE, palette, indices)


def _distinct(values: Packed) -> tuple[int, tuple[Packed, npt.NDArray[np.bool_]]]:
    """How many distinct values, with the sorted values and where each new one starts.

    A sort and a comparison: numpy's hashing ``unique`` is about 15x slower here.
    """
    ordered = np.sort(values)
    new = np.empty(ordered.size, dtype=np.bool_)
    new[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    return int(np.count_nonzero(new)), (ordered, new)


def _photo_like(colours: int, area: int) -> bool:
    """Many distinct colours for the area: palette coding pays little, JPEG pays off."""
    return colours > _PHOTO_COLOURS and colours * 8 > area
