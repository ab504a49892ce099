"""The relay's input gate on a viewer's client-to-server RFB stream, sans-I/O.

Feed it the viewer's bytes as they arrive; it returns the bytes to pass on. The
handshake (version, security choice, ClientInit) passes through, read by the same
:class:`~supportdesk.rfb.handshake_reader.HandshakeReader` as the applet's engine
uses, so gate and engine agree on where client messages begin for every version a
viewer may name. After it, every message is parsed and KeyEvent, PointerEvent and
ClientCutText are dropped whenever ``allow_input()`` says no (control not granted,
session paused, or a view-only viewer). So are the Extended Clipboard's request,
peek, notify and provide (ClientCutText with a negative length): without control,
no clipboard text crosses in either direction (the applet's engine refuses them
too). Its caps pass: they carry no data, and the applet needs them once control is
granted. Everything else passes byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable

from .client_parser import DEFAULT_MAX_CUT_TEXT, ClientMessageParser
from .handshake import ServerState
from .handshake_reader import HandshakeReader


class ViewerInputFilter:
    """One viewer's gate; ``max_cut_text`` bounds cut text and Extended Clipboard messages."""

    def __init__(
        self, allow_input: Callable[[], bool], *, max_cut_text: int = DEFAULT_MAX_CUT_TEXT
    ) -> None:
        self._allow_input = allow_input
        self._handshake = HandshakeReader()
        self._parser = ClientMessageParser(max_cut_text=max_cut_text)
        self.dropped = 0
        self.forwarded = 0

    def feed(self, data: bytes) -> bytes:
        """Bytes to forward for ``data``; raises RemoteProtocolError on a broken stream.

        Handshake messages pass once complete; a refused security type passes too (the
        applet tells the viewer why) and the next call raises.
        """
        out = bytearray()
        if self._handshake.state is not ServerState.OPEN:  # raises once it failed
            data = self._handshake.receive_data(data)
            for step in self._handshake.steps_received():
                out += step.raw
        if data:
            self._parser.receive_data(data)
            for message in self._parser.messages_received():
                if message.is_input and not self._allow_input():
                    self.dropped += 1
                    continue
                self.forwarded += 1
                out += message.raw
        return bytes(out)
