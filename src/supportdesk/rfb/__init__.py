"""Sans-I/O RFB 3.8 (RFC 6143) server engine: state machines fed bytes, returning events and bytes.

Start with :class:`RFBServerConnection` (one viewer connection) or
:class:`ClientMessageParser` (classifying a client stream, e.g. in a relay).
Nothing here touches sockets, threads or event loops.
"""

from .client_parser import ClientMessageParser, ParsedMessage
from .errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from .geometry import Rect
from .handshake import (
    ClientInitReceived,
    ProtocolVersion,
    ProtocolVersionReceived,
    SecurityTypeSelected,
    ServerState,
)
from .messages import (
    ClientCutText,
    ClientFence,
    ClientMessage,
    EnableContinuousUpdates,
    FramebufferUpdateRequest,
    KeyEvent,
    PointerEvent,
    Screen,
    SetDesktopSize,
    SetEncodings,
    SetPixelFormat,
)
from .pixel_format import NATIVE_PIXEL_FORMAT, PixelFormat
from .server import Event, RFBServerConnection

__all__ = [
    "NATIVE_PIXEL_FORMAT",
    "ClientCutText",
    "ClientFence",
    "ClientInitReceived",
    "ClientMessage",
    "ClientMessageParser",
    "EnableContinuousUpdates",
    "Event",
    "FramebufferUpdateRequest",
    "KeyEvent",
    "LocalProtocolError",
    "ParsedMessage",
    "PixelFormat",
    "PointerEvent",
    "ProtocolError",
    "ProtocolVersion",
    "ProtocolVersionReceived",
    "RFBServerConnection",
    "Rect",
    "RemoteProtocolError",
    "Screen",
    "SecurityTypeSelected",
    "ServerState",
    "SetDesktopSize",
    "SetEncodings",
    "SetPixelFormat",
]
