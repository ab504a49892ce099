"""One retention purge as one audited transaction: the caller's erasing statements, then
an audit entry with how many rows were erased and by which rule, never what they held.

The service requests' personal fields and the exit survey's comments are erased so;
each store module says which rows are due and what is erased, this one says how such
an erasure is written down. A run that erases nothing writes nothing, so the daily
purges stay idempotent (a second node at the same hour adds no entry).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.domain.utc import iso_utc
from supportdesk.store.audit_log import AuditLog


def rows_changed(result: object) -> int:
    """How many rows an UPDATE changed (0 where the driver does not say)."""
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_audited(
    audit: AuditLog,
    event_type: str,
    *,
    actor: str,
    subject: str,
    cutoff_key: str,
    retention: timedelta,
    cutoff: datetime,
    now: datetime,
    erase: Callable[[AsyncSession], Awaitable[int]],
) -> int:
    """Run ``erase`` (it returns how many rows it erased) in one audited transaction
    and, if it erased any, record ``event_type`` by ``actor`` about ``subject`` with the
    count, the retention in days and the cutoff under ``cutoff_key``
    ("closed_before", "answered_before"); returns the count. The caller passes the
    event code as a literal, where the scan of the audit names finds it."""
    async with audit.work() as work:
        count = await erase(work.session)
        if count:
            await work.record(
                AuditRecord(
                    now,
                    event_type,
                    actor,
                    subject,
                    {
                        "count": count,
                        "retention_days": retention.days,
                        cutoff_key: iso_utc(cutoff),
                    },
                )
            )
    return count
