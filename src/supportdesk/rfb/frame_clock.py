"""The frame clock: at most one frame of the screen per frame interval, sans I/O.

A server that takes a new frame for every request sends as many updates as a viewer
asks for; with the bench client's one outstanding request that was 2.3x
x0vncserver's updates a second, and the CPU with it (docs/benchmarks.md, "Issue 16").
TigerVNC coalesces damage and takes at most one frame per tick of its frame clock
(``FrameRate``, default 60: ``VNCServerST::handleTimeout`` calls ``writeUpdate``).
:class:`FrameClock` does the same for one connection, with one difference: the clock
starts at the frame, not on a fixed beat, so the first change after a quiet spell is
taken at once and only a change that follows a frame within one interval waits for the
rest of it. What a frame brought goes out as the viewer asks for it, in one update or
in several when the update budget cuts it (``RFBServerConnection.max_update_area``).

With a ``large_frame_rate``, a frame that brought a large area (``large_area`` pixels
or more: a moving picture, scrolling text) is followed by the longer interval of that
rate before the next frame that may be large, a small one (a clock, a cursor, a typed
letter) by the frame rate's: what keeps moving across much of the screen costs its
capture and comparison at most that often. A capture that can take the small changes
alone (damage-driven capture knows where things were drawn) asks
``wait(now, large=False)``: while a large frame is held back, one frame of small changes
may go halfway between two large ones, so the agent sees the clock, the cursor and the
typing at twice the large frame rate while a video plays (and at the frame rate when
nothing large moves).

Pure: the caller passes the time (``time.monotonic()``) and does the waiting.
"""

from __future__ import annotations

__all__ = ["DEFAULT_FRAME_RATE", "DEFAULT_LARGE_FRAME_RATE", "LARGE_FRAME_AREA", "FrameClock"]

DEFAULT_FRAME_RATE = 60.0
"""Frames a second at most, as TigerVNC's ``FrameRate`` default."""
DEFAULT_LARGE_FRAME_RATE = 20.0
"""Frames a second at most after a large frame. At 20 the
engine's CPU on the reference workload fell from 1.55x x0vncserver's to 0.92x, with
30 it stayed at 1.21x (docs/benchmarks.md, "Issue 16", step 10)."""
LARGE_FRAME_AREA = 1 << 16
"""A frame that brought at least this many changed pixels counts as large."""


class FrameClock:
    """When the next frame may be taken: one frame interval after the previous one."""

    def __init__(
        self,
        frame_rate: float = DEFAULT_FRAME_RATE,
        *,
        large_frame_rate: float | None = None,
        large_area: int = LARGE_FRAME_AREA,
    ) -> None:
        if not frame_rate > 0 or (large_frame_rate is not None and not large_frame_rate > 0):
            raise ValueError("the frame rate must be positive")
        self.interval = 1.0 / frame_rate
        # Never shorter than the frame rate's own interval: a lower frame rate holds.
        large = self.interval if large_frame_rate is None else 1.0 / large_frame_rate
        self.large_interval = max(self.interval, large)
        self.large_area = large_area
        self._next = float("-inf")  # when the next frame of any size may be taken
        self._next_small = float("-inf")  # when the next frame of small changes only may

    def wait(self, now: float, *, large: bool = True) -> float:
        """Seconds until the next frame may be taken (0: now).

        ``large=False``: a frame of small changes only (less than ``large_area`` pixels),
        which after a large frame waits half the large frame interval, not all of it.
        """
        return max(0.0, (self._next if large else self._next_small) - now)

    def taken(self, now: float, area: int = 0) -> None:
        """A frame that brought ``area`` changed pixels was taken at ``now``."""
        if area >= self.large_area:
            self._next = now + self.large_interval
            # One frame of small changes may go halfway to the next large one: each such
            # frame costs its own grab, comparison and update (docs/benchmarks.md, step 11).
            self._next_small = now + max(self.interval, self.large_interval / 2)
        elif self._next > now + self.interval:  # a large frame waits: no more small ones
            self._next_small = self._next
        else:
            self._next_small = now + self.interval
            self._next = max(self._next, self._next_small)
