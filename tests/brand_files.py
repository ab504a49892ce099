"""Logo files for the branding tests: a real PNG written byte by byte and a small SVG."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


def png_bytes(width: int = 4, height: int = 2, rgb: tuple[int, int, int] = (200, 30, 40)) -> bytes:
    """A valid truecolour PNG of one colour (signature, IHDR, IDAT, IEND with CRCs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def write_png(folder: Path, name: str = "logo.png", **kwargs: object) -> Path:
    path = folder / name
    path.write_bytes(png_bytes(**kwargs))  # type: ignore[arg-type]
    return path


# A wide mark in the test bank's own colours, drawn for these tests.
TEST_SVG = """<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 40" width="120" height="40">
  <rect width="120" height="40" rx="6" fill="#ffffff"/>
  <circle cx="20" cy="20" r="12" fill="#7a1f5c"/>
  <rect x="40" y="12" width="70" height="16" rx="3" fill="#0b6e4f"/>
</svg>
"""


def write_svg(folder: Path, name: str = "logo.svg", text: str = TEST_SVG) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
