"""RFB 3.8 messages after the handshake: client-to-server events, server-to-client encoders.

Client messages (RFC 6143 section 7.5 plus the ContinuousUpdates, Fence and
SetDesktopSize extensions) are small frozen dataclasses produced by
:mod:`supportdesk.rfb.client_parser`. Server messages are plain functions that
return the exact bytes to write (section 7.6 and the extensions).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum, IntFlag

from .pixel_format import PixelFormat

__all__ = [
    "MAX_FENCE_PAYLOAD",
    "ClientCutText",
    "ClientFence",
    "ClientMessage",
    "ClientMessageType",
    "EnableContinuousUpdates",
    "ExtendedClipboard",
    "FenceFlags",
    "FramebufferUpdateRequest",
    "KeyEvent",
    "PointerEvent",
    "Screen",
    "ServerMessageType",
    "SetDesktopSize",
    "SetEncodings",
    "SetPixelFormat",
    "encode_bell",
    "encode_end_of_continuous_updates",
    "encode_framebuffer_update_header",
    "encode_rectangle_header",
    "encode_server_cut_text",
    "encode_server_fence",
]

MAX_FENCE_PAYLOAD = 64
"""A fence payload is at most 64 bytes (rfbproto, ClientFence/ServerFence)."""


class ClientMessageType(IntEnum):
    """Message-type byte of client-to-server messages this core understands."""

    SET_PIXEL_FORMAT = 0
    SET_ENCODINGS = 2
    FRAMEBUFFER_UPDATE_REQUEST = 3
    KEY_EVENT = 4
    POINTER_EVENT = 5
    CLIENT_CUT_TEXT = 6
    ENABLE_CONTINUOUS_UPDATES = 150
    CLIENT_FENCE = 248
    SET_DESKTOP_SIZE = 251


class ServerMessageType(IntEnum):
    """Message-type byte of server-to-client messages this core sends."""

    FRAMEBUFFER_UPDATE = 0
    BELL = 2
    SERVER_CUT_TEXT = 3
    END_OF_CONTINUOUS_UPDATES = 150
    SERVER_FENCE = 248


class FenceFlags(IntFlag):
    """Flags of ClientFence / ServerFence."""

    BLOCK_BEFORE = 1 << 0
    BLOCK_AFTER = 1 << 1
    SYNC_NEXT = 1 << 2
    REQUEST = 1 << 31


SUPPORTED_FENCE_FLAGS = (
    FenceFlags.BLOCK_BEFORE | FenceFlags.BLOCK_AFTER | FenceFlags.SYNC_NEXT | FenceFlags.REQUEST
)


# -- client-to-server events ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetPixelFormat:
    """The client wants pixel data in ``pixel_format`` from now on."""

    pixel_format: PixelFormat


@dataclass(frozen=True, slots=True)
class SetEncodings:
    """The client's encodings and pseudo-encodings, most preferred first."""

    encodings: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class FramebufferUpdateRequest:
    """The client asks for the area ``x, y, width, height`` (as sent, unclipped)."""

    incremental: bool
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class KeyEvent:
    """A key (X11 keysym) went down or up."""

    down: bool
    key: int


@dataclass(frozen=True, slots=True)
class PointerEvent:
    """The pointer is at ``x, y`` with the buttons in ``button_mask`` pressed."""

    button_mask: int
    x: int
    y: int


@dataclass(frozen=True, slots=True)
class ClientCutText:
    """Clipboard text from the client (Latin-1 on the wire)."""

    text: str


@dataclass(frozen=True, slots=True)
class ExtendedClipboard:
    """ClientCutText with a negative length: an Extended Clipboard message.

    ``flags`` holds the actions (top byte) and formats (low 16 bits); ``payload`` is
    what follows them, still compressed for a provide (see :mod:`supportdesk.rfb.clipboard`).
    """

    flags: int
    payload: bytes

    @property
    def is_caps(self) -> bool:
        """True for a caps message: it only says what the client handles, it carries no data."""
        return bool(self.flags & (1 << 24))


@dataclass(frozen=True, slots=True)
class EnableContinuousUpdates:
    """Start (``enable``) or stop continuous updates for an area."""

    enable: bool
    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class ClientFence:
    """A fence request from the client, or its response to our ServerFence."""

    flags: int
    payload: bytes

    @property
    def is_request(self) -> bool:
        """True if the client expects a ServerFence response."""
        return bool(self.flags & FenceFlags.REQUEST)


@dataclass(frozen=True, slots=True)
class Screen:
    """One screen of an ExtendedDesktopSize / SetDesktopSize layout."""

    id: int
    x: int
    y: int
    width: int
    height: int
    flags: int = 0

    def pack(self) -> bytes:
        """The 16-byte SCREEN structure."""
        return struct.pack(">IHHHHI", self.id, self.x, self.y, self.width, self.height, self.flags)


@dataclass(frozen=True, slots=True)
class SetDesktopSize:
    """The client asks for a new framebuffer size and screen layout."""

    width: int
    height: int
    screens: tuple[Screen, ...]


ClientMessage = (
    SetPixelFormat
    | SetEncodings
    | FramebufferUpdateRequest
    | KeyEvent
    | PointerEvent
    | ClientCutText
    | ExtendedClipboard
    | EnableContinuousUpdates
    | ClientFence
    | SetDesktopSize
)
"""Any client-to-server message after the handshake."""


# -- server-to-client encoders -------------------------------------------------------


def encode_framebuffer_update_header(number_of_rectangles: int) -> bytes:
    """FramebufferUpdate: type 0, padding, U16 number-of-rectangles."""
    return struct.pack(">BxH", ServerMessageType.FRAMEBUFFER_UPDATE, number_of_rectangles)


def encode_rectangle_header(x: int, y: int, width: int, height: int, encoding: int) -> bytes:
    """One rectangle header: U16 x, y, width, height and S32 encoding-type."""
    return struct.pack(">HHHHi", x, y, width, height, encoding)


def encode_bell() -> bytes:
    """Bell: a single type byte."""
    return bytes([ServerMessageType.BELL])


def encode_server_cut_text(text: str) -> bytes:
    """ServerCutText; characters outside Latin-1 become ``?`` as RFC 6143 allows only Latin-1."""
    data = text.encode("latin-1", errors="replace")
    return struct.pack(">B3xI", ServerMessageType.SERVER_CUT_TEXT, len(data)) + data


def encode_end_of_continuous_updates() -> bytes:
    """EndOfContinuousUpdates: a single type byte."""
    return bytes([ServerMessageType.END_OF_CONTINUOUS_UPDATES])


def encode_server_fence(flags: int, payload: bytes) -> bytes:
    """ServerFence: type, 3 padding, U32 flags, U8 length, payload (at most 64 bytes)."""
    if len(payload) > MAX_FENCE_PAYLOAD:
        raise ValueError(f"fence payload is limited to {MAX_FENCE_PAYLOAD} bytes")
    return struct.pack(">B3xIB", ServerMessageType.SERVER_FENCE, flags, len(payload)) + payload
