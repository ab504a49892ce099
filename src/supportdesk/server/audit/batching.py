"""Writing refusal counts to the audit trail: the thin shell around
``domain/refusal_window.py``.

``RemoteSupport`` passes every redemption refused before any key was looked at
(``throttled``, ``rate_limited``) here instead of appending an entry for each. The
counts of windows that are over are written at the next refusal, by the server's
sweep every few seconds (``flush_due``), and when the server stops (``flush``). A
node that dies loses the count of its current window (at most ``window`` of it); the
first refusal of every window and actor was written at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.domain.refusal_window import RefusalWindows
from supportdesk.store.audit_log import AuditLog


class RefusalAudit:
    """Refusals of one kind of attempt, counted per window and written in few entries."""

    def __init__(
        self,
        audit: AuditLog,
        event_type: str,
        window: timedelta = timedelta(minutes=1),
        max_actors: int = 1000,
    ) -> None:
        self.audit = audit
        self.windows = RefusalWindows(event_type, window, max_actors)

    async def refused(self, actor: str, reason: str, now: datetime) -> None:
        """Count one refusal; writes only what is due (see the module docstring)."""
        await self._write(self.windows.refused(actor, reason, now))

    async def flush_due(self, now: datetime) -> None:
        """Write the counts of windows that are over."""
        await self._write(self.windows.due(now))

    async def flush(self, now: datetime) -> None:
        """Write every count, the current window's too (the server is stopping)."""
        await self._write(self.windows.flush(now))

    async def _write(self, records: list[AuditRecord]) -> None:
        if records:
            await self.audit.record(*records)
