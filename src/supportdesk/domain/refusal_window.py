"""Refusals counted per window instead of written one by one: how a flood of refused
attempts (key redemptions the back-off or the guessing budget turned away before
any key was looked at) becomes a few audit entries, not one per attempt.

Time is cut into fixed windows (``window`` long, aligned on the epoch). Per actor
(``client:<pseudonym>``) and reason, the first refusal of a window is an audit entry
at once, as every refusal used to be, so a monitor sees a new source within a
moment. The further ones of that window are only counted; one entry with the count
follows when the window is over (``due``), or at the latest when the caller stops
(``flush``). So N refusals from one client write at most two entries per window.

Only ``max_actors`` actors are counted one by one per window, so memory and the
number of entries stay bounded when the attacker changes its address for every
attempt; the refusals of any further actors are counted together under the actor
``client:*`` (no entry at once).

Every entry has the one event type; its data carries ``reason`` and, for a count,
``count`` (how many refusals the entry stands for; an entry without it stands for
one) and the window (``from``, ``until``). The number of refusals in a period is the
sum of ``count`` (default 1) over its entries.

Pure: no clock, no I/O; the caller passes the time and writes the records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.domain.utc import iso_utc, require_utc

OVERFLOW_ACTOR = "client:*"
"""Who the count of refusals from actors beyond ``max_actors`` in a window names."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class _Tally:
    window_start: datetime
    counted: int = 0  # refusals after the first (which was written at once)


class RefusalWindows:
    """Counts refusals per (actor, reason) and window; hands out the audit records."""

    def __init__(
        self, event_type: str, window: timedelta = timedelta(minutes=1), max_actors: int = 1000
    ) -> None:
        if window <= timedelta(0):
            raise ValueError("the window must be positive")
        if max_actors < 1:
            raise ValueError("max_actors must be at least 1")
        self.event_type = event_type
        self.window = window
        self.max_actors = max_actors
        self._tallies: dict[tuple[str, str], _Tally] = {}
        self._actors: dict[str, int] = {}  # per reason: actors counted apart
        self._oldest: datetime | None = None  # the earliest window still counted

    def window_of(self, at: datetime) -> datetime:
        """The start of the window ``at`` falls into."""
        elapsed = require_utc(at, "at") - _EPOCH
        return _EPOCH + (elapsed // self.window) * self.window

    @property
    def open_tallies(self) -> int:
        """How many (actor, reason) windows are being counted now (bounded by
        ``max_actors`` per reason, plus one overflow tally per reason)."""
        return len(self._tallies)

    def refused(self, actor: str, reason: str, at: datetime) -> list[AuditRecord]:
        """One more refusal at ``at``: the records to write now (the counts of windows
        that are over, and this refusal's own entry if it is its window's first)."""
        records = self.due(at)
        start = self.window_of(at)
        tally = self._tallies.get((actor, reason))
        if tally is not None:
            tally.counted += 1
            return records
        if self._oldest is None:
            self._oldest = start
        if self._actors.get(reason, 0) >= self.max_actors:
            overflow = self._tallies.setdefault((OVERFLOW_ACTOR, reason), _Tally(start))
            overflow.counted += 1
            return records
        self._actors[reason] = self._actors.get(reason, 0) + 1
        self._tallies[(actor, reason)] = _Tally(start)
        records.append(AuditRecord(at, self.event_type, actor, "-", {"reason": reason}))
        return records

    def due(self, now: datetime) -> list[AuditRecord]:
        """The counts of every window that is over by ``now``; those are forgotten."""
        current = self.window_of(now)
        if self._oldest is None or self._oldest >= current:
            return []  # the usual case: nothing is over, nothing to look through
        return self._take(now, lambda tally: tally.window_start < current)

    def flush(self, now: datetime) -> list[AuditRecord]:
        """Every count, over or not (the caller is stopping)."""
        return self._take(now, lambda tally: True)

    def _take(self, now: datetime, pick: Callable[[_Tally], bool]) -> list[AuditRecord]:
        records = []
        for key, tally in list(self._tallies.items()):
            if not pick(tally):
                continue
            del self._tallies[key]
            actor, reason = key
            if actor != OVERFLOW_ACTOR:
                self._actors[reason] -= 1
            if tally.counted == 0:
                continue  # the one refusal already has its entry
            records.append(
                AuditRecord(
                    now,
                    self.event_type,
                    actor,
                    "-",
                    {
                        "reason": reason,
                        "count": tally.counted,
                        "from": iso_utc(tally.window_start),
                        "until": iso_utc(tally.window_start + self.window),
                    },
                )
            )
        starts = [tally.window_start for tally in self._tallies.values()]
        self._oldest = min(starts) if starts else None
        return records
