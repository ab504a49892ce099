"""The Extended Clipboard pseudo-encoding (0xC0A1E5CE): its wire form and the server's side of it.

RFC 6143 cut text is Latin-1 only. The Extended Clipboard extension (rfbproto,
"Extended Clipboard Pseudo-Encoding") reuses ServerCutText/ClientCutText with a
negative length and carries UTF-8 text in a zlib stream. A message is a U32 of
flags (actions in the top byte, formats in the low 16 bits) and a payload:

* **caps** — for each format bit set, a U32 "largest unsolicited size";
* **request**, **peek**, **notify** — no payload;
* **provide** — a fresh zlib stream holding, per format bit set, U32 size + data;
  text is UTF-8 with CRLF line ends and a terminating NUL.

:class:`ExtendedClipboardServer` is the server's half of that conversation, sans
I/O: it answers the client's caps, peek, request and notify on its own and turns
a provide into text. Only the text format is supported. Inflating is bounded by
``max_text``: a provide whose text is larger is a :class:`RemoteProtocolError`,
decided after inflating at most ``max_text + 5`` bytes.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from enum import IntFlag

from .errors import LocalProtocolError, RemoteProtocolError
from .messages import ExtendedClipboard, ServerMessageType

__all__ = [
    "DEFAULT_MAX_CLIPBOARD_TEXT",
    "EXTENDED_CLIPBOARD_ENCODING",
    "ClipboardAction",
    "ClipboardFormat",
    "ExtendedClipboardServer",
    "decode_provided_text",
    "encode_extended_server_cut_text",
    "encode_provide_payload",
]

EXTENDED_CLIPBOARD_ENCODING = 0xC0A1E5CE - (1 << 32)
"""The pseudo-encoding number as the S32 a SetEncodings list carries (-1063131698)."""

DEFAULT_MAX_CLIPBOARD_TEXT = 256 * 1024
"""Bytes of clipboard text (UTF-8, or Latin-1 for plain cut text) the applet accepts or sends."""


class ClipboardFormat(IntFlag):
    """Format bits (low 16 bits of the flags)."""

    TEXT = 1 << 0
    RTF = 1 << 1
    HTML = 1 << 2
    DIB = 1 << 3
    FILES = 1 << 4


class ClipboardAction(IntFlag):
    """Action bits (top byte of the flags)."""

    CAPS = 1 << 24
    REQUEST = 1 << 25
    PEEK = 1 << 26
    NOTIFY = 1 << 27
    PROVIDE = 1 << 28


_ACTION_MASK = 0xFF000000
_FORMAT_MASK = 0x0000FFFF
SERVER_ACTIONS = (
    ClipboardAction.CAPS
    | ClipboardAction.REQUEST
    | ClipboardAction.PEEK
    | ClipboardAction.NOTIFY
    | ClipboardAction.PROVIDE
)


def encode_extended_server_cut_text(flags: int, payload: bytes = b"") -> bytes:
    """ServerCutText with the negative length that marks an Extended Clipboard message."""
    body = struct.pack(">I", flags) + payload
    return struct.pack(">B3xi", ServerMessageType.SERVER_CUT_TEXT, -len(body)) + body


def encode_provide_payload(text: str) -> bytes:
    """The zlib stream of a text provide: U32 size, UTF-8 with CRLF line ends, NUL."""
    crlf = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
    data = crlf.encode("utf-8") + b"\0"
    return zlib.compress(struct.pack(">I", len(data)) + data)


def decode_provided_text(formats: int, payload: bytes, max_text: int) -> str | None:
    """The text of a provide (None if it has no text), line ends as ``\\n``.

    Text is the lowest format bit, so it comes first in the stream and nothing
    after it needs inflating. Raises RemoteProtocolError for a broken stream,
    text over ``max_text`` bytes (decided without inflating more than that), or
    text that is not UTF-8.
    """
    if not formats & ClipboardFormat.TEXT:
        return None
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(payload, 4 + max_text + 1)
    except zlib.error as exc:
        raise RemoteProtocolError(f"Extended Clipboard provide: bad zlib data ({exc})") from None
    if len(data) < 4:
        raise RemoteProtocolError("Extended Clipboard provide ends before the text size")
    (size,) = struct.unpack_from(">I", data)
    if size > max_text:
        raise RemoteProtocolError(f"clipboard text of {size} bytes exceeds the limit of {max_text}")
    if len(data) < 4 + size:
        raise RemoteProtocolError("Extended Clipboard provide ends inside the text")
    raw = data[4 : 4 + size]
    if raw.endswith(b"\0"):
        raw = raw[:-1]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RemoteProtocolError(f"clipboard text is not UTF-8: {exc.reason}") from None
    return text.replace("\r\n", "\n")


@dataclass(slots=True)
class ClientClipboardCaps:
    """What the client said it handles; until its caps arrive, what viewers commonly do."""

    actions: int = int(
        ClipboardAction.REQUEST | ClipboardAction.PEEK | ClipboardAction.NOTIFY
        | ClipboardAction.PROVIDE
    )  # fmt: skip
    max_unsolicited: dict[int, int] = field(default_factory=lambda: {int(ClipboardFormat.TEXT): 0})

    def handles(self, action: ClipboardAction) -> bool:
        """True if the client understands ``action``."""
        return bool(self.actions & action)

    @property
    def text(self) -> bool:
        """True if the client takes the text format."""
        return int(ClipboardFormat.TEXT) in self.max_unsolicited


@dataclass(slots=True)
class ClipboardReply:
    """What handling one client message produced: bytes for the client, text for the caller."""

    data: bytes = b""
    text: str | None = None


class ExtendedClipboardServer:
    """The server's side of the Extended Clipboard conversation with one client.

    Call :meth:`announce` when the client lists the pseudo-encoding (the server
    must send caps before anything else), :meth:`receive` for every
    :class:`~supportdesk.rfb.messages.ExtendedClipboard` message, and
    :meth:`offer` to give the client new text. Outgoing text is held until the
    client requests it (clients like noVNC take no unsolicited data); a newer
    offer replaces it.
    """

    def __init__(self, max_text: int = DEFAULT_MAX_CLIPBOARD_TEXT) -> None:
        self.max_text = max_text
        self.announced = False
        self.client = ClientClipboardCaps()
        self._held: str | None = None

    def announce(self) -> bytes:
        """Our caps: text up to ``max_text`` bytes unsolicited; every action."""
        self.announced = True
        flags = int(SERVER_ACTIONS | ClipboardFormat.TEXT)
        return encode_extended_server_cut_text(flags, struct.pack(">I", self.max_text))

    @property
    def can_offer(self) -> bool:
        """True if text can reach the client through this extension."""
        return (
            self.announced
            and self.client.text
            and (self.client.handles(ClipboardAction.NOTIFY)
                 or self.client.handles(ClipboardAction.PROVIDE))
        )  # fmt: skip

    def offer(self, text: str) -> bytes:
        """Bytes telling the client about ``text``: provide if it fits unsolicited, else notify."""
        if not self.can_offer:
            raise LocalProtocolError("the client cannot take Extended Clipboard text")
        size = len(text.encode("utf-8")) + 1
        if size > self.max_text:
            raise LocalProtocolError(f"clipboard text of {size} bytes exceeds {self.max_text}")
        limit = self.client.max_unsolicited.get(int(ClipboardFormat.TEXT), 0)
        if self.client.handles(ClipboardAction.PROVIDE) and size <= limit:
            self._held = None
            return self._provide(text)
        self._held = text
        if not self.client.handles(ClipboardAction.NOTIFY):
            return b""  # it may still ask with a request
        return encode_extended_server_cut_text(ClipboardAction.NOTIFY | ClipboardFormat.TEXT)

    def forget(self) -> None:
        """Drop text held for a request (control was taken away before it was asked for)."""
        self._held = None

    def receive(self, message: ExtendedClipboard) -> ClipboardReply:
        """Handle one client message; RemoteProtocolError if it breaks the extension."""
        if not self.announced:
            raise RemoteProtocolError("Extended Clipboard message before the server sent caps")
        actions, formats = message.flags & _ACTION_MASK, message.flags & _FORMAT_MASK
        if actions & ClipboardAction.CAPS:
            self._take_caps(actions, formats, message.payload)
            return ClipboardReply()
        if actions == ClipboardAction.REQUEST:
            if formats & ClipboardFormat.TEXT and self._held is not None:
                text, self._held = self._held, None
                return ClipboardReply(self._provide(text))
            return ClipboardReply()
        if actions == ClipboardAction.PEEK:
            available = ClipboardFormat.TEXT if self._held is not None else 0
            flags = ClipboardAction.NOTIFY | available
            return ClipboardReply(encode_extended_server_cut_text(flags))
        if actions == ClipboardAction.NOTIFY:
            if formats & ClipboardFormat.TEXT and self.client.handles(ClipboardAction.PROVIDE):
                flags = ClipboardAction.REQUEST | ClipboardFormat.TEXT
                return ClipboardReply(encode_extended_server_cut_text(flags))
            return ClipboardReply()
        if actions == ClipboardAction.PROVIDE:
            provided = decode_provided_text(formats, message.payload, self.max_text)
            return ClipboardReply(text=provided)
        raise RemoteProtocolError(f"Extended Clipboard message with actions {actions:#010x}")

    def _take_caps(self, actions: int, formats: int, payload: bytes) -> None:
        bits = [1 << i for i in range(16) if formats & (1 << i)]
        if len(payload) < 4 * len(bits):
            raise RemoteProtocolError(
                f"Extended Clipboard caps name {len(bits)} formats but carry "
                f"{len(payload) // 4} sizes"
            )
        sizes = struct.unpack_from(f">{len(bits)}I", payload)
        self.client = ClientClipboardCaps(actions, dict(zip(bits, sizes, strict=True)))

    def _provide(self, text: str) -> bytes:
        flags = ClipboardAction.PROVIDE | ClipboardFormat.TEXT
        return encode_extended_server_cut_text(flags, encode_provide_payload(text))
