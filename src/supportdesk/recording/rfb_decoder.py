"""A sans-I/O decoder of a recorded server-to-client RFB stream: framing and pixels.

Feed it bytes in any pieces; it returns each complete server message (handshake
included) as it ends, and keeps a framebuffer up to date: Raw, CopyRect and Tight
(fill, palette, basic zlib over the four persistent streams with their reset bits,
JPEG via simplejpeg), plus DesktopSize, ExtendedDesktopSize, Cursor and LastRect.
With ``decode_pixels=False`` it only finds message boundaries (the player feed),
which costs no zlib or JPEG work. Parsing is a generator that reads like blocking
code (``yield from self._read(n)``), as in ``websockets``' parser, so a message
split anywhere parses the same.

Based on the independent test viewer in ``tests/rfb/viewer.py``; the handshake is
the applet's engine's (3.8 offered, security type None) in the shape the viewer's
version gave it.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Generator
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt
import simplejpeg

from supportdesk.rfb.client_parser import ClientMessageParser
from supportdesk.rfb.errors import RemoteProtocolError
from supportdesk.rfb.handshake import (
    SECURITY_NONE,
    SERVER_VERSION,
    ProtocolVersion,
    ServerState,
    encode_security_result,
    encode_security_types,
)
from supportdesk.rfb.handshake_reader import HandshakeReader
from supportdesk.rfb.messages import ClientMessage, SetPixelFormat
from supportdesk.rfb.pixel_format import PixelFormat

from .errors import PlaybackError

__all__ = [
    "ClientStreamTracker",
    "ServerInit",
    "ServerMessage",
    "ServerMessageKind",
    "ServerStreamDecoder",
]

_TIGHT_MIN_TO_COMPRESS = 12
Reading = Generator[None, None, bytes]
Frame = npt.NDArray[np.uint8]


class ServerMessageKind(Enum):
    HANDSHAKE = "handshake"
    FRAMEBUFFER_UPDATE = "framebuffer-update"
    COLOUR_MAP = "set-colour-map-entries"
    BELL = "bell"
    CUT_TEXT = "server-cut-text"
    END_OF_CONTINUOUS_UPDATES = "end-of-continuous-updates"
    FENCE = "server-fence"


@dataclass(frozen=True, slots=True)
class ServerInit:
    width: int
    height: int
    pixel_format: PixelFormat
    name: str


@dataclass(frozen=True, slots=True)
class ServerMessage:
    kind: ServerMessageKind
    raw: bytes
    """The message's exact bytes (for HANDSHAKE: version through ServerInit)."""


class ServerStreamDecoder:
    """Decodes one channel's server-to-client bytes; start at the stream's beginning,
    or after the handshake by passing the ``server_init`` in effect (keyframe start)."""

    def __init__(
        self, *, decode_pixels: bool = True, server_init: ServerInit | None = None
    ) -> None:
        self.decode_pixels = decode_pixels
        self.server_init = server_init
        self.pixel_format: PixelFormat | None = None
        self.width = self.height = 0
        self.framebuffer: Frame | None = None
        self.updates = 0
        self._zlib: list[Any] = [zlib.decompressobj() for _ in range(4)]
        self._buf = bytearray()
        self._pos = 0
        self._reset_next_tight = False
        self._out: list[ServerMessage] = []
        if server_init is not None:
            self._apply_server_init(server_init)
        self._parser = self._parse(handshake=server_init is None)
        next(self._parser)

    def feed(self, data: bytes) -> list[ServerMessage]:
        """Parse ``data``; return the messages it completed. Raises PlaybackError."""
        self._buf += data
        try:
            self._parser.send(None)
        except StopIteration:
            raise PlaybackError("decoder stopped") from None
        except (ValueError, IndexError, zlib.error, RemoteProtocolError) as exc:
            raise PlaybackError(f"undecodable RFB stream: {exc}") from exc
        out, self._out = self._out, []
        return out

    def force_zlib_reset(self) -> None:
        """Make the next Tight rectangle reset all four zlib streams, in its bytes too.

        For playback from a keyframe: the keyframe's own rectangles leave history in
        the viewer's streams, while the applet restarted its live streams right
        after the snapshot. Setting all four reset bits on the first live Tight
        rectangle (patched in the message bytes this decoder returns) makes the
        viewer's streams match the applet's fresh ones.
        """
        self._reset_next_tight = True

    def set_pixel_format(self, pixel_format: PixelFormat) -> None:
        """The viewer's SetPixelFormat: updates from now on arrive in this format."""
        self.pixel_format = pixel_format

    @property
    def buffered(self) -> int:
        """Bytes of an unfinished message held back."""
        return len(self._buf) - self._pos

    # -- reading -----------------------------------------------------------------------

    def _read(self, n: int) -> Reading:
        while len(self._buf) - self._pos < n:
            yield
        start = self._pos
        self._pos += n
        return bytes(self._buf[start : self._pos])

    def _unpack(self, fmt: str) -> Generator[None, None, tuple[Any, ...]]:
        s = struct.Struct(fmt)
        return s.unpack((yield from self._read(s.size)))

    def _emit(self, kind: ServerMessageKind) -> None:
        self._out.append(ServerMessage(kind, bytes(self._buf[: self._pos])))
        del self._buf[: self._pos]
        self._pos = 0

    # -- messages ----------------------------------------------------------------------

    def _parse(self, handshake: bool) -> Generator[None, None, None]:
        yield  # primed by __init__
        if handshake:
            yield from self._handshake()
            self._emit(ServerMessageKind.HANDSHAKE)
        while True:
            (kind,) = yield from self._unpack(">B")
            if kind == 0:
                yield from self._update()
                self._emit(ServerMessageKind.FRAMEBUFFER_UPDATE)
            elif kind == 1:
                _, n = yield from self._unpack(">xHH")
                yield from self._read(6 * n)
                self._emit(ServerMessageKind.COLOUR_MAP)
            elif kind == 2:
                self._emit(ServerMessageKind.BELL)
            elif kind == 3:
                (length,) = yield from self._unpack(">3xi")
                yield from self._read(abs(length))
                self._emit(ServerMessageKind.CUT_TEXT)
            elif kind == 150:
                self._emit(ServerMessageKind.END_OF_CONTINUOUS_UPDATES)
            elif kind == 248:
                _, length = yield from self._unpack(">3xIB")
                yield from self._read(length)
                self._emit(ServerMessageKind.FENCE)
            else:
                raise PlaybackError(f"unknown server message type {kind}")

    def _handshake(self) -> Generator[None, None, None]:
        """The engine's side of the handshake, in the shape it has for the client's version.

        The engine (``rfb/server.py``, with the encoders of ``rfb/handshake.py``) always
        speaks 3.8 first and offers only security type None; what follows depends on
        the version the client chose (mapped by the shared ``HandshakeReader``): 3.3
        gets the chosen type as a U32, 3.7 the list of types, 3.8 the list and then a
        SecurityResult. A ServerInit never starts with two zero bytes (width >= 1), so
        the three shapes cannot be mistaken for one another.
        """
        version = yield from self._read(12)
        if version != SERVER_VERSION.value:
            raise PlaybackError(f"unsupported recorded RFB version {version!r}")
        first = yield from self._read(1)
        if first == b"\0":  # 3.3 (and every 3.x mapped to it)
            chosen = first + (yield from self._read(3))
            if chosen != SECURITY_NONE.to_bytes(4, "big"):
                raise PlaybackError("the recorded connection did not use security type None")
        else:
            offered = first + (yield from self._read(first[0]))
            if offered != encode_security_types():
                raise PlaybackError("the recorded connection did not offer security type None")
            result = yield from self._read(4)
            if result == encode_security_result(True):
                pass  # 3.8
            elif result[:2] == b"\0\0":
                raise PlaybackError("the recorded connection failed its security handshake")
            else:
                self._pos -= 4  # 3.7: no SecurityResult; that was the ServerInit
        width, height, pf_bytes, name_length = yield from self._unpack(">HH16sI")
        name = yield from self._read(name_length)
        init = ServerInit(
            width, height, PixelFormat.unpack(pf_bytes), name.decode("utf-8", "replace")
        )
        self.server_init = init
        self._apply_server_init(init)

    def _apply_server_init(self, init: ServerInit) -> None:
        self.pixel_format = init.pixel_format
        self._resize(init.width, init.height)

    def _resize(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        if self.decode_pixels:
            self.framebuffer = np.zeros((height, width, 3), dtype=np.uint8)

    # -- rectangles --------------------------------------------------------------------

    def _update(self) -> Generator[None, None, None]:
        (count,) = yield from self._unpack(">xH")
        for _ in range(count):
            x, y, w, h, encoding = yield from self._unpack(">HHHHi")
            if encoding == -224:  # LastRect
                break
            if encoding in (0, 1, 7) and (x + w > self.width or y + h > self.height):
                raise PlaybackError(f"rectangle {w}x{h}+{x}+{y} outside the framebuffer")
            if encoding == 0:
                yield from self._raw(x, y, w, h)
            elif encoding == 1:
                sx, sy = yield from self._unpack(">HH")
                if sx + w > self.width or sy + h > self.height:  # CVE-2019-15692's class
                    raise PlaybackError(
                        f"CopyRect source {w}x{h}+{sx}+{sy} outside the framebuffer"
                    )
                if self.framebuffer is not None:
                    fb = self.framebuffer
                    fb[y : y + h, x : x + w] = fb[sy : sy + h, sx : sx + w].copy()
            elif encoding == 7:
                pixels = yield from self._tight(w, h)
                if pixels is not None and self.framebuffer is not None:
                    self.framebuffer[y : y + h, x : x + w] = pixels
            elif encoding == -223:
                self._resize(w, h)
            elif encoding == -308:
                (n,) = yield from self._unpack(">B3x")
                yield from self._read(16 * n)
                if (w, h) != (self.width, self.height):
                    self._resize(w, h)
            elif encoding == -239:
                yield from self._read(w * h * self._pf.bytes_per_pixel + (w + 7) // 8 * h)
            else:
                raise PlaybackError(f"unsupported encoding {encoding}")
        self.updates += 1

    @property
    def _pf(self) -> PixelFormat:
        if self.pixel_format is None:
            raise PlaybackError("update before the pixel format is known")
        return self.pixel_format

    def _raw(self, x: int, y: int, w: int, h: int) -> Generator[None, None, None]:
        data = yield from self._read(w * h * self._pf.bytes_per_pixel)
        if self.framebuffer is not None:
            self.framebuffer[y : y + h, x : x + w] = self._pf.decode_pixels(data).reshape(h, w, 3)

    def _tpixels(self, data: bytes) -> Frame:
        if self._pf.is_rgb888:
            return np.frombuffer(data, dtype=np.uint8).reshape(-1, 3)
        return self._pf.decode_pixels(data)

    def _compact_length(self) -> Generator[None, None, int]:
        (b,) = yield from self._unpack(">B")
        length = int(b & 0x7F)
        if b & 0x80:
            (b,) = yield from self._unpack(">B")
            length |= (b & 0x7F) << 7
            if b & 0x80:
                (b,) = yield from self._unpack(">B")
                length |= b << 14
        return length

    def _zlib_data(self, stream: int, size: int) -> Reading:
        if size < _TIGHT_MIN_TO_COMPRESS:
            return (yield from self._read(size))
        compressed = yield from self._read((yield from self._compact_length()))
        if not self.decode_pixels:
            return b""
        out: bytes = self._zlib[stream].decompress(compressed)
        if len(out) != size:
            raise PlaybackError(f"Tight zlib gave {len(out)} bytes, expected {size}")
        return out

    def _tight(self, w: int, h: int) -> Generator[None, None, Frame | None]:
        (control,) = yield from self._unpack(">B")
        if self._reset_next_tight:
            self._reset_next_tight = False
            control |= 0x0F
            self._buf[self._pos - 1] = control
        for i in range(4):
            if control & (1 << i):
                self._zlib[i] = zlib.decompressobj()
        kind = control >> 4
        tp = self._pf.tight_pixel_size
        if kind == 0x08:  # fill
            colour = self._tpixels((yield from self._read(tp)))
            return np.broadcast_to(colour.reshape(1, 1, 3), (h, w, 3))
        if kind == 0x09:  # JPEG
            jpeg = yield from self._read((yield from self._compact_length()))
            if not self.decode_pixels:
                return None
            image: Frame = simplejpeg.decode_jpeg(jpeg, colorspace="RGB")
            if image.shape[:2] != (h, w):
                raise PlaybackError("Tight JPEG size differs from its rectangle")
            return image
        if kind & 0x08:
            raise PlaybackError(f"illegal Tight compression {kind:#x}")
        stream = kind & 0x03
        filter_id = (yield from self._unpack(">B"))[0] if kind & 0x04 else 0
        if filter_id == 0:
            data = yield from self._zlib_data(stream, w * h * tp)
            return self._tpixels(data).reshape(h, w, 3) if self.decode_pixels else None
        if filter_id == 2:
            yield from self._zlib_data(stream, w * h * tp)
            if self.decode_pixels:
                raise PlaybackError("Tight gradient filter is not supported")
            return None
        if filter_id != 1:
            raise PlaybackError(f"unknown Tight filter {filter_id}")
        (n,) = yield from self._unpack(">B")
        palette = self._tpixels((yield from self._read((n + 1) * tp)))
        if n + 1 == 2:
            row = (w + 7) // 8
            data = yield from self._zlib_data(stream, row * h)
            if not self.decode_pixels:
                return None
            bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8).reshape(h, row), axis=1)
            return palette[bits[:, :w]]
        data = yield from self._zlib_data(stream, w * h)
        if not self.decode_pixels:
            return None
        indices = np.frombuffer(data, dtype=np.uint8).reshape(h, w)
        if int(indices.max()) > n:
            raise PlaybackError("Tight palette index out of range")
        return palette[indices]


class ClientStreamTracker:
    """Follows a recorded client-to-server stream for what changes decoding (SetPixelFormat).

    The handshake goes through the RFB core's :class:`HandshakeReader`, the model the
    relay's input gate and the applet's engine share; the rest through its client parser.
    """

    def __init__(self) -> None:
        self._handshake = HandshakeReader()
        self._parser = ClientMessageParser()

    @property
    def version(self) -> ProtocolVersion | None:
        """The version the recorded client chose (as the server mapped it), once known."""
        return self._handshake.version

    def feed(self, data: bytes) -> list[ClientMessage]:
        """Client messages completed by ``data``; raises PlaybackError on a broken stream."""
        try:
            if self._handshake.state is not ServerState.OPEN:
                data = self._handshake.receive_data(data)
                if self._handshake.state is ServerState.FAILED:
                    raise RemoteProtocolError("the recorded client chose no offered security type")
            if not data:
                return []
            self._parser.receive_data(data)
        except RemoteProtocolError as exc:
            raise PlaybackError(f"undecodable client stream: {exc}") from exc
        return [parsed.message for parsed in self._parser.messages_received()]

    def follow(self, data: bytes, decoder: ServerStreamDecoder) -> None:
        """Feed ``data``; ``decoder`` takes each pixel format the client set in it."""
        for message in self.feed(data):
            if isinstance(message, SetPixelFormat):
                decoder.set_pixel_format(message.pixel_format)
