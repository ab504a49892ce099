"""The audit trail in the database: append inside a unit of work, read back, verify.

Appends are serialised: within a process by a lock, across PostgreSQL nodes by a
transaction-scoped advisory lock, so each entry links to the one committed before
it. The state change an entry describes is written in the same transaction, so the
trail never says something happened that did not, or the reverse.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from supportdesk.domain.audit_chain import (
    GENESIS_HASH,
    AuditChain,
    AuditEntry,
    AuditRecord,
    VerificationResult,
    verify,
)
from supportdesk.domain.utc import iso_utc
from supportdesk.store.audit_filter import EVERYTHING, AuditFilter
from supportdesk.store.models import AuditEntryRow

# Any constant works; it only has to be the same on every node.
_ADVISORY_LOCK_ID = 0x5D_A0D1


def _to_entry(row: AuditEntryRow) -> AuditEntry:
    return AuditEntry(
        sequence=row.sequence,
        timestamp=row.timestamp,
        event_type=row.event_type,
        actor=row.actor,
        subject=row.subject,
        data=json.loads(row.data),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


@dataclass(frozen=True)
class AuditPage:
    """One page of the trail, newest first, and where the neighbouring pages start:
    ``older_than`` (show entries before this sequence number) and ``newer_than``
    (entries after it); None where there is nothing more that way."""

    entries: list[AuditEntry]
    older_than: int | None
    newer_than: int | None


class AuditedWork:
    """One transaction in which state changes and their audit entries are written."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._chain: AuditChain | None = None
        self.recorded: list[AuditRecord] = []  # told to the log's observers after commit

    async def record(self, *records: AuditRecord) -> list[AuditEntry]:
        if self._chain is None:
            last = await self.session.scalar(
                select(AuditEntryRow).order_by(AuditEntryRow.sequence.desc()).limit(1)
            )
            self._chain = AuditChain.after(_to_entry(last) if last else None)
        entries = []
        self.recorded.extend(records)
        for item in records:
            entry = self._chain.append_record(item)
            self.session.add(
                AuditEntryRow(
                    sequence=entry.sequence,
                    timestamp=entry.timestamp,
                    event_type=entry.event_type,
                    actor=entry.actor,
                    subject=entry.subject,
                    data=json.dumps(entry.data, ensure_ascii=False, sort_keys=True),
                    prev_hash=entry.prev_hash,
                    hash=entry.hash,
                )
            )
            entries.append(entry)
        return entries


class AuditLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._lock = asyncio.Lock()
        # Called with every record once its transaction committed (the server's
        # metrics count sessions, refusals and failed logins from them); never for a
        # transaction that rolled back. An observer must not raise or block.
        self.observers: list[Callable[[AuditRecord], None]] = []

    @property
    def database(self) -> async_sessionmaker[AsyncSession]:
        """The database the trail lives in, for reads beside it."""
        return self._sessions

    @asynccontextmanager
    async def work(self) -> AsyncIterator[AuditedWork]:
        """A transaction that may append to the trail; commits on normal exit."""
        async with self._lock, self._sessions.begin() as session:
            if session.get_bind().dialect.name == "postgresql":
                await session.execute(
                    text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID}
                )
            work = AuditedWork(session)
            yield work
        for record in work.recorded:
            for observer in self.observers:
                observer(record)

    async def record(self, *records: AuditRecord) -> list[AuditEntry]:
        async with self.work() as work:
            return await work.record(*records)

    async def entries(
        self, since: datetime | None = None, batch: int = 1000
    ) -> AsyncIterator[AuditEntry]:
        """Entries in sequence order, from ``since`` (UTC) on, fetched in batches."""
        after = 0
        while True:
            query = (
                select(AuditEntryRow)
                .where(AuditEntryRow.sequence > after)
                .order_by(AuditEntryRow.sequence)
                .limit(batch)
            )
            if since is not None:
                query = query.where(AuditEntryRow.timestamp >= iso_utc(since))
            async with self._sessions() as session:
                rows = list(await session.scalars(query))
            for row in rows:
                yield _to_entry(row)
            if len(rows) < batch:
                return
            after = rows[-1].sequence

    async def for_subject(self, subject: str) -> list[AuditEntry]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(AuditEntryRow)
                .where(AuditEntryRow.subject == subject)
                .order_by(AuditEntryRow.sequence)
            )
            return [_to_entry(row) for row in rows]

    async def page(
        self,
        size: int,
        *,
        before: int | None = None,
        after: int | None = None,
        where: AuditFilter = EVERYTHING,
    ) -> AuditPage:
        """``size`` entries that ``where`` selects, newest first: the newest of all,
        those just ``before`` a sequence number (older), or those just ``after`` one
        (newer). Keyset paging on the sequence number: a page reads ``size + 1`` rows and
        probes once for the other way, whatever the trail's length."""
        chosen = where.condition()
        query = select(AuditEntryRow).where(chosen)
        if after is not None:
            query = query.where(AuditEntryRow.sequence > after).order_by(AuditEntryRow.sequence)
        else:
            if before is not None:
                query = query.where(AuditEntryRow.sequence < before)
            query = query.order_by(AuditEntryRow.sequence.desc())
        async with self._sessions() as session:
            rows = list(await session.scalars(query.limit(size + 1)))
            more = len(rows) > size
            rows = rows[:size]
            if after is not None:
                rows.reverse()
            entries = [_to_entry(row) for row in rows]
            if not entries:
                return AuditPage([], None, None)
            newest, oldest = entries[0].sequence, entries[-1].sequence
            # One way is known from the extra row; the other needs one probe.
            if after is not None:
                older = await session.scalar(
                    select(exists().where(chosen, AuditEntryRow.sequence < oldest))
                )
                return AuditPage(entries, oldest if older else None, newest if more else None)
            newer = before is not None and bool(
                await session.scalar(
                    select(exists().where(chosen, AuditEntryRow.sequence > newest))
                )
            )
            return AuditPage(entries, oldest if more else None, newest if newer else None)

    async def selected(self, where: AuditFilter, batch: int = 500) -> AsyncIterator[AuditEntry]:
        """The entries ``where`` selects in sequence order, read ``batch`` rows at a
        time by keyset, each batch in its own short transaction: an export streams
        the trail without holding it, or a transaction, open."""
        after = 0
        while True:
            query = (
                select(AuditEntryRow)
                .where(where.condition(), AuditEntryRow.sequence > after)
                .order_by(AuditEntryRow.sequence)
                .limit(batch)
            )
            async with self._sessions() as session:
                rows = list(await session.scalars(query))
                entries = [_to_entry(row) for row in rows]
            for entry in entries:
                yield entry
            if len(rows) < batch:
                return
            after = entries[-1].sequence

    async def newest_sequence(self) -> int:
        """The sequence number of the newest entry (0 for an empty trail)."""
        async with self._sessions() as session:
            newest = await session.scalar(select(func.max(AuditEntryRow.sequence)))
        return int(newest or 0)

    async def verify(self, batch: int = 1000) -> VerificationResult:
        """Check the whole chain as stored, a batch at a time: memory holds one batch,
        and the hashing runs in a worker thread, so a server verifying a long trail
        still answers everyone else. Each batch is checked as a segment continuing
        from the one before (``verify(start_sequence=..., start_prev_hash=...)``)."""
        checked, head, sequence, offset = 0, GENESIS_HASH, 1, 0
        chunk: list[AuditEntry] = []

        async def check(entries: list[AuditEntry]) -> VerificationResult:
            result = await asyncio.to_thread(
                verify, entries, start_sequence=sequence, start_prev_hash=head
            )
            position = None if result.position is None else result.position + offset
            return VerificationResult(
                result.ok,
                checked + result.entries_checked,
                result.head_hash,
                result.problem,
                result.sequence,
                position,
                result.detail,
            )

        async for entry in self.entries(batch=batch):
            chunk.append(entry)
            if len(chunk) < batch:
                continue
            result = await check(chunk)
            if not result.ok:
                return result
            checked, head = result.entries_checked, result.head_hash
            sequence, offset, chunk = chunk[-1].sequence + 1, offset + len(chunk), []
        return await check(chunk)
