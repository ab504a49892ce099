"""The relay's input gate on a viewer's client-to-server RFB stream, sans-I/O.

Feed it the viewer's bytes as they arrive; it returns the bytes to pass on. The
handshake (version, security choice, ClientInit) passes through untouched; after
it, every message is parsed and KeyEvent, PointerEvent and ClientCutText are dropped
whenever ``allow_input()`` says no (control not granted, session paused, or a
view-only viewer). So are the Extended Clipboard's request, peek, notify and provide
(ClientCutText with a negative length): without control, no clipboard text crosses
in either direction, because the applet only hands out text on request. Its caps
pass: they carry no data, and the applet needs them once control is granted.
Everything else passes byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable

from .client_parser import DEFAULT_MAX_CUT_TEXT, ClientMessageParser
from .errors import RemoteProtocolError

_VERSION_LENGTH = 12


class ViewerInputFilter:
    """One viewer's gate; ``max_cut_text`` bounds cut text and Extended Clipboard messages."""

    def __init__(
        self, allow_input: Callable[[], bool], *, max_cut_text: int = DEFAULT_MAX_CUT_TEXT
    ) -> None:
        self._allow_input = allow_input
        self._handshake = bytearray()
        self._handshake_length: int | None = None
        self._parser = ClientMessageParser(max_cut_text=max_cut_text)
        self.dropped = 0
        self.forwarded = 0

    def feed(self, data: bytes) -> bytes:
        """Bytes to forward for ``data``; raises RemoteProtocolError on a broken stream."""
        out = bytearray()
        if self._handshake_length is None or len(self._handshake) < self._handshake_length:
            data = self._take_handshake(data, out)
        if data:
            self._parser.receive_data(data)
            for message in self._parser.messages_received():
                if message.is_input and not self._allow_input():
                    self.dropped += 1
                    continue
                self.forwarded += 1
                out += message.raw
        return bytes(out)

    def _take_handshake(self, data: bytes, out: bytearray) -> bytes:
        while data and (
            self._handshake_length is None or len(self._handshake) < self._handshake_length
        ):
            limit = self._handshake_length or _VERSION_LENGTH
            take = data[: limit - len(self._handshake)]
            self._handshake += take
            out += take
            data = data[len(take) :]
            if self._handshake_length is None and len(self._handshake) == _VERSION_LENGTH:
                version = bytes(self._handshake)
                if not version.startswith(b"RFB ") or not version.endswith(b"\n"):
                    raise RemoteProtocolError(f"not an RFB version string: {version!r}")
                # 3.3 has no security choice from the client; 3.7 and 3.8 send one byte.
                extra = 1 if version == b"RFB 003.003\n" else 2
                self._handshake_length = _VERSION_LENGTH + extra
        return data
