"""RFBServerConnection: the server side of one RFB 3.8 connection, sans I/O.

Feed it what the client sent with :meth:`~RFBServerConnection.receive_data`,
collect what happened with :meth:`~RFBServerConnection.events_received`, write
:meth:`~RFBServerConnection.data_to_send` to the peer. Handshake moves follow
the table in :mod:`supportdesk.rfb.handshake`; after it the connection parses
client messages, answers what the protocol requires on its own (fence
responses, EndOfContinuousUpdates), and builds FramebufferUpdates from a frame
and the damage the caller reported, in the client's pixel format and preferred
encoding. Continuous updates to a client that answers fences are paced: a few
updates on their way at most (:mod:`supportdesk.rfb.update_pacing`).

Typical loop of an I/O shell::

    conn.receive_data(chunk)            # may raise RemoteProtocolError
    for event in conn.events_received(): ...
    conn.add_damage(changed_rects)
    if conn.update_ready:
        conn.send_framebuffer_update(frame)
    transport.write(conn.data_to_send())

On :class:`~supportdesk.rfb.errors.RemoteProtocolError` write what
``data_to_send()`` still holds (a SecurityResult failure, say) and close.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from .client_parser import DEFAULT_MAX_CUT_TEXT, DEFAULT_MAX_ENCODINGS, ClientMessageParser
from .clipboard import EXTENDED_CLIPBOARD_ENCODING, ExtendedClipboardServer
from .copy_moves import MAX_PENDING_COPIES, CopyMoves
from .encodings.base import EncodingType
from .encodings.copyrect import encode_copyrect
from .encodings.pseudo import DesktopSizeReason, DesktopSizeStatus, EncodingPreferences
from .errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from .geometry import Rect
from .handshake import (
    SECURITY_NONE,
    SERVER_VERSION,
    TRANSITIONS,
    ClientInitReceived,
    HandshakeInput,
    ProtocolVersion,
    ProtocolVersionReceived,
    SecurityTypeSelected,
    ServerState,
    encode_security_result,
    encode_security_types,
    encode_server_init,
)
from .handshake_reader import HandshakeReader, HandshakeStep
from .messages import (
    SUPPORTED_FENCE_FLAGS,
    ClientCutText,
    ClientFence,
    ClientMessage,
    EnableContinuousUpdates,
    ExtendedClipboard,
    FenceFlags,
    FramebufferUpdateRequest,
    SetEncodings,
    SetPixelFormat,
    encode_bell,
    encode_end_of_continuous_updates,
    encode_framebuffer_update_header,
    encode_rectangle_header,
    encode_server_cut_text,
    encode_server_fence,
)
from .pixel_format import NATIVE_PIXEL_FORMAT, PixelFormat, as_rgb
from .pixel_rects import PixelRects
from .pseudo_rects import PseudoRects
from .update_pacing import UpdatePacer
from .update_tracker import UpdateTracker

__all__ = ["MAX_PENDING_COPIES", "Event", "RFBServerConnection"]

Event = ProtocolVersionReceived | SecurityTypeSelected | ClientInitReceived | ClientMessage
"""Anything :meth:`RFBServerConnection.events_received` returns."""

_MAX_RECTANGLES = 0xFFFF

VERSION_STEPS = frozenset(
    {HandshakeInput.VERSION_3_3, HandshakeInput.VERSION_3_7, HandshakeInput.VERSION_3_8}
)


class RFBServerConnection:
    """One client's RFB 3.8 session, seen from the server; no sockets, no clocks.

    ``width``/``height`` and ``name`` go into ServerInit, with ``pixel_format``
    (default: 32-bit BGRX little-endian). ``max_cut_text`` and ``max_encodings``
    bound what the client may send; see :mod:`supportdesk.rfb.client_parser`.
    """

    def __init__(
        self,
        width: int,
        height: int,
        name: str = "supportdesk",
        *,
        pixel_format: PixelFormat = NATIVE_PIXEL_FORMAT,
        max_cut_text: int = DEFAULT_MAX_CUT_TEXT,
        max_encodings: int = DEFAULT_MAX_ENCODINGS,
        screen_id: int = 0,
    ) -> None:
        _check_size(width, height)
        self.width = width
        self.height = height
        self.name = name
        self.server_pixel_format = pixel_format
        self.pixel_format = pixel_format
        self.preferences = EncodingPreferences()
        self.screen_id = screen_id
        self.state = ServerState.AWAIT_VERSION
        self.version: ProtocolVersion | None = None
        self.shared: bool | None = None
        self.error: ProtocolError | None = None
        self._handshake = HandshakeReader()
        self._out = bytearray(SERVER_VERSION.value)
        self._events: list[Event] = []
        self._parser = ClientMessageParser(max_cut_text=max_cut_text, max_encodings=max_encodings)
        self._tracker = UpdateTracker(width, height)
        self._pixels = PixelRects()
        self._moves = CopyMoves(self._tracker)
        self._pseudo = PseudoRects()
        self._pacer = UpdatePacer()
        self.max_update_area: int | None = None
        """About how many changed pixels one update carries (None: all); the rest goes
        with the next. Areas the client asked for non-incrementally always go whole."""
        self._continuous_announced = False
        self._fence_announced = False
        self._extended_size_announced = False
        self._clipboard = ExtendedClipboardServer(max_cut_text)
        self._extended_clipboard = False
        self._clipboard_allowed = False
        self.clipboard_refused = 0

    # -- I/O-facing API -----------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Process bytes from the client; raises RemoteProtocolError if they break the protocol."""
        if self.state in (ServerState.FAILED, ServerState.CLOSED):
            raise RemoteProtocolError(f"connection is {self.state.value}: no more data expected")
        try:
            if not self._handshake.done:
                data = self._handshake.receive_data(data)
                for step in self._handshake.steps_received():
                    self._handle_handshake(step)
            if self.state is ServerState.OPEN and data:
                self._parser.receive_data(data)
                for parsed in self._parser.messages_received():
                    self._handle_message(parsed.message)
        except RemoteProtocolError as exc:
            self.error = exc
            failure = TRANSITIONS.get((self.state, HandshakeInput.PROTOCOL_VIOLATION))
            if failure is not None:
                self.state = failure.next_state
            raise

    def receive_eof(self) -> None:
        """The client closed its side; raises RemoteProtocolError if it stopped mid-message."""
        if self.state in (ServerState.FAILED, ServerState.CLOSED):
            return
        mid_message = self._handshake.buffered > 0 or self._parser.buffered > 0
        self._move(HandshakeInput.END_OF_STREAM)
        if mid_message:
            self.error = RemoteProtocolError("connection closed in the middle of a message")
            raise self.error

    def events_received(self) -> list[Event]:
        """Return and forget the events since the last call, in order."""
        events, self._events = self._events, []
        return events

    def data_to_send(self) -> bytes:
        """Return and forget the bytes to write to the client."""
        data, self._out = bytes(self._out), bytearray()
        return data

    # -- state ----------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        """True once the handshake is done and until the connection fails or closes."""
        return self.state is ServerState.OPEN

    @property
    def update_requested(self) -> bool:
        """True if the client waits for an update or continuous updates are on."""
        return self.is_open and self._tracker.requested

    @property
    def update_ready(self) -> bool:
        """True if :meth:`send_framebuffer_update` would send something now."""
        if not self.update_requested or self._held_back:
            return False
        return bool(self._pseudo_pending() or self._moves or self._tracker.plan())

    @property
    def damage_pending(self) -> bool:
        """True if changes are known that no update carried yet (requested or not)."""
        return bool(self._tracker.damage or self._moves)

    @property
    def pending_area(self) -> int:
        """Pixels the next update would carry (for the I/O shell's choice of thread)."""
        return sum(rect.area for rect in self._tracker.plan(self.max_update_area))

    @property
    def continuous_updates(self) -> bool:
        """True while the client has continuous updates enabled."""
        return self._tracker.continuous_area is not None

    @property
    def _held_back(self) -> bool:
        # Continuous updates to a viewer that answers fences: paced (rfb/update_pacing.py).
        return self.continuous_updates and self.preferences.fence and self._pacer.blocked

    @property
    def clipboard_allowed(self) -> bool:
        """Whether the Extended Clipboard's request, peek, notify and provide are answered.

        False by default: the I/O shell sets it to whether the customer allows control
        right now. While False those messages are ignored (counted in
        ``clipboard_refused``) -- a request for the customer's clipboard is input like a
        KeyEvent -- and text held for a later request is forgotten. Caps are always taken.
        """
        return self._clipboard_allowed

    @clipboard_allowed.setter
    def clipboard_allowed(self, allowed: bool) -> None:
        self._clipboard_allowed = allowed
        if not allowed:
            self._clipboard.forget()

    # -- sending ---------------------------------------------------------------------------

    def add_damage(self, rects: Iterable[Rect]) -> None:
        """Report changed areas of the framebuffer; they go out with the next updates."""
        self._tracker.add_damage(rects)

    def copy_rect(self, dst: Rect, src_x: int, src_y: int) -> None:
        """Report that ``dst`` now shows what was at ``src_x, src_y`` (a scroll or move).

        Sent as CopyRect if the client supports it and asks for that area;
        otherwise, or when too many moves queue up, ``dst`` is sent as pixels.
        """
        self._require_open()
        self._moves.add(dst, src_x, src_y, as_copy=self.preferences.copy_rect)

    def send_framebuffer_update(self, frame: npt.NDArray[Any]) -> int:
        """Send one FramebufferUpdate from ``frame`` (H x W x 3|4 uint8 RGB[X]).

        Carries pending size/cursor pseudo-rectangles, queued CopyRect moves and
        the damaged parts of the requested area. Returns the number of rectangles
        sent; 0 means nothing was due and nothing was sent. Raises
        LocalProtocolError if the client has not asked for an update.
        """
        self._require_open()
        if not self._tracker.requested:
            raise LocalProtocolError("the client has not requested a framebuffer update")
        if self._held_back:
            return 0
        rgb = as_rgb(frame)
        if rgb.shape[:2] != (self.height, self.width):
            raise LocalProtocolError(
                f"frame is {rgb.shape[1]}x{rgb.shape[0]}, framebuffer is {self.width}x{self.height}"
            )
        pseudo = self._encode_pseudo_rects()
        moves = self._moves.take()
        if not pseudo and not moves and not self._tracker.plan():
            return 0
        encoder = self._pixels.encoder(self.preferences)
        rects = self._tracker.take(self.max_update_area)
        tiles = [tile for rect in rects for tile in encoder.subrects(rgb, rect)]
        budget = _MAX_RECTANGLES - len(pseudo) - len(moves)
        if len(tiles) > budget:
            # The count is a U16: what does not fit stays damaged and goes with the next update.
            self._tracker.add_damage(tiles[budget:])
            tiles = tiles[:budget]
        count = len(pseudo) + len(moves) + len(tiles)
        out = self._out
        out += encode_framebuffer_update_header(count)
        for rect_bytes in pseudo:
            out += rect_bytes
        for move in moves:
            d = move.dst
            out += encode_rectangle_header(d.x, d.y, d.width, d.height, EncodingType.COPY_RECT)
            out += encode_copyrect(move.src_x, move.src_y)
        self._pixels.write(
            out, rgb, tiles, encoder, self.pixel_format, self._tracker.overlaps_damage
        )
        if self.continuous_updates and self.preferences.fence:
            out += self._pacer.sent()
        return count

    @property
    def lossy_bounds(self) -> Rect | None:
        """The bounding box of what the viewer shows from JPEG and was not sent exactly since."""
        return self._pixels.lossy_bounds

    @property
    def lossy_sent(self) -> int:
        """How many rectangles went out as JPEG so far; it grows while a picture moves."""
        return self._pixels.lossy_sent

    def refresh_lossy(self) -> bool:
        """Resend every area the viewer shows from JPEG, without JPEG, with the next update.

        The I/O shell calls it once those areas stopped changing (TurboVNC's lossless
        refresh): a moving picture goes out small and fast, what stays is exact.
        Returns False if there was nothing to refresh.
        """
        rects = self._pixels.refresh_lossy()
        if not rects:
            return False
        self._tracker.add_damage(rects)
        return True

    def send_cut_text(self, text: str) -> None:
        """Give the client new clipboard text (the customer's).

        As UTF-8 through the Extended Clipboard if the client announced it (held until
        the client requests it), else as Latin-1 ServerCutText, where characters
        outside Latin-1 become ``?``. Text over ``max_cut_text`` bytes (in the encoding
        used) is a LocalProtocolError: the caller decides what to drop; so is any text
        while :attr:`clipboard_allowed` is False.
        """
        self._require_open()
        if not self._clipboard_allowed:
            raise LocalProtocolError("the clipboard is closed: control is not allowed")
        if self._extended_clipboard and self._clipboard.can_offer:
            self._out += self._clipboard.offer(text)
            return
        size = len(text)  # Latin-1: one byte per character
        if size > self._parser.max_cut_text:
            raise LocalProtocolError(
                f"clipboard text of {size} bytes exceeds {self._parser.max_cut_text}"
            )
        self._out += encode_server_cut_text(text)

    @property
    def max_cut_text(self) -> int:
        """The largest clipboard text, in bytes, taken from or sent to the client."""
        return self._parser.max_cut_text

    def restart_compression(self) -> None:
        """Restart the Tight zlib streams: later updates decode without earlier history.

        Call right after taking a recording keyframe (docs/recording-format.md, K2).
        """
        self._pixels.tight.restart_streams()

    def send_bell(self) -> None:
        """Send Bell."""
        self._require_open()
        self._out += encode_bell()

    def send_fence(self, flags: int, payload: bytes = b"") -> None:
        """Send a ServerFence request; only for clients that announced the Fence extension."""
        self._require_open()
        if not self.preferences.fence:
            raise LocalProtocolError("the client did not announce the Fence pseudo-encoding")
        self._out += encode_server_fence(
            (flags | FenceFlags.REQUEST) & SUPPORTED_FENCE_FLAGS, payload
        )

    def set_cursor(self, hotspot_x: int, hotspot_y: int, rgba: npt.NDArray[np.uint8]) -> bool:
        """Queue a cursor shape (H x W x 4 RGBA) for the next update; False if unsupported."""
        self._require_open()
        if rgba.dtype != np.uint8 or rgba.ndim != 3 or rgba.shape[2] != 4:
            raise ValueError("cursor must be an H x W x 4 uint8 RGBA array")
        if not self.preferences.cursor:
            return False
        self._pseudo.cursor(hotspot_x, hotspot_y, rgba)
        return True

    @property
    def supports_resize(self) -> bool:
        """True if the client understands DesktopSize or ExtendedDesktopSize."""
        return self.preferences.desktop_size or self.preferences.extended_desktop_size

    def resize(
        self, width: int, height: int, reason: DesktopSizeReason = DesktopSizeReason.SERVER
    ) -> None:
        """Change the framebuffer size; the client learns it with the next update."""
        self._require_open()
        _check_size(width, height)
        if not self.supports_resize:
            raise LocalProtocolError("the client cannot be told about a new desktop size")
        self.width, self.height = width, height
        self._tracker.resize(width, height)
        self._moves.clear()
        self._pseudo.resized(reason)

    def reply_desktop_size(self, status: DesktopSizeStatus) -> None:
        """Answer a SetDesktopSize without resizing (refusal, or acceptance of the same size)."""
        self._require_open()
        if not self.preferences.extended_desktop_size:
            raise LocalProtocolError("the client did not announce ExtendedDesktopSize")
        self._pseudo.answer_size_request(status)

    # -- internals ---------------------------------------------------------------------------

    def _move(self, event: HandshakeInput) -> None:
        transition = TRANSITIONS.get((self.state, event))
        if transition is None:
            raise RemoteProtocolError(f"{event.value} is not allowed in state {self.state.value}")
        self.state = transition.next_state

    def _require_open(self) -> None:
        if self.state is not ServerState.OPEN:
            raise LocalProtocolError(f"cannot send in state {self.state.value}")

    def _handle_handshake(self, step: HandshakeStep) -> None:
        """Answer one handshake message the shared reader took off the stream."""
        self.state = step.state
        if step.input in VERSION_STEPS:
            self.version = self._handshake.version
            assert self.version is not None
            if self.version is ProtocolVersion.V3_3:
                self._out += SECURITY_NONE.to_bytes(4, "big")
            else:
                self._out += encode_security_types()
            self._events.append(ProtocolVersionReceived(self.version))
        elif step.input is HandshakeInput.SECURITY_OTHER:
            reason = f"security type {step.raw[0]} was not offered"
            if self.version is ProtocolVersion.V3_8:
                self._out += encode_security_result(False, reason)
            raise RemoteProtocolError(reason)
        elif step.input is HandshakeInput.SECURITY_NONE:
            if self.version is ProtocolVersion.V3_8:
                self._out += encode_security_result(True)
            self._events.append(SecurityTypeSelected(SECURITY_NONE))
        else:
            self.shared = self._handshake.shared
            self._out += encode_server_init(
                self.width, self.height, self.server_pixel_format, self.name
            )
            self._events.append(ClientInitReceived(bool(self.shared)))

    def _handle_message(self, message: ClientMessage) -> None:
        self._move(HandshakeInput.CLIENT_MESSAGE)
        if isinstance(message, SetPixelFormat):
            self.pixel_format = message.pixel_format
        elif isinstance(message, SetEncodings):
            self._set_encodings(message.encodings)
        elif isinstance(message, FramebufferUpdateRequest):
            area = Rect(message.x, message.y, message.width, message.height)
            self._tracker.request(area, incremental=message.incremental)
        elif isinstance(message, EnableContinuousUpdates):
            if not self._continuous_announced:
                raise RemoteProtocolError(
                    "EnableContinuousUpdates before the server confirmed the extension"
                )
            self._pacer.reset()
            if message.enable:
                area = Rect(message.x, message.y, message.width, message.height)
                self._tracker.set_continuous(area)
            else:
                self._tracker.set_continuous(None)
                self._out += encode_end_of_continuous_updates()
        elif isinstance(message, ClientFence):
            if message.is_request:
                flags = message.flags & SUPPORTED_FENCE_FLAGS & ~FenceFlags.REQUEST
                self._out += encode_server_fence(flags, message.payload)
            else:
                self._pacer.answered(message)
        elif isinstance(message, ExtendedClipboard):
            # Answered here; only provided text is the application's business.
            if not message.is_caps and not self._clipboard_allowed:
                self.clipboard_refused += 1
                return
            reply = self._clipboard.receive(message)
            self._out += reply.data
            if reply.text is not None:
                self._events.append(ClientCutText(reply.text))
            return
        self._events.append(message)

    def _set_encodings(self, encodings: tuple[int, ...]) -> None:
        prefs = EncodingPreferences.from_encodings(encodings)
        self.preferences = prefs
        self._pixels.configure(prefs)
        if prefs.continuous_updates and not self._continuous_announced:
            self._continuous_announced = True
            self._out += encode_end_of_continuous_updates()
        if prefs.fence and not self._fence_announced:
            self._fence_announced = True
            self._out += encode_server_fence(FenceFlags.REQUEST, b"")
        self._extended_clipboard = EXTENDED_CLIPBOARD_ENCODING in encodings
        if self._extended_clipboard and not self._clipboard.announced:
            self._out += self._clipboard.announce()
        if prefs.extended_desktop_size and not self._extended_size_announced:
            self._extended_size_announced = True
            self._pseudo.announce_size()
        if not prefs.copy_rect and self._moves:
            self._moves.send_as_pixels()

    def _pseudo_pending(self) -> bool:
        return self._pseudo.pending(self.preferences)

    def _encode_pseudo_rects(self) -> list[bytes]:
        return self._pseudo.take(
            self.preferences, self.width, self.height, self.screen_id, self.pixel_format
        )


def _check_size(width: int, height: int) -> None:
    if not (0 < width <= 0xFFFF and 0 < height <= 0xFFFF):
        raise ValueError(f"framebuffer size {width}x{height} is outside 1..65535")
