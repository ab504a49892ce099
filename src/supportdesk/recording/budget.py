"""How much one session may write into its recording: a quota in total and a byte
rate over time, so that one customer can neither fill the disk nor take its
bandwidth from the others.

Pure arithmetic, no clock of its own: the caller passes monotonic seconds. The
quota is a hard bound (:attr:`RecordingBudget.exhausted`); the rate is a token bucket
(:class:`TokenBucket`) that may run into debt: a charge is never refused for the
rate, it tells the caller how long to stop reading from the one who sent it
(:meth:`RecordingBudget.charge`), so the sender slows down and nobody else does.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BudgetLimits", "RecordingBudget", "TokenBucket"]

MIB = 1024 * 1024


@dataclass(frozen=True)
class BudgetLimits:
    """The limits of one session's recording (``[recording]`` in the settings)."""

    quota_bytes: int = 6144 * MIB
    """Payload bytes one session may record in all (its segments on this node)."""
    rate_bytes: float = 8 * MIB
    """Sustained payload bytes a second."""
    burst_bytes: float = 32 * MIB
    """Bytes above the sustained rate taken at once (a full-screen update, a file's
    first window) before the sender is slowed down."""

    def __post_init__(self) -> None:
        if self.quota_bytes <= 0 or self.rate_bytes <= 0 or self.burst_bytes <= 0:
            raise ValueError("recording limits must be positive")


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; starts full.

    :meth:`take` always takes (the bucket may go below zero) and returns the seconds
    until it is out of debt again: 0.0 while there were tokens enough.
    """

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0 or burst <= 0:
            raise ValueError("a token bucket needs a positive rate and burst")
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._at = now

    def tokens(self, now: float) -> float:
        """Tokens at ``now`` (negative: in debt)."""
        self._refill(now)
        return self._tokens

    def take(self, size: float, now: float) -> float:
        """Take ``size`` tokens at ``now``; the seconds until the bucket is out of debt."""
        self._refill(now)
        self._tokens -= size
        return self.wait(now)

    def wait(self, now: float) -> float:
        """Seconds from ``now`` until the bucket is out of debt (0.0 if it is not in debt)."""
        self._refill(now)
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def _refill(self, now: float) -> None:
        if now > self._at:  # a clock that stands still or steps back adds nothing
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now


class RecordingBudget:
    """The quota and the rate of one session's recording."""

    def __init__(self, limits: BudgetLimits, now: float) -> None:
        self.limits = limits
        self.used = 0
        self._bucket = TokenBucket(limits.rate_bytes, limits.burst_bytes, now)

    @property
    def exhausted(self) -> bool:
        """The quota is used up: nothing more from outside may be recorded. (A record
        is admitted while there is room and counted at its size, so the last one may
        go over by its own size, at most one link message.)"""
        return self.used >= self.limits.quota_bytes

    def charge(self, size: int, now: float) -> float:
        """Count ``size`` recorded bytes; the seconds the sender should now wait."""
        self.used += size
        return self._bucket.take(size, now)

    def wait(self, now: float) -> float:
        """Seconds the sender should still wait at ``now``."""
        return self._bucket.wait(now)
