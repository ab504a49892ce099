"""A session's recording segments on the server: which one comes next, and its register.

A session taken over by another node (its server died) continues its recording in
the next segment. Before the new file is created, :func:`next_segment` reads the
register: an unfinished last segment was left by a dead node, so it is closed on
the record here (:func:`~supportdesk.recording.recovery.close_interrupted`: the
final hash of its last good chunk, a torn tail cut off), marked ``interrupted``
and audited as ``recording_interrupted``; a finished one (a clean hand-over) is
simply chained to. :func:`register_segment` and :func:`finish_segment` write the
register row and its audit entry in one unit of work.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.domain.session_actors import SYSTEM_ACTOR
from supportdesk.recording.format import NO_LINK
from supportdesk.recording.recovery import close_interrupted
from supportdesk.store.audit_log import AuditLog
from supportdesk.store.recordings import Recordings

__all__ = ["NextSegment", "finish_segment", "free_name", "next_segment", "register_segment"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NextSegment:
    """The segment a new recording file is, and the final hash it continues."""

    segment: int
    previous_hash: bytes = NO_LINK

    @property
    def previous_hex(self) -> str | None:
        return None if self.segment == 1 else self.previous_hash.hex()


async def next_segment(
    audit: AuditLog, directory: Path, master_key: bytes, number: str, now: datetime
) -> NextSegment:
    """Segment 1 for a new session; else the one after the last registered, which is
    closed as interrupted first if no node finished it."""
    async with audit.work() as work:  # (a read: nothing is appended)
        entry = await Recordings(work.session).get(number)
    if entry is None:
        return NextSegment(1)
    last = entry.last
    following = last.segment + 1
    if last.ended_at is not None:
        link = bytes.fromhex(last.final_hash) if last.final_hash else NO_LINK
        return NextSegment(following, link)
    path = last.path(directory)
    end = await asyncio.to_thread(close_interrupted, path, master_key)
    data: dict[str, Any] = {
        "segment": last.segment,
        "file": last.file_name,
        "final_hash": end.final_hash,
        "chunks": end.chunks,
        "size": end.size,
        "torn_bytes": end.torn_bytes,
    }
    if end.problem is not None:
        data["problem"] = end.problem[:500]
        log.error("interrupted recording segment %d: %s", last.segment, end.problem,
                  extra={"session": number})  # fmt: skip
    async with audit.work() as work:
        await Recordings(work.session).finish(
            number, end.final_hash, now, end.size, segment=last.segment, interrupted=True
        )
        await work.record(AuditRecord(now, "recording_interrupted", SYSTEM_ACTOR, number, data))
    link = bytes.fromhex(end.final_hash) if end.final_hash else NO_LINK
    return NextSegment(following, link)


async def register_segment(
    audit: AuditLog, number: str, segment: NextSegment, path: Path, now: datetime
) -> None:
    """The row of a new segment and ``recording_started`` in one unit of work."""
    data: dict[str, Any] = {"file": path.name}
    if segment.segment > 1:
        data.update(segment=segment.segment, previous_final_hash=segment.previous_hex)
    async with audit.work() as work:
        await Recordings(work.session).register(
            number,
            path.name,
            now,
            segment=segment.segment,
            previous_hash=segment.previous_hex,
        )
        await work.record(AuditRecord(now, "recording_started", SYSTEM_ACTOR, number, data))


async def finish_segment(
    audit: AuditLog, number: str, segment: int, final_hash: str, path: Path, now: datetime
) -> None:
    """A segment closed cleanly: the register's ``finish`` and ``recording_finished``."""
    size = await asyncio.to_thread(os.path.getsize, path)
    data: dict[str, Any] = {"final_hash": final_hash, "file": path.name, "size": size}
    if segment > 1:
        data["segment"] = segment
    async with audit.work() as work:
        await Recordings(work.session).finish(number, final_hash, now, size, segment=segment)
        await work.record(AuditRecord(now, "recording_finished", SYSTEM_ACTOR, number, data))


def free_name(directory: Path, number: str, segment: int = 1) -> Path:
    """``<number>.sdrec`` (segment n: ``<number>.seg<n>.sdrec``), or with ``.<k>`` before
    the extension if an earlier attempt left a file of that name."""
    stem = number if segment == 1 else f"{number}.seg{segment}"
    path = directory / f"{stem}.sdrec"
    n = 1
    while os.path.lexists(path):
        path = directory / f"{stem}.{n}.sdrec"
        n += 1
    return path
