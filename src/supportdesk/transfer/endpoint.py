"""All file transfers of one side of one session: routing, rules and events, no I/O.

One :class:`TransferEndpoint` per session per side: the applet holds the customer's,
the relay the agent's. The shell feeds it every ``file_*`` control message from the
link (:meth:`TransferEndpoint.receive`), calls it for what the people do (offer,
accept, decline, cancel), calls :meth:`TransferEndpoint.pump` after each of those to
collect the chunks the windows allow, sends everything returned, and drains
:meth:`TransferEndpoint.events` for the display, the audit trail and the receipt.

Rules it enforces on offers it receives, before anyone is asked: the direction fits
the side, the size is within ``max_size``, the name survives :func:`sanitise_name`,
and at most ``max_active`` incoming transfers run at once.

Nothing may hang for ever: the shell calls :meth:`TransferEndpoint.expire` every few
seconds, which cancels (reason ``timeout``) a transfer that has seen no message and
sent no chunk for ``stall_seconds``, or whose offer is unanswered after
``answer_seconds``. Time comes from the injected ``clock`` (monotonic seconds).
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from supportdesk.transfer.errors import InvalidMessage, LocalTransferError
from supportdesk.transfer.lifecycle import TransferState
from supportdesk.transfer.messages import (
    DEFAULT_CHUNK,
    DEFAULT_WINDOW,
    MAX_WINDOW,
    CancelReason,
    Direction,
    ErrorCode,
    FileCancel,
    FileComplete,
    FileError,
    FileOffer,
    TransferMessage,
    parse_message,
)
from supportdesk.transfer.names import UnsafeName, sanitise_name
from supportdesk.transfer.receiver import ChunkSink, IncomingTransfer
from supportdesk.transfer.sender import ChunkSource, OutgoingTransfer

DEFAULT_MAX_SIZE = 100 * 1024 * 1024
FINISHED_REMEMBERED = 256


class Side(Enum):
    CUSTOMER = "customer"
    AGENT = "agent"

    @property
    def incoming(self) -> Direction:
        return Direction.TO_CUSTOMER if self is Side.CUSTOMER else Direction.TO_AGENT

    @property
    def outgoing(self) -> Direction:
        return Direction.TO_AGENT if self is Side.CUSTOMER else Direction.TO_CUSTOMER


@dataclass(frozen=True)
class TransferLimits:
    max_size: int = DEFAULT_MAX_SIZE
    """Largest file accepted or offered, in bytes (checked at the offer and per chunk)."""
    window: int = DEFAULT_WINDOW
    """Unacknowledged chunks this side takes when it receives."""
    max_active: int = 4
    """Incoming transfers at once; more are refused with ``busy``."""
    chunk_size: int = DEFAULT_CHUNK
    stall_seconds: float = 60.0
    """A running transfer with no chunk, ack or answer for this long is cancelled."""
    answer_seconds: float = 300.0
    """An offer nobody has answered for this long is cancelled (the person is away)."""

    def __post_init__(self) -> None:
        if self.max_size < 0 or not 1 <= self.window <= MAX_WINDOW or self.max_active < 1:
            raise ValueError("transfer limits out of range")
        if self.stall_seconds <= 0 or self.answer_seconds <= 0:
            raise ValueError("transfer timeouts must be positive")


class FileTooLarge(LocalTransferError):
    """We were asked to offer a file above our own size cap."""


class UnknownTransfer(LocalTransferError, KeyError):
    """No live transfer has this id (it finished, or never existed)."""


@dataclass(frozen=True)
class TransferEvent:
    """A transfer changed state: what the display, the audit trail and the receipt
    need. ``outcome`` is the cancel reason or error code of a transfer that stopped
    short; ``final_name`` the name a received file was stored under."""

    id: str
    direction: Direction
    name: str
    size: int
    sha256: str
    state: TransferState
    bytes_done: int
    outcome: str | None = None
    final_name: str | None = None

    def audit_data(self) -> dict[str, Any]:
        return {
            "transfer_id": self.id,
            "direction": self.direction.value,
            "name": self.name,
            "size": self.size,
            "sha256": self.sha256,
            "state": self.state.value,
            "outcome": self.outcome,
        }


Transfer = IncomingTransfer | OutgoingTransfer


class TransferEndpoint:
    def __init__(
        self,
        side: Side,
        limits: TransferLimits | None = None,
        new_id: Callable[[], str] = lambda: secrets.token_hex(16),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.side = side
        self.limits = limits or TransferLimits()
        self._new_id = new_id
        self._clock = clock
        self.transfers: dict[str, Transfer] = {}
        self._heard: dict[str, float] = {}  # transfer id -> when it last moved
        self._finished: deque[str] = deque(maxlen=FINISHED_REMEMBERED)
        self._events: list[TransferEvent] = []

    # -- what the people do --------------------------------------------------------------

    def offer(
        self, name: str, size: int, sha256: str, source: ChunkSource
    ) -> list[TransferMessage]:
        """Offer a file the user chose (on the customer's side: after the customer
        confirmed it in the applet). Returns the ``file_offer`` to send."""
        if size > self.limits.max_size:
            source.close()
            raise FileTooLarge(f"{size} bytes exceed the cap of {self.limits.max_size}")
        offer = FileOffer(self._new_id(), self.side.outgoing, name, size, sha256)
        transfer = OutgoingTransfer(offer, source, self.limits.chunk_size)
        self._track(transfer)
        return [offer]

    def accept(
        self, transfer_id: str, sink: ChunkSink, window: int | None = None
    ) -> list[TransferMessage]:
        """The customer approved the incoming ``transfer_id``; write it into ``sink``.
        The sink is discarded if the transfer is gone meanwhile (:class:`UnknownTransfer`)."""
        try:
            transfer = self._incoming(transfer_id)
        except UnknownTransfer:
            sink.discard()
            raise
        return transfer.accept(sink, window or self.limits.window)

    def decline(self, transfer_id: str) -> list[TransferMessage]:
        transfer = self._incoming(transfer_id)
        return transfer.decline()

    def cancel(self, transfer_id: str, reason: CancelReason) -> list[TransferMessage]:
        transfer = self.transfers.get(transfer_id)
        if transfer is None:
            return []
        return transfer.cancel(reason)

    def cancel_all(self, reason: CancelReason) -> list[TransferMessage]:
        """Stop everything: session ended, paused, or file transfer revoked."""
        out: list[TransferMessage] = []
        for transfer_id in list(self.transfers):
            out.extend(self.cancel(transfer_id, reason))
        return out

    def pump(self) -> list[TransferMessage]:
        """Chunks of every outgoing transfer that its window allows now."""
        out: list[TransferMessage] = []
        for transfer in list(self.transfers.values()):
            if isinstance(transfer, OutgoingTransfer):
                chunks = transfer.pump()
                if chunks:
                    self._moved(transfer.id)
                out.extend(chunks)
        return out

    def expire(self) -> list[TransferMessage]:
        """Cancel what has stalled or waited too long for an answer (see the module)."""
        now = self._clock()
        out: list[TransferMessage] = []
        for transfer in list(self.transfers.values()):
            waiting = transfer.state is TransferState.OFFERED
            limit = self.limits.answer_seconds if waiting else self.limits.stall_seconds
            if now - self._heard.get(transfer.id, now) >= limit:
                out.extend(transfer.cancel(CancelReason.TIMEOUT))
        return out

    # -- what the peer says --------------------------------------------------------------

    def receive(self, message: Mapping[str, Any]) -> list[TransferMessage]:
        """Apply one decoded ``file_*`` control message; returns the answers to send.

        A malformed message for a live transfer fails that transfer; one that cannot
        be tied to a live transfer raises :class:`InvalidMessage` (log it, drop it).
        """
        try:
            parsed = parse_message(message)
        except InvalidMessage as exc:
            transfer = self.transfers.get(str(message.get("id")))
            if transfer is None:
                raise
            return transfer.fail(ErrorCode.PROTOCOL, str(exc))
        if isinstance(parsed, FileOffer):
            return self._offered(parsed)
        transfer = self.transfers.get(parsed.id)
        if transfer is None:
            if parsed.id in self._finished or isinstance(
                parsed, FileError | FileCancel | FileComplete
            ):
                return []  # late news of a finished transfer; never answer an answer
            return [FileError(parsed.id, ErrorCode.PROTOCOL, "unknown transfer")]
        self._moved(transfer.id)
        return transfer.receive(parsed)

    def _offered(self, offer: FileOffer) -> list[TransferMessage]:
        if offer.id in self.transfers or offer.id in self._finished:
            return [FileError(offer.id, ErrorCode.PROTOCOL, "transfer id already used")]
        refusal: tuple[ErrorCode, str] | None = None
        name = offer.name
        try:
            name = sanitise_name(offer.name)
        except UnsafeName as exc:
            # Shown and audited escaped, so a refused name cannot play its tricks there.
            name = ascii(offer.name)[1:-1]
            refusal = (ErrorCode.BAD_NAME, exc.problem.value)
        if offer.direction is not self.side.incoming:
            refusal = (ErrorCode.NOT_ALLOWED, f"{offer.direction.value} offered to {self.side}")
        elif offer.size > self.limits.max_size:
            refusal = (ErrorCode.TOO_LARGE, f"cap is {self.limits.max_size} bytes")
        elif sum(isinstance(t, IncomingTransfer) for t in self.transfers.values()) >= (
            self.limits.max_active
        ):
            refusal = (ErrorCode.BUSY, f"{self.limits.max_active} transfers already running")
        transfer = IncomingTransfer(offer, name)
        # A refused offer is never announced as "offered": nobody is to be asked.
        self._track(transfer, announce=refusal is None)
        if refusal is not None:
            return transfer.fail(*refusal)
        return []

    # -- bookkeeping ---------------------------------------------------------------------

    def events(self) -> list[TransferEvent]:
        """State changes since the last call, oldest first."""
        events, self._events = self._events, []
        return events

    def get(self, transfer_id: str) -> Transfer | None:
        return self.transfers.get(transfer_id)

    def _incoming(self, transfer_id: str) -> IncomingTransfer:
        transfer = self.transfers.get(transfer_id)
        if not isinstance(transfer, IncomingTransfer):
            raise UnknownTransfer(transfer_id)
        return transfer

    def _moved(self, transfer_id: str) -> None:
        self._heard[transfer_id] = self._clock()

    def _track(self, transfer: Transfer, *, announce: bool = True) -> None:
        self.transfers[transfer.id] = transfer
        self._moved(transfer.id)
        transfer.lifecycle.on_change = lambda _state: self._note(transfer)
        if announce:
            self._note(transfer)

    def _note(self, transfer: Transfer) -> None:
        self._events.append(
            TransferEvent(
                id=transfer.id,
                direction=transfer.offer.direction,
                name=transfer.name
                if isinstance(transfer, IncomingTransfer)
                else transfer.offer.name,
                size=transfer.offer.size,
                sha256=transfer.offer.sha256,
                state=transfer.state,
                bytes_done=transfer.bytes_done,
                outcome=transfer.outcome,
                final_name=transfer.final_name if isinstance(transfer, IncomingTransfer) else None,
            )
        )
        self._moved(transfer.id)  # accepted, verifying: a change of state is progress
        if transfer.lifecycle.is_terminal:
            self.transfers.pop(transfer.id, None)
            self._heard.pop(transfer.id, None)
            self._finished.append(transfer.id)
