"""RecordingWriter: appends a live session's records to an encrypted, chained recording file.

Calls are cheap appends to an in-memory chunk; a chunk is sealed (compressed,
encrypted, chained) and written when it reaches ``chunk_bytes``, when a keyframe,
a video key chunk or a new screen channel starts one, and on :meth:`tick`, which
also fsyncs. Call
``tick`` from a timer at least every ``max_delay`` seconds (the
:class:`~supportdesk.recording.session_tee.SessionRecorder` does this): then every
record is on disk within ``2 * max_delay`` (default 0.5 s -> at most 1 s lost to a
SIGKILL or power cut).

Thread safety: ``record``/``keyframe`` may run on the event loop while ``tick``,
``probe`` and ``close`` run in a worker thread (``asyncio.to_thread``); the fsync
happens outside the data lock, so ``record`` never waits for the disk.

Fail closed: every I/O error becomes :class:`RecordingUnavailable`. During the
outage the writer still keeps up to ``outage_bytes`` of records in memory (what is
in flight while the relay pauses the session) and refuses more with
``RecordingUnavailable``; :meth:`probe` rewrites everything not yet durable.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from datetime import datetime, timedelta
from pathlib import Path

from supportdesk.link.keyframe import KeyframeInvalid, parse_keyframe

from .crypto import (
    ChunkCodec,
    chain_seed,
    chunk_hash,
    master_key_id,
    new_data_key,
    wrap_data_key,
)
from .errors import RecordingError, RecordingInvalid, RecordingUnavailable
from .format import (
    CHUNK_HEADER_SIZE,
    EVENT_KINDS,
    MAX_RECORD_PAYLOAD,
    NO_CHANNEL,
    NO_LINK,
    RECORD_HEADER_SIZE,
    ChunkFlags,
    FileHeader,
    Record,
    RecordKind,
)
from .video_format import check_video_payload, is_key_chunk, parse_video_config

__all__ = ["DEFAULT_CHUNK_BYTES", "DEFAULT_MAX_DELAY", "RecordingWriter"]

DEFAULT_CHUNK_BYTES = 1024 * 1024
DEFAULT_MAX_DELAY = 0.5
DEFAULT_OUTAGE_BYTES = 16 * 1024 * 1024
"""Room for in-flight data during an outage: several 1 MiB link credit windows."""
_ONE_US = timedelta(microseconds=1)


class RecordingWriter:
    """Writes one session's recording; create it with :meth:`create`."""

    def __init__(
        self,
        fd: int,
        path: Path,
        header: FileHeader,
        header_bytes: bytes,
        data_key: bytes,
        started_at: datetime,
        *,
        max_delay: float = DEFAULT_MAX_DELAY,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        outage_bytes: int = DEFAULT_OUTAGE_BYTES,
    ) -> None:
        self.path = path
        self.outage_bytes = outage_bytes
        self.header = header
        self.started_at = started_at
        self.max_delay_us = int(max_delay * 1_000_000)
        self.chunk_bytes = chunk_bytes
        self._fd = fd
        self._codec = ChunkCodec(data_key)
        self._lock = threading.Lock()  # buffer, chain, outbox, writes
        self._sync_lock = threading.Lock()  # one tick/probe/close at a time
        self._sequence = 0
        self._chain = chain_seed(header_bytes)
        self._last_us = 0
        self._seen_channels: set[int] = set()
        self._video_configs: dict[int, bytes] = {}
        # The open chunk.
        self._records: list[Record] = []
        self._size = 0
        self._flags = ChunkFlags.NONE
        self._channel = NO_CHANNEL
        # Sealed bytes not yet known durable; the first `_written` of them are in the file.
        self._outbox = bytearray()
        self._written = 0
        self._durable_size = len(header_bytes)
        self._outbox_since_us: int | None = None
        self._failure: RecordingUnavailable | None = None
        self._closed = False
        self.final_hash: str | None = None

    # -- creation ---------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        consultation_number: str,
        master_key: bytes,
        started_at: datetime,
        *,
        max_delay: float = DEFAULT_MAX_DELAY,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        outage_bytes: int = DEFAULT_OUTAGE_BYTES,
        segment: int = 1,
        previous_hash: bytes = NO_LINK,
    ) -> RecordingWriter:
        """Create a new recording file (never overwrites one); raises RecordingUnavailable.

        ``segment`` > 1 continues a session whose earlier segment ended with the final
        chain hash ``previous_hash`` (its server died, or handed the session over).
        """
        if started_at.tzinfo is None:
            raise ValueError("started_at must be timezone-aware")
        data_key = new_data_key()
        header = FileHeader(
            consultation_number=consultation_number,
            created_at_us=(started_at - datetime.fromtimestamp(0, started_at.tzinfo)) // _ONE_US,
            recording_id=secrets.token_bytes(16),
            master_key_id=master_key_id(master_key),
            wrapped_key=wrap_data_key(master_key, data_key),
            segment=segment,
            previous_hash=previous_hash,
        )
        header_bytes = header.pack()
        target = Path(path)
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        except OSError as exc:
            raise RecordingUnavailable(f"cannot create recording {target}: {exc}") from exc
        try:
            _write_all(fd, header_bytes)
            os.fsync(fd)
            _fsync_directory(target.parent)
        except OSError as exc:
            # Nothing was recorded in it: leave no empty or torn file behind, or every
            # retry on a full disk adds one (the caller retries under a fresh name).
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(target)
            raise RecordingUnavailable(f"cannot write recording {target}: {exc}") from exc
        return cls(
            fd,
            target,
            header,
            header_bytes,
            data_key,
            started_at,
            max_delay=max_delay,
            chunk_bytes=chunk_bytes,
            outage_bytes=outage_bytes,
        )

    # -- recording (cheap, any thread) ------------------------------------------------

    @property
    def available(self) -> bool:
        """False after a write error until :meth:`probe` succeeds."""
        return self._failure is None

    @property
    def chain_hash(self) -> str:
        """Hex SHA-256 of the last sealed chunk (of the file header before the first)."""
        return self._chain.hex()

    def record(self, kind: RecordKind, channel: int, payload: bytes, at: datetime) -> None:
        """Append one record; raises RecordingUnavailable if it cannot be kept."""
        if kind in (RecordKind.KEYFRAME, RecordKind.VIDEO, RecordKind.VIDEO_CONFIG):
            raise ValueError(f"use {kind.name.lower()}() for {kind.name} records")
        with self._lock:
            self._check_room(len(payload))
            at_us = self._to_us(at)
            if kind is RecordKind.RFB_SERVER_TO_CLIENT and channel not in self._seen_channels:
                self._seen_channels.add(channel)
                self._start_chunk(ChunkFlags.CHANNEL_START, channel)
            self._append(Record(at_us, kind, channel, bytes(payload)))

    def keyframe(self, channel: int, payload: bytes, at: datetime) -> None:
        """Start a new chunk with a keyframe of ``channel`` (payload from ``encode_keyframe``)."""
        try:  # a malformed keyframe would make the seek point useless
            parse_keyframe(payload)
        except KeyframeInvalid as exc:
            raise RecordingInvalid(str(exc)) from None
        with self._lock:
            self._check_room(len(payload))
            at_us = self._to_us(at)
            self._start_chunk(ChunkFlags.KEYFRAME, channel)
            self._append(Record(at_us, RecordKind.KEYFRAME, channel, bytes(payload)))

    def video_config(self, channel: int, payload: bytes, at: datetime) -> None:
        """Record a VIDEO_CONFIG (from ``encode_video_config``) and use it for later seek points.

        The first video record of a channel starts a chunk flagged CHANNEL_START | VIDEO.
        """
        parse_video_config(payload)  # a seek point with a config no decoder takes is useless
        with self._lock:
            self._check_room(len(payload))
            at_us = self._to_us(at)
            self._start_video_channel(channel)
            self._video_configs[channel] = bytes(payload)
            self._append(Record(at_us, RecordKind.VIDEO_CONFIG, channel, bytes(payload)))

    def video(self, channel: int, payload: bytes, at: datetime) -> None:
        """Record one video chunk as on the link (flags ‖ timestamp ‖ bytes).

        A key chunk after a :meth:`video_config` of its channel starts a chunk flagged
        KEYFRAME | VIDEO whose records are that config, then the key chunk: a seek point.
        Chunks before the channel's first config are recorded but mark no seek point.
        Raises ValueError for a payload without header or larger than a link message.
        """
        check_video_payload(payload)
        with self._lock:
            config = self._video_configs.get(channel)
            room = len(payload) + (len(config) + RECORD_HEADER_SIZE if config else 0)
            self._check_room(room)
            at_us = self._to_us(at)
            self._start_video_channel(channel)
            if config is not None and is_key_chunk(payload):
                self._start_chunk(ChunkFlags.KEYFRAME | ChunkFlags.VIDEO, channel)
                self._append(Record(at_us, RecordKind.VIDEO_CONFIG, channel, config), seal=False)
            self._append(Record(at_us, RecordKind.VIDEO, channel, bytes(payload)))

    # -- flushing (timer, may run in a worker thread) ----------------------------------

    def flush_due(self, now: datetime) -> bool:
        """True if :meth:`tick` has work: records or unsynced bytes older than ``max_delay``."""
        with self._lock:
            if self._closed or self._failure is not None:
                return False
            now_us = (now - self.started_at) // _ONE_US
            oldest = [t for t in (self._outbox_since_us,) if t is not None]
            if self._records:
                oldest.append(self._records[0].at_us)
            return bool(oldest) and now_us - min(oldest) >= self.max_delay_us

    def tick(self, now: datetime | None = None) -> None:
        """Seal the open chunk, write and fsync; raises RecordingUnavailable.

        ``now`` is accepted for symmetry with :meth:`flush_due` and not needed.
        """
        with self._sync_lock:
            with self._lock:
                if self._closed:
                    return
                self._check_available()
                self._seal()
                self._check_available()
                pending = self._written
            if pending:
                self._sync(pending)

    def probe(self) -> bool:
        """Try to make everything durable again after a failure; True if writing works."""
        with self._sync_lock, self._lock:
            if self._closed:
                return False
            try:
                os.ftruncate(self._fd, self._durable_size)
                self._written = 0
                self._write_outbox()
                os.fsync(self._fd)
            except OSError as exc:
                self._failure = RecordingUnavailable(f"recording still unavailable: {exc}")
                return False
            self._commit(len(self._outbox))
            self._failure = None
            return True

    def close(self, at: datetime) -> str:
        """Seal the final chunk, fsync, close the file; return the final chain hash (hex)."""
        with self._sync_lock, self._lock:
            if self.final_hash is not None:
                return self.final_hash
            self._check_open()
            self._to_us(at)
            self._flags |= ChunkFlags.FINAL
            self._seal(force=True)
            self._check_available()
            try:
                os.fsync(self._fd)
            except OSError as exc:
                self._fail(exc)
            self._commit(len(self._outbox))
            os.close(self._fd)
            self._closed = True
            self.final_hash = self._chain.hex()
            return self.final_hash

    def abort(self) -> None:
        """Close the file without a final chunk (the relay is shutting down on an error)."""
        with self._sync_lock, self._lock:
            if self._closed:
                return
            self._seal()
            with contextlib.suppress(OSError):
                os.fsync(self._fd)
            self._closed = True
            os.close(self._fd)

    # -- internals (called with _lock held) ----------------------------------------------

    def _check_room(self, size: int) -> None:
        """Closed: error. Failed: keep the record only while the outage buffer has room."""
        if self._closed:
            raise RecordingError("the recording is closed")
        if self._failure is not None:
            pending = len(self._outbox) + self._size + size
            if pending > self.outage_bytes:
                raise RecordingUnavailable(str(self._failure)) from self._failure

    def _check_open(self) -> None:
        if self._closed:
            raise RecordingError("the recording is closed")
        self._check_available()

    def _check_available(self) -> None:
        if self._failure is not None:
            raise RecordingUnavailable(str(self._failure)) from self._failure

    def _to_us(self, at: datetime) -> int:
        # A wall clock may step back; recordings stay monotonic.
        self._last_us = max(self._last_us, (at - self.started_at) // _ONE_US)
        return self._last_us

    def _append(self, record: Record, *, seal: bool = True) -> None:
        if len(record.payload) > MAX_RECORD_PAYLOAD:
            raise ValueError(f"record payload of {len(record.payload)} bytes exceeds the limit")
        self._records.append(record)
        self._size += RECORD_HEADER_SIZE + len(record.payload)
        if record.kind in EVENT_KINDS:
            self._flags |= ChunkFlags.EVENTS
        if seal and self._size >= self.chunk_bytes:
            self._seal()

    def _start_video_channel(self, channel: int) -> None:
        if channel not in self._seen_channels:
            self._seen_channels.add(channel)
            self._start_chunk(ChunkFlags.CHANNEL_START | ChunkFlags.VIDEO, channel)

    def _start_chunk(self, flags: ChunkFlags, channel: int) -> None:
        self._seal()
        self._flags = flags
        self._channel = channel

    def _seal(self, force: bool = False) -> None:
        """Seal the open chunk (if any records, or ``force``) and write it; no fsync."""
        if not self._records and not force:
            return
        header, data = self._codec.seal(
            self._sequence, self._records, self._chain, self._flags, self._channel
        )
        self._chain = chunk_hash(data[:CHUNK_HEADER_SIZE], data[CHUNK_HEADER_SIZE:])
        self._sequence += 1
        self._records, self._size = [], 0
        self._flags, self._channel = ChunkFlags.NONE, NO_CHANNEL
        if self._outbox_since_us is None:
            self._outbox_since_us = header.first_us if header.record_count else self._last_us
        self._outbox += data
        if self._failure is not None:
            return  # probe() writes it
        try:
            self._write_outbox()
        except OSError as exc:
            # The chunk stays in the outbox for probe(): what was accepted is kept.
            self._failure = RecordingUnavailable(f"cannot write recording {self.path}: {exc}")

    def _write_outbox(self) -> None:
        while self._written < len(self._outbox):
            view = memoryview(self._outbox)[self._written :]
            try:
                self._written += os.write(self._fd, view)
            finally:
                view.release()

    def _sync(self, pending: int) -> None:
        """fsync outside the data lock, then forget the first ``pending`` bytes."""
        try:
            os.fsync(self._fd)
        except OSError as exc:
            with self._lock:
                self._fail(exc)
        with self._lock:
            self._commit(pending)

    def _commit(self, durable: int) -> None:
        del self._outbox[:durable]
        self._written -= durable
        self._durable_size += durable
        self._outbox_since_us = self._last_us if self._outbox else None

    def _fail(self, exc: OSError) -> None:
        self._failure = RecordingUnavailable(f"cannot write recording {self.path}: {exc}")
        raise self._failure from exc


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _fsync_directory(directory: Path) -> None:
    # The new file's name must survive a crash too, not only its content.
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
