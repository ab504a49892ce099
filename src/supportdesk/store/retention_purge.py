"""One retention purge as one audited transaction: the caller's erasing statements, then
an audit entry with how many rows were erased and by which rule, never what they held.

The service requests' personal fields and the exit survey's comments are erased so;
each store module says which rows are due and what is erased, this one says how such
an erasure is written down. A run that erases nothing writes nothing, so the daily
purges stay idempotent (a second node at the same hour adds no entry).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.domain.utc import iso_utc
from supportdesk.store.audit_log import AuditLog


def rows_changed(result: object) -> int:
    """How many rows an UPDATE changed (0 where the driver does not say)."""
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class PurgeRule:
    """What the audit entry of a purge names: its event type, actor and subject, and
    the data key under which the cutoff stands ("closed_before", "answered_before")."""

    event_type: str
    actor: str
    subject: str
    cutoff_key: str


async def purge_audited(
    audit: AuditLog,
    rule: PurgeRule,
    *,
    retention: timedelta,
    cutoff: datetime,
    now: datetime,
    erase: Callable[[AsyncSession], Awaitable[int]],
) -> int:
    """Run ``erase`` (it returns how many rows it erased) in one audited transaction
    and, if it erased any, record ``rule.event_type`` with the count, the retention in
    days and the cutoff; returns the count."""
    async with audit.work() as work:
        count = await erase(work.session)
        if count:
            await work.record(
                AuditRecord(
                    now,
                    rule.event_type,
                    rule.actor,
                    rule.subject,
                    {
                        "count": count,
                        "retention_days": retention.days,
                        rule.cutoff_key: iso_utc(cutoff),
                    },
                )
            )
    return count
