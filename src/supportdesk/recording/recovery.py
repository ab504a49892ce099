"""Closing a segment whose writer died: find its last good chunk and cut a torn tail.

A node killed mid-write (SIGKILL, power cut) leaves its recording without a FINAL
chunk, and possibly ending in a partial chunk. The node that takes the session
over calls :func:`close_interrupted` before it starts the next segment: every
chunk is checked (tag, chain, content) as :func:`~.reader.verify` does, and the
segment's final hash is that of the last good chunk (of the file header if there
is none). What follows it is cut off when it is what a crash leaves, a *torn
tail*: an incomplete chunk, or zero bytes (a file system that extended the file
but never wrote the data). Anything else after the last good chunk, say a
complete chunk whose tag fails, is evidence, not debris: the file is left as it
is and the damage reported, and ``recordings verify`` will say so.

:func:`find_end` is the same without touching the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import RecordingDestroyed, RecordingInvalid, WrongMasterKey
from .reader import Problem, RecordingReader, verify

__all__ = ["SegmentEnd", "close_interrupted", "find_end", "is_torn_tail"]

_TORN = (Problem.TRUNCATED, Problem.BAD_CHUNK_HEADER)


@dataclass(frozen=True, slots=True)
class SegmentEnd:
    """Where an interrupted segment ends, as found (and, if torn, cut)."""

    final_hash: str | None
    """Hex chain hash of the last good chunk; None if the file cannot be read at all."""
    chunks: int
    """Good chunks: the final hash is that of chunk ``chunks - 1``."""
    good_size: int
    """Bytes up to the end of the last good chunk."""
    size: int
    """The file's size (after a cut: ``good_size``)."""
    torn_bytes: int
    """Bytes after the last good chunk that a crash left (cut by close_interrupted)."""
    problem: str | None
    """Damage that is not a torn tail (left in the file), or why it cannot be read."""

    @property
    def cut(self) -> bool:
        return self.torn_bytes > 0 and self.size == self.good_size


def is_torn_tail(problem: Problem | None, tail: bytes) -> bool:
    """Whether the bytes after the last good chunk are what a crash leaves.

    ``problem`` is what verify found there: TRUNCATED (an incomplete chunk) is torn;
    so is a BAD_CHUNK_HEADER made of zero bytes only. A complete chunk that fails its
    tag, chain or content is not.
    """
    if not tail:
        return False
    if problem is Problem.TRUNCATED:
        return True
    return problem is Problem.BAD_CHUNK_HEADER and not any(tail)


def find_end(path: str | os.PathLike[str], master_key: bytes) -> SegmentEnd:
    """The last good chunk of the segment at ``path`` and what follows it; reads only."""
    target = Path(path)
    try:
        size = target.stat().st_size
        with RecordingReader(target, master_key) as reader:
            entries = reader.index.entries
            header_size = reader.header.size
    except (OSError, RecordingInvalid) as exc:
        kind = (
            "wrong master key"
            if isinstance(exc, WrongMasterKey)
            else "destroyed"
            if isinstance(exc, RecordingDestroyed)
            else "unreadable"
        )
        return SegmentEnd(None, 0, 0, 0, 0, f"{kind}: {exc}")
    report = verify(target, master_key)
    chunks = report.chunks_ok
    good_size = entries[chunks - 1].end if chunks else header_size
    if report.problem is None:
        return SegmentEnd(report.final_hash, chunks, good_size, size, 0, None)
    with open(target, "rb") as file:
        file.seek(good_size)
        tail = file.read()
    if report.problem in _TORN and is_torn_tail(report.problem, tail):
        return SegmentEnd(report.final_hash, chunks, good_size, size, len(tail), None)
    return SegmentEnd(report.final_hash, chunks, good_size, size, 0, report.detail)


def close_interrupted(path: str | os.PathLike[str], master_key: bytes) -> SegmentEnd:
    """:func:`find_end`, then cut a torn tail off the file (fsynced); nothing else changes."""
    end = find_end(path, master_key)
    if end.torn_bytes == 0:
        return end
    fd = os.open(path, os.O_WRONLY)
    try:
        os.ftruncate(fd, end.good_size)
        os.fsync(fd)
    finally:
        os.close(fd)
    return SegmentEnd(
        end.final_hash, end.chunks, end.good_size, end.good_size, end.torn_bytes, None
    )
