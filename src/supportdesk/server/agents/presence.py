"""Which agents are online across the cluster: those with an open console socket on
some node.

Each node knows its own open agent sockets (``socket_register.py``). Every
``every`` seconds it says which accounts those are on the bus (channel
``agents-online``), and it keeps what the other nodes said; a node that has not
spoken for three periods counts as gone, with its agents. With the in-process bus
the node hears itself, which changes nothing. A bus outage only narrows the list to
this node's agents: the list offers colleagues, it grants nothing (a hand-over checks
the chosen account in the store).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Final

from supportdesk.bus import MISSED, BusUnavailable, Events

log = logging.getLogger(__name__)

CHANNEL: Final = "agents-online"
EVERY_SECONDS: Final = 5.0
RETRY_SECONDS: Final = 1.0


class AgentPresence:
    """This node's view of the agents online on any node."""

    def __init__(
        self,
        events: Events,
        node: str,
        local: Callable[[], set[int]],
        *,
        every: float = EVERY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._events = events
        self._node = node
        self._local = local
        self._every = every
        self._clock = clock
        self._others: dict[str, tuple[frozenset[int], float]] = {}

    def online(self) -> set[int]:
        """The accounts with an open socket here, or on a node heard from lately."""
        fresh_after = self._clock() - 3 * self._every
        found = set(self._local())
        for agents, heard in self._others.values():
            if heard >= fresh_after:
                found |= agents
        return found

    def heard(self, message: dict[str, object]) -> None:
        """Take in one node's announcement (ignoring this node's own)."""
        node, agents = message.get("node"), message.get("agents")
        if not isinstance(node, str) or node == self._node or not isinstance(agents, list):
            return
        ids = frozenset(a for a in agents if isinstance(a, int) and not isinstance(a, bool))
        self._others[node] = (ids, self._clock())

    async def announce(self) -> None:
        """Say this node's agents on the bus, every period; runs until cancelled."""
        while True:
            try:
                await self._events.publish(
                    CHANNEL, {"node": self._node, "agents": sorted(self._local())}
                )
            except BusUnavailable:
                log.info("agents online not announced (bus unavailable)")
            await asyncio.sleep(self._every)

    async def follow(self) -> None:
        """Keep the other nodes' announcements; runs until cancelled."""
        while True:
            try:
                async with await self._events.subscribe(CHANNEL) as messages:
                    async for message in messages:
                        if message != MISSED:
                            self.heard(message)
            except asyncio.CancelledError:
                raise
            except Exception:  # the bus is away: this node's own agents still show
                log.warning("following agents online failed; retrying", exc_info=True)
            await asyncio.sleep(RETRY_SECONDS)
