"""The client's half of the RFB handshake, read by the table: the one model every parser shares.

The server engine (:class:`~supportdesk.rfb.server.RFBServerConnection`), the
relay's input gate (:class:`~supportdesk.rfb.input_filter.ViewerInputFilter`) and
the recording's client-stream tracker all feed a viewer's first bytes through a
:class:`HandshakeReader`. So they agree, byte for byte, on where the handshake
ends and client messages begin, whatever version the client names: if they did
not, a client could make the gate frame the stream one byte off from the engine
and slip a KeyEvent past a closed gate.

The version rule is RFC 6143 section 7.1.1
(:func:`~supportdesk.rfb.handshake.parse_client_version`): 3.3, 3.7 and 3.8 as
they are; any other 3.x with x >= 3 (3.5, Apple's 3.889) as 3.3, which has no
security choice from the client; anything else is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import RemoteProtocolError
from .handshake import (
    HANDSHAKE_READ_SIZES,
    SECURITY_NONE,
    TRANSITIONS,
    VERSION_INPUTS,
    HandshakeInput,
    ProtocolVersion,
    ServerState,
    parse_client_version,
)

__all__ = ["HandshakeReader", "HandshakeStep"]


@dataclass(frozen=True, slots=True)
class HandshakeStep:
    """One handshake message of the client: what it was, its bytes, the state it led to."""

    input: HandshakeInput
    raw: bytes
    state: ServerState


class HandshakeReader:
    """Splits the client's handshake (version, security choice, ClientInit) off its stream.

    Call :meth:`receive_data` with the client's bytes: it keeps what belongs to the
    handshake and returns what follows it. :meth:`steps_received` says which
    handshake messages completed. A malformed or unsupported version raises
    :class:`RemoteProtocolError`; a security type other than None is a step into
    ``FAILED`` instead (the server first tells the client why), after which every
    call raises.
    """

    def __init__(self) -> None:
        self.state = ServerState.AWAIT_VERSION
        self.version: ProtocolVersion | None = None
        self.shared: bool | None = None
        self._buffer = bytearray()
        self._steps: list[HandshakeStep] = []

    @property
    def done(self) -> bool:
        """True once the handshake is over (ClientInit read, or failed)."""
        return self.state not in HANDSHAKE_READ_SIZES

    @property
    def buffered(self) -> int:
        """Bytes of an incomplete handshake message held back."""
        return len(self._buffer)

    def receive_data(self, data: bytes) -> bytes:
        """Take the handshake's bytes from ``data``; return the bytes after the handshake."""
        if self.state is ServerState.FAILED:
            raise RemoteProtocolError("the handshake already failed")
        pos = 0
        while self.state in HANDSHAKE_READ_SIZES:
            size = HANDSHAKE_READ_SIZES[self.state]
            take = min(size - len(self._buffer), len(data) - pos)
            self._buffer += data[pos : pos + take]
            pos += take
            if len(self._buffer) < size:
                return b""
            chunk = bytes(self._buffer)
            self._buffer.clear()
            self._step(chunk)
        return data[pos:] if self._open() else b""

    def _open(self) -> bool:
        return self.state is ServerState.OPEN

    def steps_received(self) -> list[HandshakeStep]:
        """Return and forget the handshake messages completed so far, in order."""
        steps, self._steps = self._steps, []
        return steps

    def _step(self, chunk: bytes) -> None:
        state = self.state
        if state is ServerState.AWAIT_VERSION:
            try:
                self.version = parse_client_version(chunk)
            except RemoteProtocolError:
                self.state = ServerState.FAILED
                raise
            event = VERSION_INPUTS[self.version]
        elif state is ServerState.AWAIT_SECURITY_TYPE:
            event = (
                HandshakeInput.SECURITY_NONE
                if chunk[0] == SECURITY_NONE
                else HandshakeInput.SECURITY_OTHER
            )
        else:
            self.shared = chunk[0] != 0
            event = HandshakeInput.CLIENT_INIT
        self.state = TRANSITIONS[(state, event)].next_state
        self._steps.append(HandshakeStep(event, chunk, self.state))
