"""CopyRect encoding (1): the rectangle's new content is copied from elsewhere on screen."""

from __future__ import annotations

import struct

from .base import EncodingType

__all__ = ["COPY_RECT", "encode_copyrect"]

COPY_RECT = EncodingType.COPY_RECT


def encode_copyrect(src_x: int, src_y: int) -> bytes:
    """Body of a CopyRect rectangle: U16 src-x-position, U16 src-y-position."""
    return struct.pack(">HH", src_x, src_y)
