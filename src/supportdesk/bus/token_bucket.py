"""A token bucket: at most ``rate`` events per second on average, ``burst`` at once.

Pure arithmetic on the times the caller passes (monotonic seconds), so tests need
no clock and no sleeping. The in-process bus keeps one per name; the Redis bus runs
the same arithmetic as a Lua script (``redis_buckets.py``) on Redis's own clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    rate: float
    burst: int
    _tokens: float = field(init=False)
    _updated: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            raise ValueError("a token bucket needs rate > 0 and burst >= 1")
        self._tokens = float(self.burst)

    def _refill(self, now: float) -> None:
        if self._updated is not None and now > self._updated:
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        if self._updated is None or now > self._updated:
            self._updated = now

    def take(self, now: float) -> bool:
        """Spend one token if there is one; False means: over the limit, refuse."""
        self._refill(now)
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False

    def available(self, now: float) -> float:
        self._refill(now)
        return self._tokens
