"""Receiving one file: the core that checks every chunk, and the folder it lands in.

:class:`IncomingTransfer` is the core: it takes nothing before the customer's
approval, enforces the declared size and the order of chunks, hashes while writing,
and commits only when the SHA-256 matches the offer. :class:`DownloadFolder` and
:class:`PartFile` are the file-system shell: bytes go to ``.<name>.part-<random>`` in
the destination folder, which is fsynced and placed under its final name only after
the hash matched, and removed on any cancel, error or mismatch. So no half-written
file ever carries the final name.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

from supportdesk.transfer.errors import LocalTransferError
from supportdesk.transfer.lifecycle import IllegalTransition, Step
from supportdesk.transfer.messages import (
    DEFAULT_WINDOW,
    MAX_WINDOW,
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
from supportdesk.transfer.names import free_name
from supportdesk.transfer.transfer_side import TransferSide

PART_MARKER = ".part-"


class ChunkSink(Protocol):
    """Where the receiver writes; nothing is visible under the final name before
    :meth:`commit`."""

    def write(self, data: bytes) -> None: ...

    def commit(self) -> str:
        """Make the bytes durable under the final name; return that name."""
        ...

    def discard(self) -> None:
        """Forget everything written; safe to call more than once."""
        ...


class IncomingTransfer(TransferSide):
    """One file on its way in. Created from a checked offer with its sanitised name;
    :meth:`accept` once the customer approved, then :meth:`receive` each message."""

    def __init__(self, offer: FileOffer, name: str) -> None:
        super().__init__(offer)
        self.name = name
        """The sanitised name the customer was shown."""
        self.sink: ChunkSink | None = None
        self.next_seq = 0
        self.bytes_done = 0
        self.final_name: str | None = None
        self._hash = hashlib.sha256()

    # -- the customer's decision ---------------------------------------------------------

    def accept(self, sink: ChunkSink, window: int = DEFAULT_WINDOW) -> list[TransferMessage]:
        """The customer said yes: write into ``sink``, take ``window`` chunks ahead."""
        if not self.lifecycle.allows(Step.ACCEPT):
            sink.discard()
            raise LocalTransferError(f"cannot accept a transfer in state {self.state.value}")
        if not 1 <= window <= MAX_WINDOW:
            sink.discard()
            raise LocalTransferError(f"window must be 1..{MAX_WINDOW}")
        self.lifecycle.apply(Step.ACCEPT)
        self.sink = sink
        out: list[TransferMessage] = [FileAccept(self.id, window)]
        if self.offer.size == 0:
            self.lifecycle.apply(Step.ALL_BYTES)
            out.extend(self._verify())
        return out

    def decline(self) -> list[TransferMessage]:
        if not self.lifecycle.allows(Step.DECLINE):
            raise LocalTransferError(f"cannot decline a transfer in state {self.state.value}")
        self._stop(Step.DECLINE, "declined")
        return [FileDecline(self.id)]

    # -- what the sender says ------------------------------------------------------------

    def receive(self, message: TransferMessage) -> list[TransferMessage]:
        """Apply the sender's message; returns what to send back."""
        if self.lifecycle.is_terminal:
            return []  # chunks still in flight after our cancel or error
        try:
            if isinstance(message, FileChunk):
                return self._chunk(message)
            if isinstance(message, FileCancel):
                self._stop(Step.CANCEL, message.reason.value)
                return []
            if isinstance(message, FileError):
                self._stop(Step.FAIL, message.code.value)
                return []
        except IllegalTransition as exc:
            return self.fail(ErrorCode.PROTOCOL, str(exc))
        return self.fail(ErrorCode.PROTOCOL, f"{message.TYPE} sent to the receiver")

    def _chunk(self, chunk: FileChunk) -> list[TransferMessage]:
        if not self.lifecycle.allows(Step.CHUNK):
            # Above all: nothing is written before the customer's approval.
            raise IllegalTransition(self.state, Step.CHUNK)
        if chunk.seq != self.next_seq:
            return self.fail(ErrorCode.PROTOCOL, f"chunk {chunk.seq}, expected {self.next_seq}")
        if self.bytes_done + len(chunk.data) > self.offer.size:
            return self.fail(ErrorCode.SIZE_MISMATCH, "more bytes than offered")
        assert self.sink is not None  # accepted implies a sink
        try:
            self.sink.write(chunk.data)
        except OSError as exc:
            return self.fail(ErrorCode.WRITE_FAILED, type(exc).__name__)
        self._hash.update(chunk.data)
        self.lifecycle.apply(Step.CHUNK)
        self.next_seq += 1
        self.bytes_done += len(chunk.data)
        out: list[TransferMessage] = [FileAck(self.id, chunk.seq)]
        if self.bytes_done == self.offer.size:
            self.lifecycle.apply(Step.ALL_BYTES)
            out.extend(self._verify())
        return out

    def _verify(self) -> list[TransferMessage]:
        digest = self._hash.hexdigest()
        if digest != self.offer.sha256:
            return self.fail(ErrorCode.HASH_MISMATCH, "content does not match the offer")
        assert self.sink is not None
        try:
            self.final_name = self.sink.commit()
        except OSError as exc:
            return self.fail(ErrorCode.WRITE_FAILED, type(exc).__name__)
        self.lifecycle.apply(Step.COMPLETE)
        return [FileComplete(self.id, digest)]

    def _release(self) -> None:
        if self.sink is not None:
            self.sink.discard()


# -- the file-system shell -----------------------------------------------------------------


class DownloadFolder:
    """The one folder received files land in (the applet passes e.g.
    ``platformdirs.user_downloads_dir() / "Fernwartung"``; the server a staging
    folder). Nothing is ever written outside it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def ensure(self) -> Path:
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self.path

    def taken(self, name: str) -> bool:
        """Is ``name`` already used? (ask the customer: replace, or keep both)"""
        return os.path.lexists(self.path / name)

    def free_name(self, name: str) -> str:
        return free_name(self.path, name)

    def open_part(self, name: str, *, overwrite: bool = False) -> PartFile:
        """A temporary file for ``name``; ``overwrite`` only after the customer said so."""
        return PartFile(self.ensure(), name, overwrite=overwrite)

    def remove_stale_parts(self) -> int:
        """Delete temporary files a crash left behind; returns how many."""
        removed = 0
        if not self.path.is_dir():
            return 0
        for entry in self.path.iterdir():
            if entry.name.startswith(".") and PART_MARKER in entry.name and entry.is_file():
                with contextlib.suppress(FileNotFoundError):
                    entry.unlink()
                    removed += 1
        return removed


class PartFile:
    """The :class:`ChunkSink` over ``.<name>.part-<random>`` in the destination folder.

    Same folder, so the final move is a rename on one file system, never a copy.
    """

    def __init__(self, folder: Path, name: str, *, overwrite: bool = False) -> None:
        self.folder = folder
        self.name = name
        self.overwrite = overwrite
        descriptor, temp = tempfile.mkstemp(prefix=f".{name}{PART_MARKER}", dir=folder)
        self.temp_path: Path | None = Path(temp)
        self._file = os.fdopen(descriptor, "wb")

    def write(self, data: bytes) -> None:
        self._file.write(data)

    def commit(self) -> str:
        if self.temp_path is None:
            raise OSError("the temporary file is gone")
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            final = self._place(self.temp_path)
            _fsync_folder(self.folder)
        except BaseException:
            self.discard()
            raise
        self.temp_path = None
        return final

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self._file.close()
        if self.temp_path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.temp_path.unlink()
            self.temp_path = None

    def _place(self, temp: Path) -> str:
        if self.overwrite:
            os.replace(temp, self.folder / self.name)
            return self.name
        name = self.name
        # Place without overwriting even if another file took the name meanwhile
        # (the customer approved "Brief.pdf" while a browser saved one): then keep both.
        for _ in range(100):
            try:
                _place_new(temp, self.folder / name)
            except FileExistsError:
                name = free_name(self.folder, self.name)
                continue
            return name
        raise FileExistsError(f"no free name for {self.name!r}")


def _place_new(temp: Path, target: Path) -> None:
    """Give ``temp`` the name ``target`` only if nothing has it, atomically.

    ``os.replace`` would overwrite; a hard link fails on an existing name (POSIX),
    and Windows' rename refuses an existing target by itself.
    """
    if os.name == "nt":
        os.rename(temp, target)
        return
    try:
        os.link(temp, target)
    except FileExistsError:
        raise
    except OSError:
        # No hard links here (FAT, some network shares): check, then replace; the gap
        # between the two is the best such a file system offers.
        if os.path.lexists(target):
            raise FileExistsError(target.name) from None
        os.replace(temp, target)
        return
    temp.unlink()


def _fsync_folder(folder: Path) -> None:
    if os.name == "nt":
        return  # Windows cannot open a directory for fsync; NTFS journals the rename
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
