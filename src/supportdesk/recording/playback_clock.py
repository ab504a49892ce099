"""The player's clock: which recording time is shown now, under play, pause and speed.

A pure mapping between the recording's time (µs since the session start) and a
monotonic wall clock (seconds) the caller passes in, so the pacing of a player is
tested without sleeping. The player socket asks :meth:`PlaybackClock.wait_for`
how long to wait before sending a message stamped ``at_us``.
"""

from __future__ import annotations

__all__ = ["SPEEDS", "PlaybackClock"]

SPEEDS = (1, 2, 4, 8, 16)


class PlaybackClock:
    """Recording time as a function of wall time; starts playing unless ``paused``."""

    def __init__(self, start_us: int, now: float, speed: int = 1, *, paused: bool = False) -> None:
        self._check(speed)
        self._anchor_us = start_us
        self._anchor_wall = now
        self.speed = speed
        self.paused = paused

    def position_us(self, now: float) -> int:
        if self.paused:
            return self._anchor_us
        return self._anchor_us + int((now - self._anchor_wall) * 1_000_000 * self.speed)

    def wait_for(self, at_us: int, now: float) -> float | None:
        """Seconds until ``at_us`` is due: 0 if it is at or before the position (also
        while paused: the picture at the position is always complete); None while
        paused and it lies ahead."""
        ahead = at_us - self.position_us(now)
        if ahead <= 0:
            return 0.0
        if self.paused:
            return None
        return ahead / 1_000_000 / self.speed

    def pause(self, now: float) -> None:
        self._rebase(now)
        self.paused = True

    def play(self, now: float) -> None:
        self._rebase(now)
        self.paused = False

    def set_speed(self, speed: int, now: float) -> None:
        self._check(speed)
        self._rebase(now)
        self.speed = speed

    def _rebase(self, now: float) -> None:
        self._anchor_us = self.position_us(now)
        self._anchor_wall = now

    @staticmethod
    def _check(speed: int) -> None:
        if speed not in SPEEDS:
            raise ValueError(f"speed must be one of {', '.join(map(str, SPEEDS))}")
