"""The server side of the RFB handshake as data: states, inputs, transitions, wire bytes.

:data:`TRANSITIONS` is the whole state machine of
:class:`~supportdesk.rfb.server.RFBServerConnection`; the server looks every
move up in it, an input with no entry is a protocol violation, and
:func:`state_table_markdown` renders the same table for ``docs/rfb.md``.

Security is always type None (1): the RFB stream runs inside a link that is
already authenticated and encrypted.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from enum import Enum

from .errors import RemoteProtocolError
from .pixel_format import PixelFormat

__all__ = [
    "HANDSHAKE_READ_SIZES",
    "SECURITY_NONE",
    "SERVER_VERSION",
    "TRANSITIONS",
    "VERSION_INPUTS",
    "ClientInitReceived",
    "HandshakeInput",
    "ProtocolVersion",
    "ProtocolVersionReceived",
    "SecurityTypeSelected",
    "ServerState",
    "encode_security_result",
    "encode_security_types",
    "encode_server_init",
    "parse_client_version",
    "state_table_markdown",
]

SECURITY_NONE = 1


class ProtocolVersion(Enum):
    """The three published RFB versions; the value is the 12-byte ProtocolVersion message."""

    V3_3 = b"RFB 003.003\n"
    V3_7 = b"RFB 003.007\n"
    V3_8 = b"RFB 003.008\n"


SERVER_VERSION = ProtocolVersion.V3_8

_VERSION_RE = re.compile(rb"RFB (\d{3})\.(\d{3})\n")


def parse_client_version(data: bytes) -> ProtocolVersion:
    """Map the client's 12-byte ProtocolVersion to the version we will speak.

    3.7 and 3.8 are taken as they are; any other 3.x (3.5, Apple's 3.889, ...)
    is treated as 3.3, as RFC 6143 section 7.1.1 says. Another major version or
    a malformed message raises :class:`RemoteProtocolError`.
    """
    match = _VERSION_RE.fullmatch(data)
    if match is None:
        raise RemoteProtocolError(f"malformed ProtocolVersion {data!r}")
    major, minor = int(match[1]), int(match[2])
    if major != 3 or minor < 3:
        raise RemoteProtocolError(f"unsupported RFB version {major}.{minor}")
    if minor == 7:
        return ProtocolVersion.V3_7
    if minor == 8:
        return ProtocolVersion.V3_8
    return ProtocolVersion.V3_3


class ServerState(Enum):
    """Where the server side of a connection is."""

    AWAIT_VERSION = "await-version"
    AWAIT_SECURITY_TYPE = "await-security-type"
    AWAIT_CLIENT_INIT = "await-client-init"
    OPEN = "open"
    CLOSED = "closed"
    FAILED = "failed"


class HandshakeInput(Enum):
    """What arrived from the client, classified for the transition table."""

    VERSION_3_3 = "ProtocolVersion 3.3"
    VERSION_3_7 = "ProtocolVersion 3.7"
    VERSION_3_8 = "ProtocolVersion 3.8"
    SECURITY_NONE = "security-type 1 (None)"
    SECURITY_OTHER = "any other security-type"
    CLIENT_INIT = "ClientInit"
    CLIENT_MESSAGE = "client message"
    END_OF_STREAM = "end of stream"
    PROTOCOL_VIOLATION = "protocol violation"


@dataclass(frozen=True, slots=True)
class Transition:
    """One row of the state table: the next state and what the server sends."""

    next_state: ServerState
    sends: str


_S = ServerState
_I = HandshakeInput

TRANSITIONS: dict[tuple[ServerState, HandshakeInput], Transition] = {
    (_S.AWAIT_VERSION, _I.VERSION_3_3): Transition(_S.AWAIT_CLIENT_INIT, "security-type U32 1"),
    (_S.AWAIT_VERSION, _I.VERSION_3_7): Transition(_S.AWAIT_SECURITY_TYPE, "security types [1]"),
    (_S.AWAIT_VERSION, _I.VERSION_3_8): Transition(_S.AWAIT_SECURITY_TYPE, "security types [1]"),
    (_S.AWAIT_SECURITY_TYPE, _I.SECURITY_NONE): Transition(
        _S.AWAIT_CLIENT_INIT, "SecurityResult OK (3.8 only)"
    ),
    (_S.AWAIT_SECURITY_TYPE, _I.SECURITY_OTHER): Transition(
        _S.FAILED, "SecurityResult failed + reason (3.8 only)"
    ),
    (_S.AWAIT_CLIENT_INIT, _I.CLIENT_INIT): Transition(_S.OPEN, "ServerInit"),
    (_S.OPEN, _I.CLIENT_MESSAGE): Transition(_S.OPEN, "replies, updates as requested"),
    **{
        (state, _I.PROTOCOL_VIOLATION): Transition(_S.FAILED, "-")
        for state in (_S.AWAIT_VERSION, _S.AWAIT_SECURITY_TYPE, _S.AWAIT_CLIENT_INIT, _S.OPEN)
    },
    **{
        (state, _I.END_OF_STREAM): Transition(_S.CLOSED, "-")
        for state in (_S.AWAIT_VERSION, _S.AWAIT_SECURITY_TYPE, _S.AWAIT_CLIENT_INIT, _S.OPEN)
    },
}
"""(state, input) -> transition. Anything missing is illegal."""

HANDSHAKE_READ_SIZES: dict[ServerState, int] = {
    _S.AWAIT_VERSION: 12,
    _S.AWAIT_SECURITY_TYPE: 1,
    _S.AWAIT_CLIENT_INIT: 1,
}
"""Fixed number of bytes the server reads in each handshake state."""

VERSION_INPUTS: dict[ProtocolVersion, HandshakeInput] = {
    ProtocolVersion.V3_3: _I.VERSION_3_3,
    ProtocolVersion.V3_7: _I.VERSION_3_7,
    ProtocolVersion.V3_8: _I.VERSION_3_8,
}


# -- events ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProtocolVersionReceived:
    """The client chose a version (already mapped to 3.3, 3.7 or 3.8)."""

    version: ProtocolVersion


@dataclass(frozen=True, slots=True)
class SecurityTypeSelected:
    """The client chose security type None (3.7 and 3.8 only)."""

    security_type: int


@dataclass(frozen=True, slots=True)
class ClientInitReceived:
    """Handshake done: ServerInit is queued, normal messages follow."""

    shared: bool


# -- wire bytes ------------------------------------------------------------------------


def encode_security_types(types: tuple[int, ...] = (SECURITY_NONE,)) -> bytes:
    """3.7+: U8 number-of-security-types followed by the types."""
    return bytes([len(types), *types])


def encode_security_result(ok: bool, reason: str = "") -> bytes:
    """SecurityResult U32 0 (OK) or 1 (failed); 3.8 appends a reason string on failure."""
    if ok:
        return struct.pack(">I", 0)
    data = reason.encode("utf-8")
    return struct.pack(">II", 1, len(data)) + data


def encode_server_init(width: int, height: int, pixel_format: PixelFormat, name: str) -> bytes:
    """ServerInit: U16 width, U16 height, PIXEL_FORMAT, U32 name-length, UTF-8 name."""
    data = name.encode("utf-8")
    return (
        struct.pack(">HH", width, height)
        + pixel_format.pack()
        + struct.pack(">I", len(data))
        + data
    )


def state_table_markdown() -> str:
    """The transition table as a Markdown table (used by docs/rfb.md)."""
    lines = ["| state | input | next state | server sends |", "|---|---|---|---|"]
    for (state, event), move in TRANSITIONS.items():
        lines.append(f"| {state.value} | {event.value} | {move.next_state.value} | {move.sends} |")
    return "\n".join(lines) + "\n"
