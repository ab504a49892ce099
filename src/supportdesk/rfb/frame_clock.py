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

Pure: the caller passes the time (``time.monotonic()``) and does the waiting.
"""

from __future__ import annotations

__all__ = ["DEFAULT_FRAME_RATE", "FrameClock"]

DEFAULT_FRAME_RATE = 60.0
"""Frames a second at most, as TigerVNC's ``FrameRate`` default."""


class FrameClock:
    """When the next frame may be taken: one frame interval after the previous one."""

    def __init__(self, frame_rate: float = DEFAULT_FRAME_RATE) -> None:
        if not frame_rate > 0:
            raise ValueError("the frame rate must be positive")
        self.interval = 1.0 / frame_rate
        self._next: float | None = None  # None: no frame taken yet

    def wait(self, now: float) -> float:
        """Seconds until the next frame may be taken (0: now)."""
        if self._next is None:
            return 0.0
        return max(0.0, self._next - now)

    def taken(self, now: float) -> None:
        """A frame was taken at ``now``."""
        self._next = now + self.interval
