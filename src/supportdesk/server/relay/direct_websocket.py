"""uvicorn's WebSocket protocol with a direct path for the relay's binary messages.

Through ASGI, every WebSocket message waits in a queue for the app's task to come
round, reading pauses until the app has taken it, and every send walks down the
middleware stack. For a live session's screen updates that is most of the relay's
work and, under load, most of its added latency. This protocol is uvicorn's own
sans-I/O WebSocket protocol with one addition, offered to the app as the scope
extension ``supportdesk.direct`` (:class:`DirectSocket`, found with
:func:`direct_socket`):

- ``take_binary(handler)``: binary messages go to ``handler`` as soon as they are
  parsed, in order, on the event loop's reading callback; text messages, close and
  disconnect still reach the app through ``receive()``. The handler must not raise
  and must not block; it applies its own backpressure with ``pause_reading()``.
- ``send_now(data)``: a binary message goes out at once if the transport takes it
  without waiting; otherwise the caller uses the ASGI send, which waits.

Handshake, authentication, Origin checks and closing stay on the ASGI path: the
endpoint accepts the socket as usual and only then takes the data path over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.exceptions import InvalidState

log = logging.getLogger(__name__)

EXTENSION = "supportdesk.direct"

BinaryHandler = Callable[[bytes], None]


class DirectSocket:
    """The direct path of one WebSocket connection (see the module's docstring)."""

    def __init__(self, protocol: DirectWebSocketProtocol) -> None:
        self._protocol = protocol
        self.handler: BinaryHandler | None = None
        self._paused = False

    def take_binary(self, handler: BinaryHandler | None) -> None:
        """Hand binary messages to ``handler`` from now on (None: back to ``receive()``).

        Binary messages already queued for ``receive()`` go to the handler first, so
        nothing is reordered.
        """
        protocol = self._protocol
        self.handler = handler
        if handler is None:
            return
        queue = protocol.queue
        kept: list[Any] = []
        while not queue.empty():
            message = queue.get_nowait()
            data = message.get("bytes") if message["type"] == "websocket.receive" else None
            if data is not None:
                self.deliver(data)
            else:
                kept.append(message)
        for message in kept:
            queue.put_nowait(message)
        if protocol.read_paused and queue.empty() and not self._paused:
            protocol.read_paused = False
            protocol.transport.resume_reading()

    def deliver(self, data: bytes) -> None:
        handler = self.handler
        assert handler is not None
        try:
            handler(data)
        except Exception:  # a handler bug must not take uvicorn's reading callback down
            log.exception("direct WebSocket handler failed; closing the connection")
            self._protocol.fail()

    def pause_reading(self) -> None:
        """Stop reading from the peer until :meth:`resume_reading`."""
        if not self._paused:
            self._paused = True
            if not self._protocol.transport.is_closing():
                self._protocol.transport.pause_reading()

    def resume_reading(self) -> None:
        if self._paused:
            self._paused = False
            if not self._protocol.transport.is_closing():
                self._protocol.transport.resume_reading()

    def send_now(self, data: bytes) -> bool:
        """Send ``data`` as one binary message if that needs no wait; False if not sent."""
        protocol = self._protocol
        if (
            not protocol.handshake_complete
            or protocol.close_sent
            or not protocol.writable.is_set()
            or protocol.transport.is_closing()
        ):
            return False
        try:
            protocol.conn.send_binary(data)
        except InvalidState:  # closing: the ASGI send reports it
            return False
        protocol.transport.write(b"".join(protocol.conn.data_to_send()))
        return True


class DirectWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol, plus :class:`DirectSocket` in the scope."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.direct = DirectSocket(self)

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # absent when the upgrade was refused
        if scope is not None:
            scope["extensions"][EXTENSION] = self.direct

    def send_receive_event_to_app(self) -> None:
        if self.direct.handler is None or self.curr_msg_data_type != "bytes" or self.close_sent:
            super().send_receive_event_to_app()
            return
        data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
        self.frames = []
        self.direct.deliver(data)

    def fail(self) -> None:
        """Close the connection as an internal error (1011)."""
        self.direct.handler = None
        if not self.transport.is_closing():
            self.conn.fail(1011)
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.transport.close()


def direct_socket(scope: dict[str, Any] | Any) -> DirectSocket | None:
    """The connection's direct path, if the server runs :class:`DirectWebSocketProtocol`."""
    extensions = scope.get("extensions") or {}
    found = extensions.get(EXTENSION)
    return found if isinstance(found, DirectSocket) else None
