"""Incremental, bounded parser of the client-to-server RFB stream after the handshake.

Feed it any bytes, in chunks of any size: it either returns complete messages
or raises :class:`~supportdesk.rfb.errors.RemoteProtocolError`; it never
raises anything else and never buffers more than :attr:`ClientMessageParser.max_buffered`
bytes between calls. Each message comes with its exact raw bytes, so a relay can
classify input (KeyEvent, PointerEvent, ClientCutText) and forward or drop it
without re-encoding.

Limits, checked as soon as the header that declares a length arrives:

* ClientCutText longer than ``max_cut_text`` bytes (default 1 MiB) is refused.
  A negative length (as S32) marks an Extended Clipboard message: its size is the
  absolute value, at least 4 (the flags) and at most ``max_cut_text`` too. The
  parser only frames it; whether the extension was negotiated, and inflating a
  provide, are :mod:`supportdesk.rfb.clipboard`'s business.
* SetEncodings with more than ``max_encodings`` entries (default 1024) is refused.
* ClientFence payloads longer than 64 bytes and SetDesktopSize with zero
  screens are refused; unknown message types are refused (their length is unknown).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from .errors import RemoteProtocolError
from .messages import (
    MAX_FENCE_PAYLOAD,
    ClientCutText,
    ClientFence,
    ClientMessage,
    ClientMessageType,
    EnableContinuousUpdates,
    ExtendedClipboard,
    FramebufferUpdateRequest,
    KeyEvent,
    PointerEvent,
    Screen,
    SetDesktopSize,
    SetEncodings,
    SetPixelFormat,
)
from .pixel_format import PixelFormat

__all__ = [
    "DEFAULT_MAX_CUT_TEXT",
    "DEFAULT_MAX_ENCODINGS",
    "INPUT_MESSAGE_TYPES",
    "ClientMessageParser",
    "ParsedMessage",
]

DEFAULT_MAX_CUT_TEXT = 1 << 20
DEFAULT_MAX_ENCODINGS = 1024
_MAX_SCREENS = 255

INPUT_MESSAGE_TYPES: tuple[type[ClientMessage], ...] = (
    KeyEvent,
    PointerEvent,
    ClientCutText,
    ExtendedClipboard,
)
"""Messages that act on the customer's machine or read its clipboard; a relay filters these."""


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    """A client message together with the exact bytes it arrived as."""

    message: ClientMessage
    raw: bytes

    @property
    def is_input(self) -> bool:
        """True for KeyEvent, PointerEvent, ClientCutText and Extended Clipboard except caps.

        Caps only say what the viewer handles; they pass so that the clipboard
        works once control is granted. Request, peek, notify and provide are input.
        """
        if isinstance(self.message, ExtendedClipboard):
            return not self.message.is_caps
        return isinstance(self.message, INPUT_MESSAGE_TYPES)


def _decode_set_pixel_format(raw: bytes) -> ClientMessage:
    return SetPixelFormat(PixelFormat.unpack(raw[4:20]))


def _decode_set_encodings(raw: bytes) -> ClientMessage:
    count = (len(raw) - 4) // 4
    return SetEncodings(struct.unpack(f">{count}i", raw[4:]))


def _decode_update_request(raw: bytes) -> ClientMessage:
    incremental, x, y, w, h = struct.unpack(">xBHHHH", raw)
    return FramebufferUpdateRequest(incremental != 0, x, y, w, h)


def _decode_key_event(raw: bytes) -> ClientMessage:
    down, key = struct.unpack(">xB2xI", raw)
    return KeyEvent(down != 0, key)


def _decode_pointer_event(raw: bytes) -> ClientMessage:
    mask, x, y = struct.unpack(">xBHH", raw)
    return PointerEvent(mask, x, y)


def _decode_cut_text(raw: bytes) -> ClientMessage:
    (length,) = struct.unpack_from(">I", raw, 4)
    if length >= 1 << 31:
        (flags,) = struct.unpack_from(">I", raw, 8)
        return ExtendedClipboard(flags, bytes(raw[12:]))
    return ClientCutText(raw[8:].decode("latin-1"))


def _decode_continuous(raw: bytes) -> ClientMessage:
    enable, x, y, w, h = struct.unpack(">xBHHHH", raw)
    return EnableContinuousUpdates(enable != 0, x, y, w, h)


def _decode_fence(raw: bytes) -> ClientMessage:
    (flags,) = struct.unpack(">I", raw[4:8])
    return ClientFence(flags, bytes(raw[9:]))


def _decode_set_desktop_size(raw: bytes) -> ClientMessage:
    width, height, count = struct.unpack(">2xHHB", raw[:7])
    screens = tuple(
        Screen(*struct.unpack(">IHHHHI", raw[8 + 16 * i : 24 + 16 * i])) for i in range(count)
    )
    return SetDesktopSize(width, height, screens)


_Decoder = Callable[[bytes], ClientMessage]

_FIXED_SIZES: dict[int, tuple[int, _Decoder]] = {
    ClientMessageType.SET_PIXEL_FORMAT: (20, _decode_set_pixel_format),
    ClientMessageType.FRAMEBUFFER_UPDATE_REQUEST: (10, _decode_update_request),
    ClientMessageType.KEY_EVENT: (8, _decode_key_event),
    ClientMessageType.POINTER_EVENT: (6, _decode_pointer_event),
    ClientMessageType.ENABLE_CONTINUOUS_UPDATES: (10, _decode_continuous),
}


_VARIABLE_DECODERS: dict[int, _Decoder] = {
    ClientMessageType.SET_ENCODINGS: _decode_set_encodings,
    ClientMessageType.CLIENT_CUT_TEXT: _decode_cut_text,
    ClientMessageType.CLIENT_FENCE: _decode_fence,
    ClientMessageType.SET_DESKTOP_SIZE: _decode_set_desktop_size,
}


class ClientMessageParser:
    """Turns the client's byte stream into :class:`ParsedMessage` objects.

    Call :meth:`receive_data` with whatever arrived, then :meth:`messages_received`
    to collect complete messages. After a :class:`RemoteProtocolError` the parser
    stays failed: every later call raises again.
    """

    def __init__(
        self,
        *,
        max_cut_text: int = DEFAULT_MAX_CUT_TEXT,
        max_encodings: int = DEFAULT_MAX_ENCODINGS,
    ) -> None:
        if max_cut_text < 0 or not 0 <= max_encodings <= 0xFFFF:
            raise ValueError("limits must be non-negative (max_encodings at most 65535)")
        self.max_cut_text = max_cut_text
        self.max_encodings = max_encodings
        self._buffer = bytearray()
        self._messages: list[ParsedMessage] = []
        self._error: RemoteProtocolError | None = None

    @property
    def max_message_size(self) -> int:
        """The largest message these limits accept, in bytes."""
        return max(
            20,
            4 + 4 * self.max_encodings,
            8 + self.max_cut_text,
            9 + MAX_FENCE_PAYLOAD,
            8 + 16 * _MAX_SCREENS,
        )

    @property
    def max_buffered(self) -> int:
        """Upper bound of :attr:`buffered` after any call to :meth:`receive_data`."""
        return self.max_message_size - 1

    @property
    def buffered(self) -> int:
        """Bytes held back because they are the start of an incomplete message."""
        return len(self._buffer)

    def receive_data(self, data: bytes) -> None:
        """Parse ``data`` appended to what was held back; raise RemoteProtocolError on bad input."""
        if self._error is not None:
            raise RemoteProtocolError(f"parser already failed: {self._error}")
        self._buffer += data
        offset = 0
        try:
            while True:
                size = self._message_size(offset)
                if size is None or len(self._buffer) - offset < size:
                    break
                raw = bytes(self._buffer[offset : offset + size])
                self._messages.append(ParsedMessage(self._decode(raw), raw))
                offset += size
        except RemoteProtocolError as exc:
            self._error = exc
            self._buffer.clear()
            raise
        del self._buffer[:offset]

    def messages_received(self) -> list[ParsedMessage]:
        """Return and forget the messages completed so far, in arrival order."""
        messages, self._messages = self._messages, []
        return messages

    def _message_size(self, offset: int) -> int | None:
        """Total size of the message starting at ``offset``, None if the header is incomplete."""
        buf = self._buffer
        available = len(buf) - offset
        if available < 1:
            return None
        kind = buf[offset]
        fixed = _FIXED_SIZES.get(kind)
        if fixed is not None:
            return fixed[0]
        if kind == ClientMessageType.SET_ENCODINGS:
            if available < 4:
                return None
            (count,) = struct.unpack_from(">H", buf, offset + 2)
            if count > self.max_encodings:
                raise RemoteProtocolError(
                    f"SetEncodings with {count} entries exceeds the limit of {self.max_encodings}"
                )
            return 4 + 4 * int(count)
        if kind == ClientMessageType.CLIENT_CUT_TEXT:
            if available < 8:
                return None
            (length,) = struct.unpack_from(">I", buf, offset + 4)
            if length >= 1 << 31:
                length = (1 << 32) - length
                if length < 4:
                    raise RemoteProtocolError(
                        f"Extended Clipboard message of {length} bytes has no room for its flags"
                    )
            if length > self.max_cut_text:
                raise RemoteProtocolError(
                    f"ClientCutText of {length} bytes exceeds the limit of {self.max_cut_text}"
                )
            return 8 + int(length)
        if kind == ClientMessageType.CLIENT_FENCE:
            if available < 9:
                return None
            length = buf[offset + 8]
            if length > MAX_FENCE_PAYLOAD:
                raise RemoteProtocolError(
                    f"ClientFence payload of {length} bytes exceeds {MAX_FENCE_PAYLOAD}"
                )
            return 9 + length
        if kind == ClientMessageType.SET_DESKTOP_SIZE:
            if available < 8:
                return None
            screens = buf[offset + 6]
            if screens == 0:
                raise RemoteProtocolError("SetDesktopSize with zero screens")
            return 8 + 16 * screens
        raise RemoteProtocolError(f"unknown client message type {kind}")

    @staticmethod
    def _decode(raw: bytes) -> ClientMessage:
        kind = raw[0]
        fixed = _FIXED_SIZES.get(kind)
        if fixed is not None:
            return fixed[1](raw)
        return _VARIABLE_DECODERS[kind](raw)
