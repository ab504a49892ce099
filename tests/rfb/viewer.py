"""A minimal RFB viewer for tests: builds client messages and decodes what the server sends.

Decodes Raw, CopyRect and Tight (fill, palette, zlib with the four persistent
streams and their reset bits, JPEG via simplejpeg) plus the DesktopSize,
ExtendedDesktopSize and Cursor pseudo-rectangles, independently of the
server's encoders.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simplejpeg

from supportdesk.rfb.pixel_format import PixelFormat

# -- client message builders ------------------------------------------------------------


def set_pixel_format(pf: PixelFormat) -> bytes:
    return b"\x00\x00\x00\x00" + pf.pack()


def set_encodings(*encodings: int) -> bytes:
    return struct.pack(">BxH", 2, len(encodings)) + struct.pack(f">{len(encodings)}i", *encodings)


def update_request(incremental: bool, x: int, y: int, w: int, h: int) -> bytes:
    return struct.pack(">BBHHHH", 3, int(incremental), x, y, w, h)


def key_event(down: bool, key: int) -> bytes:
    return struct.pack(">BBxxI", 4, int(down), key)


def pointer_event(mask: int, x: int, y: int) -> bytes:
    return struct.pack(">BBHH", 5, mask, x, y)


def client_cut_text(data: bytes) -> bytes:
    return struct.pack(">BxxxI", 6, len(data)) + data


def extended_clipboard(flags: int, payload: bytes = b"") -> bytes:
    """ClientCutText with a negative length, as noVNC writes Extended Clipboard messages."""
    body = struct.pack(">I", flags) + payload
    return struct.pack(">Bxxxi", 6, -len(body)) + body


def enable_continuous_updates(enable: bool, x: int, y: int, w: int, h: int) -> bytes:
    return struct.pack(">BBHHHH", 150, int(enable), x, y, w, h)


def client_fence(flags: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxIB", 248, flags, len(payload)) + payload


def set_desktop_size(w: int, h: int, screens: list[tuple[int, int, int, int, int, int]]) -> bytes:
    out = struct.pack(">BxHHBx", 251, w, h, len(screens))
    for screen in screens:
        out += struct.pack(">IHHHHI", *screen)
    return out


def encode_rect_header(x: int, y: int, w: int, h: int, encoding: int) -> bytes:
    return struct.pack(">HHHHi", x, y, w, h, encoding)


# -- decoding ---------------------------------------------------------------------------


class Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        assert self.pos + n <= len(self.data), "truncated server output"
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        s = struct.Struct(fmt)
        return s.unpack(self.take(s.size))

    @property
    def done(self) -> bool:
        return self.pos == len(self.data)


@dataclass
class Viewer:
    """Holds the client's idea of the framebuffer and decodes server messages into it."""

    width: int
    height: int
    pixel_format: PixelFormat
    fb: np.ndarray = field(init=False)
    zlib_streams: list[Any] = field(
        default_factory=lambda: [zlib.decompressobj() for _ in range(4)]
    )
    log: list[tuple[Any, ...]] = field(default_factory=list)
    rect_encodings: list[int] = field(default_factory=list)
    tight_kinds: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.fb = np.zeros((self.height, self.width, 3), dtype=np.uint8)

    def feed(self, data: bytes) -> None:
        r = Reader(data)
        while not r.done:
            (kind,) = r.unpack(">B")
            if kind == 0:
                self._update(r)
            elif kind == 2:
                self.log.append(("bell",))
            elif kind == 3:
                (length,) = r.unpack(">3xi")
                if length < 0:  # Extended Clipboard: flags, then the payload
                    body = r.take(-length)
                    self.log.append(("xclip", int.from_bytes(body[:4], "big"), body[4:]))
                else:
                    self.log.append(("cut", r.take(length).decode("latin-1")))
            elif kind == 150:
                self.log.append(("end-cu",))
            elif kind == 248:
                flags, length = r.unpack(">3xIB")
                self.log.append(("fence", flags, r.take(length)))
            else:
                raise AssertionError(f"unknown server message {kind}")

    def _update(self, r: Reader) -> None:
        (count,) = r.unpack(">xH")
        self.log.append(("update", count))
        for _ in range(count):
            x, y, w, h, enc = r.unpack(">HHHHi")
            self.rect_encodings.append(enc)
            if enc == 0:
                n = w * h * self.pixel_format.bytes_per_pixel
                pixels = self.pixel_format.decode_pixels(r.take(n))
                self.fb[y : y + h, x : x + w] = pixels.reshape(h, w, 3)
            elif enc == 1:
                sx, sy = r.unpack(">HH")
                self.fb[y : y + h, x : x + w] = self.fb[sy : sy + h, sx : sx + w].copy()
            elif enc == 7:
                self.fb[y : y + h, x : x + w] = self._tight(r, w, h)
            elif enc == -223:
                self._resize(w, h)
                self.log.append(("desktop-size", w, h))
            elif enc == -308:
                (n,) = r.unpack(">B3x")
                screens = [r.unpack(">IHHHHI") for _ in range(n)]
                if (w, h) != (self.width, self.height):
                    self._resize(w, h)
                self.log.append(("ext-desktop-size", x, y, w, h, screens))
            elif enc == -239:
                pixels = self.pixel_format.decode_pixels(
                    r.take(w * h * self.pixel_format.bytes_per_pixel)
                )
                mask = r.take((w + 7) // 8 * h)
                self.log.append(("cursor", x, y, pixels.reshape(h, w, 3), mask))
            else:
                raise AssertionError(f"unexpected encoding {enc}")

    def _resize(self, w: int, h: int) -> None:
        self.width, self.height = w, h
        self.fb = np.zeros((h, w, 3), dtype=np.uint8)

    # -- Tight -------------------------------------------------------------------------

    def _tpixel_size(self) -> int:
        return 3 if self.pixel_format.is_rgb888 else self.pixel_format.bytes_per_pixel

    def _tpixels(self, data: bytes) -> np.ndarray:
        if self.pixel_format.is_rgb888:
            return np.frombuffer(data, dtype=np.uint8).reshape(-1, 3)
        return self.pixel_format.decode_pixels(data)

    @staticmethod
    def _compact_length(r: Reader) -> int:
        (b,) = r.unpack(">B")
        length = b & 0x7F
        if b & 0x80:
            (b,) = r.unpack(">B")
            length |= (b & 0x7F) << 7
            if b & 0x80:
                (b,) = r.unpack(">B")
                length |= b << 14
        return length

    def _zlib_data(self, r: Reader, stream: int, size: int) -> bytes:
        if size < 12:
            return r.take(size)
        compressed = r.take(self._compact_length(r))
        out = self.zlib_streams[stream].decompress(compressed)
        assert len(out) == size, f"zlib gave {len(out)} bytes, expected {size}"
        return out

    def _tight(self, r: Reader, w: int, h: int) -> np.ndarray:
        (ctl,) = r.unpack(">B")
        for i in range(4):
            if ctl & (1 << i):
                self.zlib_streams[i] = zlib.decompressobj()
        ctl >>= 4
        tp = self._tpixel_size()
        if ctl == 0x08:
            self.tight_kinds.append("fill")
            colour = self._tpixels(r.take(tp))
            return np.broadcast_to(colour.reshape(1, 1, 3), (h, w, 3))
        if ctl == 0x09:
            self.tight_kinds.append("jpeg")
            jpeg = r.take(self._compact_length(r))
            image = simplejpeg.decode_jpeg(jpeg, colorspace="RGB")
            assert image.shape[:2] == (h, w)
            return image
        assert ctl & 0x08 == 0, f"illegal Tight compression {ctl:#x}"
        stream = ctl & 0x03
        filter_id = r.unpack(">B")[0] if ctl & 0x04 else 0
        if filter_id == 0:
            self.tight_kinds.append("copy")
            data = self._zlib_data(r, stream, w * h * tp)
            return self._tpixels(data).reshape(h, w, 3)
        assert filter_id == 1, f"unexpected Tight filter {filter_id}"
        (n,) = r.unpack(">B")
        n += 1
        palette = self._tpixels(r.take(n * tp))
        if n == 2:
            self.tight_kinds.append("mono")
            row = (w + 7) // 8
            data = self._zlib_data(r, stream, row * h)
            bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8).reshape(h, row), axis=1)
            indices = bits[:, :w]
        else:
            self.tight_kinds.append("palette")
            data = self._zlib_data(r, stream, w * h)
            indices = np.frombuffer(data, dtype=np.uint8).reshape(h, w)
            assert int(indices.max()) < n
        return palette[indices]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    if mse == 0:
        return float("inf")
    return 10 * float(np.log10(255.0**2 / mse))
