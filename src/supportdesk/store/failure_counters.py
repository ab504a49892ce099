"""Counting failed attempts per key (an account name, a pseudonymised address) for
throttling logins and support-key redemptions across restarts and nodes.

An attempt is counted *before* it is evaluated: :meth:`FailureCounters.reserve` reads
the counts, decides, and adds one to each in one transaction that holds the rows
(``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the transaction's first statement
is a write, so it holds the database's write lock until it commits). N parallel
attempts are therefore decided one after another and see each other's counts: under
a budget of five free tries at most five are evaluated, however many arrive at once.
A success then clears the count (:meth:`reset`); a failure leaves it as reserved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from supportdesk.store.models import FailureCounterRow


@dataclass(frozen=True)
class FailureCount:
    failures: int
    last_failure_at: datetime | None


NONE = FailureCount(0, None)

Decision = Callable[[FailureCount], bool]
"""Whether one more attempt may be evaluated, given a key's count so far."""


def _count(row: FailureCounterRow) -> FailureCount:
    if row.failures == 0:
        return NONE
    last = row.last_failure_at
    return FailureCount(row.failures, last if last.tzinfo else last.replace(tzinfo=UTC))


class FailureCounters:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, key: str) -> FailureCount:
        async with self._sessions() as session:
            row = await session.get(FailureCounterRow, key)
        return NONE if row is None else _count(row)

    async def reserve(self, keys: Iterable[str], now: datetime, may_attempt: Decision) -> bool:
        """Count one attempt against every key, atomically, if ``may_attempt`` allows
        it for each key's count so far; True then: evaluate the attempt, and call
        :meth:`reset` if it succeeds (else it stays counted as a failure). False: the
        attempt is refused and nothing was counted."""
        ordered = sorted(set(keys))  # one lock order everywhere: no deadlocks
        async with self._sessions.begin() as session:
            await self._ensure_rows(session, ordered, now)
            rows = await session.scalars(
                select(FailureCounterRow)
                .where(FailureCounterRow.key.in_(ordered))
                .order_by(FailureCounterRow.key)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            if not all(may_attempt(_count(row)) for row in rows):
                return False
            await session.execute(
                update(FailureCounterRow)
                .where(FailureCounterRow.key.in_(ordered))
                .values(failures=FailureCounterRow.failures + 1, last_failure_at=now)
            )
            return True

    async def release(self, keys: Iterable[str]) -> None:
        """Give back a reserved attempt that was never evaluated (say the global
        budget refused it first)."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(FailureCounterRow)
                .where(FailureCounterRow.key.in_(sorted(set(keys))))
                .where(FailureCounterRow.failures > 0)
                .values(failures=FailureCounterRow.failures - 1)
            )

    async def record_failure(self, key: str, now: datetime) -> int:
        """Count one more failure (not reserved beforehand) and return the new count:
        one statement, so parallel calls never lose a count."""
        async with self._sessions.begin() as session:
            insert = (
                postgresql_insert
                if session.get_bind().dialect.name == "postgresql"
                else sqlite_insert
            )
            upsert = insert(FailureCounterRow).values(key=key, failures=1, last_failure_at=now)
            statement = upsert.on_conflict_do_update(
                index_elements=[FailureCounterRow.key],
                set_={"failures": FailureCounterRow.failures + 1, "last_failure_at": now},
            ).returning(FailureCounterRow.failures)
            return int((await session.execute(statement)).scalar_one())

    async def reset(self, *keys: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(delete(FailureCounterRow).where(FailureCounterRow.key.in_(keys)))

    @staticmethod
    async def _ensure_rows(session: AsyncSession, keys: list[str], now: datetime) -> None:
        """Make sure every key has a row to lock. This is the transaction's first
        statement and a write: on SQLite it takes the write lock for the whole
        transaction (a read first would let two transactions decide on the same
        count); on PostgreSQL a concurrent insert of the same key waits, never fails."""
        insert = (
            postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        )
        await session.execute(
            insert(FailureCounterRow)
            .values([{"key": key, "failures": 0, "last_failure_at": now} for key in keys])
            .on_conflict_do_nothing(index_elements=[FailureCounterRow.key])
        )
