"""The register of session recordings: segments, files, times, audited hashes, hold, purge.

A session's recording is one or more files under ``recording.directory``: segment
1, and after a takeover (its server died) segment 2, 3, ... each chained to the one
before. This table has one row per segment and says which file belongs to which
consultation, how each segment ended (finished, or interrupted by a takeover),
whether a legal hold keeps the recording, and when it was purged. Hold and purge
apply to all segments of a consultation at once. A purged row stays, so the
register still shows that the session was recorded and when the recording was
destroyed.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.store.agents import aware
from supportdesk.store.models import RecordingRow


class RecordingState(Enum):
    RECORDING = "recording"
    FINISHED = "finished"
    PURGED = "purged"


class UnknownRecording(LookupError):
    """No recording is registered under this consultation number."""

    def __init__(self, number: str) -> None:
        super().__init__(f"no recording for consultation number {number}")
        self.number = number


@dataclass(frozen=True)
class SegmentEntry:
    """One row of the register: one file of a session's recording."""

    consultation_number: str
    segment: int
    file_name: str
    started_at: datetime
    ended_at: datetime | None
    final_hash: str | None
    legal_hold: bool
    purged_at: datetime | None
    size: int
    previous_hash: str | None = None
    interrupted: bool = False

    @property
    def state(self) -> RecordingState:
        if self.purged_at is not None:
            return RecordingState.PURGED
        return RecordingState.RECORDING if self.ended_at is None else RecordingState.FINISHED

    def path(self, directory: Path) -> Path:
        return directory / self.file_name

    @classmethod
    def of(cls, row: RecordingRow) -> SegmentEntry:
        return cls(
            row.consultation_number,
            row.segment,
            row.file_name,
            aware(row.started_at),
            aware(row.ended_at) if row.ended_at else None,
            row.final_hash,
            row.legal_hold,
            aware(row.purged_at) if row.purged_at else None,
            row.size,
            row.previous_hash,
            row.interrupted,
        )


@dataclass(frozen=True)
class RecordingEntry:
    """A session's recording: its segments in order (at least one).

    The attributes describe the whole: started with the first segment, ended with the
    last (None while the last is still being written), the size of all files.
    """

    segments: tuple[SegmentEntry, ...]

    def __post_init__(self) -> None:
        if not self.segments:
            raise ValueError("a recording has at least one segment")

    @property
    def first(self) -> SegmentEntry:
        return self.segments[0]

    @property
    def last(self) -> SegmentEntry:
        return self.segments[-1]

    @property
    def consultation_number(self) -> str:
        return self.first.consultation_number

    @property
    def file_name(self) -> str:
        return self.first.file_name

    @property
    def started_at(self) -> datetime:
        return self.first.started_at

    @property
    def ended_at(self) -> datetime | None:
        return self.last.ended_at

    @property
    def final_hash(self) -> str | None:
        """The last segment's final hash (the end of the whole chain)."""
        return self.last.final_hash

    @property
    def legal_hold(self) -> bool:
        return any(s.legal_hold for s in self.segments)

    @property
    def purged_at(self) -> datetime | None:
        return self.last.purged_at if all(s.purged_at for s in self.segments) else None

    @property
    def size(self) -> int:
        return sum(s.size for s in self.segments)

    @property
    def state(self) -> RecordingState:
        if self.purged_at is not None:
            return RecordingState.PURGED
        return RecordingState.RECORDING if self.ended_at is None else RecordingState.FINISHED

    def path(self, directory: Path) -> Path:
        """The first segment's file (see ``segments`` for all of them)."""
        return self.first.path(directory)

    @classmethod
    def of(cls, rows: Sequence[RecordingRow]) -> RecordingEntry:
        return cls(tuple(sorted((SegmentEntry.of(r) for r in rows), key=lambda s: s.segment)))


class Recordings:
    """Reads and writes within a caller's transaction."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def register(
        self,
        number: str,
        file_name: str,
        started_at: datetime,
        *,
        segment: int = 1,
        previous_hash: str | None = None,
    ) -> None:
        """A recording (segment) has started; its file is ``file_name`` under the directory.

        Registering a segment twice raises IntegrityError: of two nodes racing to take
        a session over, one registers.
        """
        self.db.add(
            RecordingRow(
                consultation_number=number,
                segment=segment,
                previous_hash=previous_hash,
                interrupted=False,
                file_name=file_name,
                started_at=started_at,
                legal_hold=await self._held(number),
                size=0,
            )
        )
        await self.db.flush()

    async def finish(
        self,
        number: str,
        final_hash: str | None,
        ended_at: datetime,
        size: int,
        *,
        segment: int = 1,
        interrupted: bool = False,
    ) -> None:
        """The segment was closed with this final hash: cleanly, or after its writer
        died (``interrupted``: the hash of its last good chunk, None if it could not be
        read at all)."""
        await self._update(
            number,
            segment,
            final_hash=final_hash,
            ended_at=ended_at,
            size=size,
            interrupted=interrupted,
        )

    async def get(self, number: str) -> RecordingEntry | None:
        rows = (
            await self.db.scalars(
                select(RecordingRow).where(RecordingRow.consultation_number == number)
            )
        ).all()
        return RecordingEntry.of(rows) if rows else None

    async def require(self, number: str) -> RecordingEntry:
        entry = await self.get(number)
        if entry is None:
            raise UnknownRecording(number)
        return entry

    async def list(
        self, *, include_purged: bool = True, limit: int | None = None
    ) -> builtins.list[RecordingEntry]:
        """Newest first, one entry per consultation."""
        rows = (await self.db.scalars(select(RecordingRow))).all()
        by_number: dict[str, builtins.list[RecordingRow]] = {}
        for row in rows:
            by_number.setdefault(row.consultation_number, []).append(row)
        newest = sorted(
            by_number.values(),
            key=lambda group: (min(aware(r.started_at) for r in group), max(r.id for r in group)),
            reverse=True,
        )
        entries = [RecordingEntry.of(group) for group in newest]
        if not include_purged:
            entries = [e for e in entries if e.purged_at is None]
        return entries[:limit] if limit is not None else entries

    async def set_hold(self, number: str, hold: bool) -> None:
        await self._update(number, None, legal_hold=hold)

    async def mark_purged(self, number: str, at: datetime) -> None:
        await self._update(number, None, purged_at=at)

    async def _held(self, number: str) -> bool:
        # A hold set on the recording covers the segments that follow too.
        held = await self.db.scalar(
            select(RecordingRow.id).where(
                RecordingRow.consultation_number == number, RecordingRow.legal_hold.is_(True)
            )
        )
        return held is not None

    async def _update(self, number: str, segment: int | None, **values: object) -> None:
        query = update(RecordingRow).where(RecordingRow.consultation_number == number)
        if segment is not None:
            query = query.where(RecordingRow.segment == segment)
        result = await self.db.execute(query.values(**values))
        if getattr(result, "rowcount", 1) == 0:
            raise UnknownRecording(number)
