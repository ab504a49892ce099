"""Counting failed attempts per key (an account name, a pseudonymised address) for
throttling logins and support-key redemptions across restarts and nodes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from supportdesk.store.models import FailureCounterRow


@dataclass(frozen=True)
class FailureCount:
    failures: int
    last_failure_at: datetime | None


NONE = FailureCount(0, None)


class FailureCounters:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, key: str) -> FailureCount:
        async with self._sessions() as session:
            row = await session.get(FailureCounterRow, key)
        if row is None:
            return NONE
        last = row.last_failure_at
        return FailureCount(row.failures, last if last.tzinfo else last.replace(tzinfo=UTC))

    async def record_failure(self, key: str, now: datetime, start_over: bool = False) -> int:
        """Count one more failure (or start again at one) and return the new count."""
        async with self._sessions.begin() as session:
            row = await session.get(FailureCounterRow, key, with_for_update=True)
            if row is None:
                session.add(FailureCounterRow(key=key, failures=1, last_failure_at=now))
                return 1
            row.failures = 1 if start_over else row.failures + 1
            row.last_failure_at = now
            return row.failures

    async def reset(self, *keys: str) -> None:
        async with self._sessions.begin() as session:
            await session.execute(delete(FailureCounterRow).where(FailureCounterRow.key.in_(keys)))
