"""One session's recording measured against its limits, as the recording goes.

The recording asks :meth:`RecordingMeter.admits` before it keeps anything from
outside and tells the meter what the recorder kept (:meth:`RecordingMeter.sync`, or
:meth:`RecordingMeter.count` for bytes waiting for the file). The meter charges the
session's :class:`~supportdesk.recording.budget.RecordingBudget` and says each thing
once: ``on_rate`` the first time the session writes faster than its byte rate (the
audit entry; the relay slows the link by :meth:`RecordingMeter.wait`), ``on_quota`` the
first time a record is refused at the quota (the session ends).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from supportdesk.recording.budget import BudgetLimits, RecordingBudget


class RecordingMeter:
    """Counts a session's recorded bytes; see the module docstring."""

    def __init__(
        self,
        limits: BudgetLimits,
        monotonic: Callable[[], float],
        *,
        on_rate: Callable[[dict[str, Any]], None],
        on_quota: Callable[[int], None],
        tally: Callable[[int], None] = lambda size: None,
    ) -> None:
        self.limits = limits
        self.monotonic = monotonic
        self.budget = RecordingBudget(limits, monotonic())
        self.on_rate = on_rate
        self.on_quota = on_quota
        self.tally = tally  # every byte counted, for the server's metrics
        self.quota_reached = False
        self._rate_told = False
        self._seen = 0  # the recorder's recorded_bytes already counted

    def wait(self) -> float:
        """Seconds the customer's link should not be read (0.0 within the rate)."""
        return self.budget.wait(self.monotonic())

    def admits(self) -> bool:
        """Whether a record from outside may be made."""
        if not self.budget.exhausted:
            return True
        if not self.quota_reached:
            self.quota_reached = True
            self.on_quota(self.budget.used)
        return False

    def count(self, size: int) -> None:
        """Charge ``size`` bytes recorded (or waiting to be)."""
        self.tally(size)
        if self.budget.charge(size, self.monotonic()) > 0 and not self._rate_told:
            self._rate_told = True
            limits = self.limits
            self.on_rate({"bytes_per_second": limits.rate_bytes, "burst_bytes": limits.burst_bytes})

    def sync(self, recorded_bytes: int) -> None:
        """Charge what the recorder kept since the last call (``recorded_bytes``: its total)."""
        if recorded_bytes != self._seen:
            size, self._seen = recorded_bytes - self._seen, recorded_bytes
            self.count(size)

    def file_opened(self, recorded_bytes: int, counted_before: int) -> None:
        """The file exists with ``recorded_bytes`` in it, ``counted_before`` of which
        were charged while they waited for it."""
        self.count(recorded_bytes - counted_before)
        self._seen = recorded_bytes
