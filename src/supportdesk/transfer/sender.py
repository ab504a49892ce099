"""Sending one file: the core that turns a byte source into chunks within the window.

The sender hashes the whole file before it offers it (:func:`hash_file`), so the
offer carries the SHA-256 that the customer's approval, the audit trail and the
receipt name, and the receiver can check every byte against it. While sending, the
core hashes again: a file that changed after its offer is failed with
``source_changed`` before its last chunk leaves, rather than by the receiver's
mismatch. :class:`FileSource` is the thin file-system shell the core reads through.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from supportdesk.transfer.lifecycle import IllegalTransition, Step, TransferState
from supportdesk.transfer.messages import (
    DEFAULT_CHUNK,
    MAX_CHUNK,
    ErrorCode,
    FileAccept,
    FileAck,
    FileCancel,
    FileChunk,
    FileComplete,
    FileDecline,
    FileError,
    FileOffer,
    TransferMessage,
)
from supportdesk.transfer.transfer_side import TransferSide

HASH_BLOCK = 1024 * 1024


class ChunkSource(Protocol):
    """Where the sender reads the offered bytes from, in order."""

    def read(self, size: int) -> bytes: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class FileDigest:
    size: int
    sha256: str


def hash_file(path: Path) -> FileDigest:
    """Size and SHA-256 of ``path``, read once in 1 MiB blocks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        while block := file.read(HASH_BLOCK):
            digest.update(block)
            size += len(block)
    return FileDigest(size, digest.hexdigest())


class FileSource:
    """A file opened for sending: the :class:`ChunkSource` over a real path."""

    def __init__(self, path: Path) -> None:
        self._file: BinaryIO | None = path.open("rb")

    def read(self, size: int) -> bytes:
        if self._file is None:
            raise OSError("the source is closed")
        return self._file.read(size)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class OutgoingTransfer(TransferSide):
    """One file on its way out: feed it the peer's answers with :meth:`receive`, call
    :meth:`pump` whenever the window may have opened, send what both return."""

    def __init__(
        self, offer: FileOffer, source: ChunkSource, chunk_size: int = DEFAULT_CHUNK
    ) -> None:
        if not 0 < chunk_size <= MAX_CHUNK:
            raise ValueError(f"chunk size must be 1..{MAX_CHUNK}")
        super().__init__(offer)
        self.source: ChunkSource | None = source
        self.chunk_size = chunk_size
        self.window = 0
        self.next_seq = 0
        self.acked_seq = -1
        self.bytes_sent = 0
        self._hash = hashlib.sha256()

    @property
    def bytes_done(self) -> int:
        """Bytes the receiver confirmed (progress for the sending side's display)."""
        return min(self.offer.size, (self.acked_seq + 1) * self.chunk_size)

    # -- what the peer says ------------------------------------------------------------

    def receive(self, message: TransferMessage) -> list[TransferMessage]:
        """Apply the receiver's answer; returns what to send back (usually nothing)."""
        if self.lifecycle.is_terminal:
            return []  # chunks and acks still in flight after a cancel or error
        try:
            if isinstance(message, FileAccept):
                self.lifecycle.apply(Step.ACCEPT)
                self.window = message.window
                if self.offer.size == 0:
                    self.lifecycle.apply(Step.ALL_BYTES)
                    self._release()
            elif isinstance(message, FileDecline):
                self._stop(Step.DECLINE, "declined")
            elif isinstance(message, FileAck):
                if not self.acked_seq < message.seq < self.next_seq:
                    return self.fail(ErrorCode.PROTOCOL, f"ack {message.seq} out of order")
                self.lifecycle.apply(Step.ACK)
                self.acked_seq = message.seq
            elif isinstance(message, FileComplete):
                if message.sha256 != self.offer.sha256:
                    return self.fail(ErrorCode.HASH_MISMATCH, "completed with another hash")
                self.lifecycle.apply(Step.COMPLETE)
            elif isinstance(message, FileCancel):
                self._stop(Step.CANCEL, message.reason.value)
            elif isinstance(message, FileError):
                self._stop(Step.FAIL, message.code.value)
            else:
                return self.fail(ErrorCode.PROTOCOL, f"{message.TYPE} sent to the sender")
        except IllegalTransition as exc:
            return self.fail(ErrorCode.PROTOCOL, str(exc))
        return []

    # -- what we send ------------------------------------------------------------------

    def pump(self) -> list[TransferMessage]:
        """The chunks the window allows now (or the error that stopped them)."""
        out: list[TransferMessage] = []
        while (
            self.state in (TransferState.ACCEPTED, TransferState.TRANSFERRING)
            and self.next_seq - self.acked_seq - 1 < self.window
        ):
            want = min(self.chunk_size, self.offer.size - self.bytes_sent)
            try:
                data = self._read(want)
            except OSError as exc:
                return [*out, *self.fail(ErrorCode.READ_FAILED, type(exc).__name__)]
            if len(data) < want:
                return [*out, *self.fail(ErrorCode.SOURCE_CHANGED, "the file got shorter")]
            self._hash.update(data)
            last = self.bytes_sent + len(data) == self.offer.size
            if last and self._hash.hexdigest() != self.offer.sha256:
                # Do not let the receiver write a file that is not what was approved.
                return [*out, *self.fail(ErrorCode.SOURCE_CHANGED, "the file changed")]
            out.append(FileChunk(self.id, self.next_seq, data))
            self.lifecycle.apply(Step.CHUNK)
            self.next_seq += 1
            self.bytes_sent += len(data)
            if last:
                self.lifecycle.apply(Step.ALL_BYTES)
                self._release()
        return out

    # -- internals ---------------------------------------------------------------------

    def _read(self, size: int) -> bytes:
        if self.source is None:
            raise OSError("the source is closed")
        parts: list[bytes] = []
        # A source may return short reads (pipes, network files): read until full or EOF.
        while size > 0:
            block = self.source.read(size)
            if not block:
                break
            parts.append(block)
            size -= len(block)
        return b"".join(parts)

    def _release(self) -> None:
        if self.source is not None:
            self.source.close()
            self.source = None
