"""The server's daily retention purges, at ``recording.purge_hour`` UTC: recordings past
their retention (``server/recordings/retention.py``), the personal data of service
requests closed longer than ``portal.request_retention_days``
(``store/service_requests.py``), and exit-survey comments answered longer than that ago
(``store/exit_surveys.py``: they carry no name, but free text may hold personal data).
Every node runs them; all are idempotent, so two nodes at the same hour do no harm.
Each purge is audited by itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

from supportdesk.server.recordings.retention import seconds_until_hour
from supportdesk.server.state import Clock
from supportdesk.store.audit_log import AuditLog
from supportdesk.store.exit_surveys import purge_old_comments
from supportdesk.store.service_requests import purge_closed_requests

log = logging.getLogger(__name__)

Job = Callable[[datetime], Awaitable[object]]


def request_purge(audit: AuditLog, retention: timedelta) -> Job:
    """The daily job that erases the personal data of long-closed service requests."""

    async def purge(now: datetime) -> int:
        count = await purge_closed_requests(audit, retention, now)
        log.info("service-request purge: %d erased", count)
        return count

    return purge


def survey_comment_purge(audit: AuditLog, retention: timedelta) -> Job:
    """The daily job that erases exit-survey comments older than ``retention``."""

    async def purge(now: datetime) -> int:
        count = await purge_old_comments(audit, retention, now)
        log.info("survey comment purge: %d erased", count)
        return count

    return purge


async def run_daily(jobs: Sequence[tuple[str, Job]], clock: Clock, hour: int) -> None:
    """Run every job once a day at ``hour`` UTC, until cancelled; a job that fails is
    logged and does not keep the others or the next day's round from running."""
    while True:
        await asyncio.sleep(seconds_until_hour(clock(), hour))
        for name, job in jobs:
            try:
                await job(clock())
            except Exception:
                log.exception("%s failed", name)
