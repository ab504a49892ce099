"""Waking this node's dashboards when any node changes any session.

Every change of a session is announced on the bus (channel ``sessions``, by
``live_sessions.py``) after its commit, on whichever node made it. A node follows that
channel once, here, and wakes each of its open dashboards; a dashboard then reads what
it shows from the store again. One subscription per node, not per dashboard: with
Redis each subscription holds a connection of its own.

A wake-up says only "something changed", never what: the store is the truth, and a
dashboard that missed a message (the bus dropped and came back: ``MISSED``) is woken
all the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Final

from supportdesk.bus import Events
from supportdesk.server.cluster.live_sessions import CHANNEL

log = logging.getLogger(__name__)

RETRY_SECONDS: Final = 1.0


class SessionChanges:
    """The node's one follower of the ``sessions`` channel, and the dashboards it wakes."""

    def __init__(self, events: Events) -> None:
        self._events = events
        self._waiting: set[asyncio.Event] = set()
        self.following = asyncio.Event()  # set while subscribed (tests wait for it)

    @contextlib.contextmanager
    def watch(self) -> Iterator[asyncio.Event]:
        """An event set after every session change from now on, until the block ends;
        the watcher clears it when it has looked."""
        changed = asyncio.Event()
        self._waiting.add(changed)
        try:
            yield changed
        finally:
            self._waiting.discard(changed)

    def wake_all(self) -> None:
        for changed in self._waiting:
            changed.set()

    async def follow(self) -> None:
        """Wake the watchers on every announced change; runs until cancelled."""
        while True:
            try:
                async with await self._events.subscribe(CHANNEL) as messages:
                    self.following.set()
                    self.wake_all()  # what changed while not subscribed
                    async for _message in messages:
                        self.wake_all()
            except asyncio.CancelledError:
                raise
            except Exception:  # the bus is away: the dashboards' own refresh holds
                log.warning("following session changes for dashboards failed", exc_info=True)
            self.following.clear()
            await asyncio.sleep(RETRY_SECONDS)
