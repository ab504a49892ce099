"""The server's daily purge of recordings past retention, at ``recording.purge_hour`` UTC.

The same purge as ``supportdesk recordings purge`` (one audit entry per destroyed
recording; a legal hold keeps one), run by the app's daily task
(``server/daily_purge.py``). Every node runs it; purging is idempotent, so two nodes
at the same hour do no harm.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from supportdesk.recording.retention import Verdict
from supportdesk.recording_archive import PurgeOutcome, RecordingArchive

log = logging.getLogger(__name__)
RETENTION_ACTOR = "system:retention"


def seconds_until_hour(now: datetime, hour: int) -> float:
    """Seconds from ``now`` to the next ``hour``:00 UTC (a full day if it is that moment)."""
    utc = now.astimezone(UTC)
    target = utc.replace(hour=hour, minute=0, second=0, microsecond=0)
    if target <= utc:
        target += timedelta(days=1)
    return (target - utc).total_seconds()


async def purge_expired(archive: RecordingArchive, now: datetime) -> list[PurgeOutcome]:
    """One purge round, audited as the retention system."""
    outcomes = await archive.purge(RETENTION_ACTOR, now)
    purged = sum(1 for o in outcomes if o.verdict is Verdict.PURGE and o.error is None)
    failed = [o for o in outcomes if o.error is not None]
    log.info("recording purge: %d purged, %d failed", purged, len(failed))
    for outcome in failed:
        log.error("could not purge %s: %s", outcome.consultation_number, outcome.error)
    return outcomes
