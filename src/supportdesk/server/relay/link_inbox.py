"""The applet link's inbound work that has to wait for the event loop, in arrival order.

Most frames on the applet link are screen updates the relay forwards at once, on the
reading callback. What needs awaiting (a control message that writes the audit trail,
a frame for a viewer whose send must wait) is queued here as work, and so is every
frame that arrives while work is queued: the link's messages take effect in the order
they came. The queued bytes are bounded: above ``limit`` the inbox asks its reader to
pause, below half of it to resume.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

Work = Callable[[], Awaitable[None]]


class LinkInbox:
    def __init__(self, limit: int, pause: Callable[[], None], resume: Callable[[], None]) -> None:
        self.limit = limit
        self._pause = pause
        self._resume = resume
        self._work: deque[tuple[Work, int]] = deque()
        self._arrived = asyncio.Event()
        self._running = False  # a piece of work is being awaited
        self._closed = False
        self._paused = False
        self.queued_bytes = 0

    @property
    def busy(self) -> bool:
        """Work is queued or under way: a newcomer must queue behind it."""
        return self._running or bool(self._work)

    def put(self, work: Work, size: int = 0) -> None:
        """Queue ``work``; ``size`` is the bytes it holds on to until it has run."""
        self._work.append((work, size))
        self.queued_bytes += size
        self._arrived.set()
        if self.queued_bytes > self.limit and not self._paused:
            self._paused = True
            self._pause()

    def close(self) -> None:
        """No more work will come: :meth:`run` returns once the queue is done."""
        self._closed = True
        self._arrived.set()

    async def run(self, stop: Callable[[], bool] = lambda: False) -> None:
        """Do the work in order until closed and drained, or until ``stop()`` after a piece."""
        while True:
            while not self._work:
                if self._closed:
                    return
                self._arrived.clear()
                await self._arrived.wait()
            work, size = self._work.popleft()
            self._running = True
            try:
                await work()
            finally:
                self._running = False
                self.queued_bytes -= size
                if self._paused and self.queued_bytes <= self.limit // 2:
                    self._paused = False
                    self._resume()
            if stop():
                return
