"""The register of session recordings: file, times, audited final hash, legal hold, purge.

The recording itself is a file under ``recording.directory``; this table says
which file belongs to which consultation, whether a legal hold keeps it, and when
it was purged. A purged row stays, so the register still shows that the session
was recorded and when the recording was destroyed.
"""

from __future__ import annotations

import builtins
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
class RecordingEntry:
    """One row of the register."""

    consultation_number: str
    file_name: str
    started_at: datetime
    ended_at: datetime | None
    final_hash: str | None
    legal_hold: bool
    purged_at: datetime | None
    size: int

    @property
    def state(self) -> RecordingState:
        if self.purged_at is not None:
            return RecordingState.PURGED
        return RecordingState.RECORDING if self.ended_at is None else RecordingState.FINISHED

    def path(self, directory: Path) -> Path:
        return directory / self.file_name

    @classmethod
    def of(cls, row: RecordingRow) -> RecordingEntry:
        return cls(
            row.consultation_number,
            row.file_name,
            aware(row.started_at),
            aware(row.ended_at) if row.ended_at else None,
            row.final_hash,
            row.legal_hold,
            aware(row.purged_at) if row.purged_at else None,
            row.size,
        )


class Recordings:
    """Reads and writes within a caller's transaction."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def register(self, number: str, file_name: str, started_at: datetime) -> None:
        """A recording has started; its file is ``file_name`` under the directory."""
        self.db.add(
            RecordingRow(
                consultation_number=number,
                file_name=file_name,
                started_at=started_at,
                legal_hold=False,
                size=0,
            )
        )
        await self.db.flush()

    async def finish(self, number: str, final_hash: str, ended_at: datetime, size: int) -> None:
        """The recording was closed cleanly with this final hash."""
        await self._update(number, final_hash=final_hash, ended_at=ended_at, size=size)

    async def get(self, number: str) -> RecordingEntry | None:
        row = await self.db.scalar(
            select(RecordingRow).where(RecordingRow.consultation_number == number)
        )
        return RecordingEntry.of(row) if row else None

    async def require(self, number: str) -> RecordingEntry:
        entry = await self.get(number)
        if entry is None:
            raise UnknownRecording(number)
        return entry

    async def list(
        self, *, include_purged: bool = True, limit: int | None = None
    ) -> builtins.list[RecordingEntry]:
        """Newest first."""
        query = select(RecordingRow).order_by(
            RecordingRow.started_at.desc(), RecordingRow.id.desc()
        )
        if not include_purged:
            query = query.where(RecordingRow.purged_at.is_(None))
        if limit is not None:
            query = query.limit(limit)
        return [RecordingEntry.of(row) for row in await self.db.scalars(query)]

    async def set_hold(self, number: str, hold: bool) -> None:
        await self._update(number, legal_hold=hold)

    async def mark_purged(self, number: str, at: datetime) -> None:
        await self._update(number, purged_at=at)

    async def _update(self, number: str, **values: object) -> None:
        result = await self.db.execute(
            update(RecordingRow).where(RecordingRow.consultation_number == number).values(**values)
        )
        if getattr(result, "rowcount", 1) == 0:
            raise UnknownRecording(number)
