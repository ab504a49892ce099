"""RecordingReader: opens a recording with the master key, indexes, checks and iterates it.

Opening reads the file header, unwraps the data key and scans the chunk headers
(no decryption) into a :class:`~supportdesk.recording.index.RecordingIndex`. A
partial chunk at the end (the writer was killed mid-write) is not an error: the
recording reads up to the last complete chunk and says it is ``truncated``.
Every chunk body read is checked (GCM tag over header and body); reading in order
also checks the hash chain. :func:`verify` checks everything, and names the first
bad chunk.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum
from pathlib import Path
from types import TracebackType

from .crypto import ChunkCodec, chain_seed, chunk_hash, unwrap_data_key
from .errors import ChunkInvalid, RecordingDestroyed, RecordingInvalid, WrongMasterKey
from .format import (
    CHUNK_HEADER_SIZE,
    FILE_HEADER_SIZE_V1,
    MAX_FILE_HEADER_SIZE,
    NO_LINK,
    ChunkHeader,
    FileHeader,
    Record,
    RecordKind,
)
from .index import ChunkEntry, RecordingIndex

__all__ = [
    "Problem",
    "RecordingReader",
    "ScanResult",
    "VerificationReport",
    "scan_chunks",
    "verify",
]


# -- scanning (pure over a read function) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScanResult:
    entries: list[ChunkEntry]
    truncated_at: int | None
    """File offset where an incomplete chunk starts, or None."""
    damaged: ChunkInvalid | None
    """A chunk header no writer produces: scanning stopped there."""


def scan_chunks(
    read_at: Callable[[int, int], bytes], size: int, start: int = FILE_HEADER_SIZE_V1
) -> ScanResult:
    """Walk the chunk headers of a file of ``size`` bytes from ``start`` (the file
    header's size); ``read_at(offset, n)`` reads."""
    entries: list[ChunkEntry] = []
    offset = start
    while offset < size:
        position = len(entries)
        if offset + CHUNK_HEADER_SIZE > size:
            return ScanResult(entries, offset, None)
        try:
            header = ChunkHeader.parse(read_at(offset, CHUNK_HEADER_SIZE))
        except RecordingInvalid as exc:
            return ScanResult(entries, None, ChunkInvalid(position, str(exc)))
        if header.sequence != position:
            problem = f"sequence number {header.sequence} where {position} belongs"
            return ScanResult(entries, None, ChunkInvalid(position, problem))
        entry = ChunkEntry(offset, header)
        if entry.end > size:
            return ScanResult(entries, offset, None)
        entries.append(entry)
        offset = entry.end
    return ScanResult(entries, None, None)


# -- reading -------------------------------------------------------------------------------


class RecordingReader:
    """An open recording; use as a context manager or call :meth:`close`."""

    def __init__(self, path: str | os.PathLike[str], master_key: bytes) -> None:
        self.path = Path(path)
        self._fd = os.open(self.path, os.O_RDONLY)
        try:
            self._size = os.fstat(self._fd).st_size
            head = os.pread(self._fd, MAX_FILE_HEADER_SIZE, 0)
            self.header_bytes = head[: FileHeader.size_of(head)]
            self.header = FileHeader.parse(self.header_bytes)
            self._codec = ChunkCodec(unwrap_data_key(self.header, master_key))
            scan = scan_chunks(self._read, self._size, self.header.size)
        except BaseException:
            os.close(self._fd)
            raise
        self.index = RecordingIndex(scan.entries)
        self.truncated_at = scan.truncated_at
        self.damaged = scan.damaged
        self.chunks_read = 0
        """How many chunk bodies were read and decrypted (tests assert O(1) seeks with it)."""

    @classmethod
    def open(cls, path: str | os.PathLike[str], master_key: bytes) -> RecordingReader:
        return cls(path, master_key)

    def __enter__(self) -> RecordingReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    # -- facts -------------------------------------------------------------------------

    @property
    def consultation_number(self) -> str:
        return self.header.consultation_number

    @property
    def started_at(self) -> datetime:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=self.header.created_at_us)

    @property
    def truncated(self) -> bool:
        return self.truncated_at is not None

    @property
    def segment(self) -> int:
        """1 for a session's first file, n for the file that continues segment n - 1."""
        return self.header.segment

    @property
    def previous_hash(self) -> bytes:
        """The final hash of the previous segment this file carries (zeros for segment 1)."""
        return self.header.previous_hash

    @property
    def closed_cleanly(self) -> bool:
        return self.index.closed_cleanly and not self.truncated and self.damaged is None

    @property
    def duration_us(self) -> int:
        return self.index.duration_us

    # -- chunks and records --------------------------------------------------------------

    def read_chunk_bytes(self, position: int) -> tuple[bytes, bytes]:
        """Raw header and body of the chunk at ``position`` (no checks)."""
        entry = self.index.entries[position]
        data = self._read(entry.offset, CHUNK_HEADER_SIZE + entry.header.body_length)
        return data[:CHUNK_HEADER_SIZE], data[CHUNK_HEADER_SIZE:]

    def read_chunk(self, position: int) -> list[Record]:
        """The records of one chunk, after checking its tag; raises ChunkInvalid."""
        records, _ = self._open_chunk(position)
        return records

    def records(
        self,
        start_us: int = 0,
        end_us: int | None = None,
        *,
        kinds: Container[RecordKind] | None = None,
        channel: int | None = None,
        from_chunk: int | None = None,
    ) -> Iterator[Record]:
        """Records in time order, filtered; checks tags and the chain between chunks read."""
        first = self.index.first_chunk_at(start_us) if from_chunk is None else from_chunk
        previous: bytes | None = None
        if first == 0:
            previous = chain_seed(self.header_bytes)
        for position in range(first, len(self.index)):
            entry = self.index.entries[position]
            if end_us is not None and entry.header.first_us > end_us:
                return
            if previous is not None and entry.header.prev_hash != previous:
                raise ChunkInvalid(position, "hash chain broken")
            records, previous = self._open_chunk(position)
            for record in records:
                if record.at_us < start_us:
                    continue
                if end_us is not None and record.at_us > end_us:
                    return
                if kinds is not None and record.kind not in kinds:
                    continue
                if channel is not None and record.channel != channel:
                    continue
                yield record
        if self.damaged is not None:
            raise self.damaged  # a truncated tail is normal after a crash; damage is not

    def events(self) -> Iterator[Record]:
        """Control, chat and file-event records, reading only chunks flagged as holding them."""
        wanted = {RecordKind.CONTROL, RecordKind.CHAT, RecordKind.FILE_EVENT}
        for position in self.index.event_chunks:
            for record in self.read_chunk(position):
                if record.kind in wanted:
                    yield record

    def check_chunk(self, position: int, head: bytes, body: bytes) -> list[Record]:
        """Decrypt and parse chunk bytes read with :meth:`read_chunk_bytes`; raises ChunkInvalid."""
        self.chunks_read += 1
        return self._codec.open(self.index.entries[position].header, head, body)

    def _open_chunk(self, position: int) -> tuple[list[Record], bytes]:
        head, body = self.read_chunk_bytes(position)
        return self.check_chunk(position, head, body), chunk_hash(head, body)

    def _read(self, offset: int, size: int) -> bytes:
        data = os.pread(self._fd, size, offset)
        if len(data) != size:
            raise RecordingInvalid(f"short read at offset {offset}")
        return data


# -- verification --------------------------------------------------------------------------


class Problem(Enum):
    """The first thing :func:`verify` found wrong."""

    NOT_A_RECORDING = "not a recording"
    WRONG_MASTER_KEY = "wrong master key"
    DESTROYED = "data key destroyed"
    BAD_CHUNK_HEADER = "bad chunk header"
    TAG_MISMATCH = "authentication tag mismatch"
    CHAIN_BROKEN = "hash chain broken"
    BAD_CHUNK_CONTENT = "bad chunk content"
    TRUNCATED = "truncated"
    FINAL_HASH_MISMATCH = "final hash differs from the audit trail"


@dataclass(frozen=True, slots=True)
class VerificationReport:
    path: Path
    problem: Problem | None
    first_bad_chunk: int | None
    """Sequence number of the first chunk that failed (the partial one if truncated)."""
    detail: str
    consultation_number: str | None
    chunks_ok: int
    records: int
    duration_us: int
    final_hash: str | None
    """Hex hash of the last good chunk: compare with the audit trail."""
    closed_cleanly: bool
    segment: int = 1
    """The segment number in the file header."""
    previous_hash: bytes = NO_LINK
    """The previous segment's final hash the file header carries (zeros for segment 1)."""

    @property
    def ok(self) -> bool:
        return self.problem is None

    @property
    def truncated(self) -> bool:
        return self.problem is Problem.TRUNCATED


def verify(
    path: str | os.PathLike[str],
    master_key: bytes,
    expected_final_hash: str | bytes | None = None,
) -> VerificationReport:
    """Check every chunk's tag, the hash chain, the tail, and optionally the final hash."""
    target = Path(path)

    def report(
        problem: Problem | None,
        bad: int | None = None,
        detail: str = "",
        reader: RecordingReader | None = None,
        chunks: int = 0,
        records: int = 0,
        last_us: int = 0,
        final: bytes | None = None,
    ) -> VerificationReport:
        return VerificationReport(
            path=target,
            problem=problem,
            first_bad_chunk=bad,
            detail=detail or (problem.value if problem else "ok"),
            consultation_number=reader.consultation_number if reader else None,
            chunks_ok=chunks,
            records=records,
            duration_us=last_us,
            final_hash=final.hex() if final is not None else None,
            closed_cleanly=reader.closed_cleanly if reader and problem is None else False,
            segment=reader.segment if reader else 1,
            previous_hash=reader.previous_hash if reader else NO_LINK,
        )

    try:
        reader = RecordingReader(target, master_key)
    except RecordingDestroyed as exc:
        return report(Problem.DESTROYED, detail=str(exc))
    except WrongMasterKey as exc:
        return report(Problem.WRONG_MASTER_KEY, detail=str(exc))
    except (RecordingInvalid, OSError) as exc:
        return report(Problem.NOT_A_RECORDING, detail=str(exc))
    with reader:
        previous = chain_seed(reader.header_bytes)
        hashes: list[bytes] = []
        records = 0
        last_us = 0
        for position, entry in enumerate(reader.index.entries):
            head, body = reader.read_chunk_bytes(position)
            problem: Problem | None = None
            if entry.header.prev_hash != previous:
                problem, detail = Problem.CHAIN_BROKEN, f"chunk {position}: hash chain broken"
            else:
                try:
                    chunk_records = reader.check_chunk(position, head, body)
                except ChunkInvalid as exc:
                    tag = "tag" in exc.problem
                    problem = Problem.TAG_MISMATCH if tag else Problem.BAD_CHUNK_CONTENT
                    detail = str(exc)
                else:
                    if not _times_fit(chunk_records, entry.header, last_us):
                        problem = Problem.BAD_CHUNK_CONTENT
                        detail = f"chunk {position}: record times out of order"
            if problem is not None:
                return report(
                    problem, position, detail, reader, position, records, last_us, previous
                )
            times = [r.at_us for r in chunk_records]
            records += len(chunk_records)
            last_us = times[-1] if times else last_us
            previous = chunk_hash(head, body)
            hashes.append(previous)
        chunks = len(hashes)
        if reader.damaged is not None:
            return report(
                Problem.BAD_CHUNK_HEADER,
                reader.damaged.sequence,
                str(reader.damaged),
                reader,
                chunks,
                records,
                last_us,
                previous,
            )
        if reader.truncated_at is not None:
            detail = (
                f"incomplete chunk {chunks} at offset {reader.truncated_at}: "
                f"readable up to chunk {chunks - 1}"
            )
            return report(
                Problem.TRUNCATED, chunks, detail, reader, chunks, records, last_us, previous
            )
        if expected_final_hash is not None:
            expected = (
                bytes.fromhex(expected_final_hash)
                if isinstance(expected_final_hash, str)
                else expected_final_hash
            )
            if expected != previous:
                if expected in hashes:
                    at = hashes.index(expected) + 1
                    detail = f"the audited recording ended at chunk {at - 1}; chunks follow it"
                else:
                    at = None
                    detail = "the chain does not end in the audited hash (chunks missing?)"
                return report(
                    Problem.FINAL_HASH_MISMATCH,
                    at,
                    detail,
                    reader,
                    chunks,
                    records,
                    last_us,
                    previous,
                )
        return report(None, None, "ok", reader, chunks, records, last_us, previous)


def _times_fit(records: list[Record], header: ChunkHeader, after_us: int) -> bool:
    """Records in time order, not before the previous chunk, within the header's range."""
    times = [r.at_us for r in records]
    if not times:
        return True
    return (
        times == sorted(times)
        and times[0] >= after_us
        and (times[0], times[-1]) == (header.first_us, header.last_us)
    )
