"""Finds the relay of a live session: this node's, or the node that holds the session.

One node at a time serves a session's relay (the customer's link, the agent's views,
the recording): the one holding the bus lease ``session:<number>``, renewed while it
serves. A node asked for a session nobody holds takes the lease and the session up,
from the snapshot in the database (``relay/handover.py``) if another node served it
before; a session held elsewhere is answered with :class:`Elsewhere`, so the socket can
be handed on (``cluster/hand_on.py``). A node that finds its lease taken steps aside.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from supportdesk.bus import BusUnavailable, InProcessLeases, Lease, Leases
from supportdesk.domain.session_events import LIVE_STATES, EndReason
from supportdesk.domain.support_session import SupportSession
from supportdesk.server.recordings.place import RecordingPlace
from supportdesk.server.relay.session_info import SessionInfo
from supportdesk.server.relay.session_relay import SessionRelay
from supportdesk.server.relay.traffic import RelayTraffic
from supportdesk.server.remote_support import RemoteSupport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Node:
    """This node as the others see it in a lease: its name and direct address."""

    id: str
    url: str
    lease_seconds: float = 5.0

    @property
    def holder(self) -> str:
        return f"{self.id} {self.url}"


@dataclass(frozen=True)
class Elsewhere:
    """The session is served by another node, reachable at ``url``."""

    node: str
    url: str


class TryLater(Exception):
    """Nobody can serve the session this moment: the lease of a node that went away
    has not run out, or the bus cannot say who holds it."""


def lease_key(number: str) -> str:
    return f"session:{number}"


class RelayHub:
    """This node's relays, each under its lease on the session."""

    def __init__(
        self,
        remote: RemoteSupport,
        info_for: Callable[[SupportSession], Awaitable[SessionInfo]],
        clock: Callable[[], datetime],
        recordings: RecordingPlace,
        leases: Leases | None = None,
        node: Node | None = None,
        traffic: RelayTraffic | None = None,
    ) -> None:
        self.remote = remote
        self.traffic = RelayTraffic() if traffic is None else traffic
        self.info_for = info_for
        self.clock = clock
        self.recordings = recordings
        self.leases: Leases = InProcessLeases() if leases is None else leases
        self.node = node or Node(remote.sessions.node, "")
        self.relays: dict[str, SessionRelay] = {}
        self._starting: dict[str, asyncio.Lock] = {}
        self._keepers: set[asyncio.Task[None]] = set()
        remote.listeners.append(self._changed)

    async def find(self, number: str) -> SessionRelay | Elsewhere | None:
        """The relay of a session that is not over: this node's (taking the session
        up if no node holds it), or where another node serves it; None if there is no
        such session. Raises :class:`TryLater`."""
        relay = self.relays.get(number)
        if relay is not None and not relay.ended.is_set():
            return relay
        lock = self._starting.setdefault(number, asyncio.Lock())
        async with lock:
            relay = self.relays.get(number)
            if relay is not None and not relay.ended.is_set():
                return relay
            session = await self.remote.session(number)
            if session is None or session.is_terminal:
                return None
            key = lease_key(number)
            lease = await self.leases.acquire(key, self.node.holder, self.node.lease_seconds)
            if lease is None:
                try:
                    held = await self.leases.holder(key)
                except BusUnavailable as exc:
                    raise TryLater("the bus cannot say who serves the session") from exc
                if held is None or held.holder == self.node.holder:
                    # Just let go; or this node's own from before a restart, running out.
                    raise TryLater("the session's lease is changing hands")
                node, _, url = held.holder.partition(" ")
                return Elsewhere(node, url)
            return await self._start(session, lease)

    async def relay_for(self, session: SupportSession) -> SessionRelay | Elsewhere | None:
        return await self.find(str(session.consultation_number))

    def get(self, number: str) -> SessionRelay | None:
        """This node's relay of the session, if it serves it now."""
        relay = self.relays.get(number)
        return None if relay is None or relay.ended.is_set() else relay

    async def _start(self, session: SupportSession, lease: Lease) -> SessionRelay:
        number = str(session.consultation_number)
        info = await self.info_for(session)
        relay = SessionRelay(
            self.remote,
            session,
            info,
            self.clock,
            recordings=self.recordings,
            traffic=self.traffic,
        )
        self.relays[number] = relay
        facts = self.remote.link(number)
        if facts is not None and session.state in LIVE_STATES:
            log.info("taking the session over", extra={"session": number})
            await relay.adopt(facts)
            await relay.recording.start()
        keeper = asyncio.create_task(self._keep(relay, lease))
        self._keepers.add(keeper)
        keeper.add_done_callback(self._keepers.discard)
        return relay

    async def _keep(self, relay: SessionRelay, lease: Lease) -> None:
        """Renew the lease while the relay serves; step aside once another node has it."""
        key, period = lease.key, self.node.lease_seconds / 3
        try:
            while not relay.ended.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(relay.ended.wait(), period)
                if relay.ended.is_set() or await self.leases.renew(lease):
                    continue
                try:
                    held = await self.leases.holder(key)
                except BusUnavailable:
                    continue  # while the bus is away nobody can take the session over
                if held is None:  # the bus forgot it (a Redis restart): take it again
                    again = await self.leases.acquire(key, self.node.holder, lease.ttl)
                    if again is not None:
                        lease = again
                        continue
                log.warning(
                    "lease lost: another node serves the session", extra={"session": relay.number}
                )
                await relay.step_aside(clean=False)
        finally:
            with contextlib.suppress(Exception):
                await self.leases.release(lease)
            if self.relays.get(relay.number) is relay:
                del self.relays[relay.number]
            self._starting.pop(relay.number, None)

    async def hand_over_all(self) -> None:
        """This node is stopping: every session it serves goes on elsewhere (or here,
        after a restart); the customer's side and the consoles reconnect."""
        for relay in list(self.relays.values()):
            await relay.step_aside(clean=True)
        for keeper in list(self._keepers):
            with contextlib.suppress(asyncio.CancelledError):
                await keeper

    async def end_orphans(self, now: datetime) -> list[str]:
        """End live sessions no node serves whose customer has been away longer than
        the grace (their node died and nobody came back)."""
        ended = []
        for number, session in list(self.remote.live.items()):
            if number in self.relays or session.state not in LIVE_STATES:
                continue
            facts = self.remote.link(number)
            since = facts.lost_since or facts.seen_at if facts is not None else None
            info = await self.info_for(session)
            if since is not None and now - since < info.link_policy.grace:
                continue
            try:
                if await self.leases.holder(lease_key(number)) is not None:
                    continue
            except BusUnavailable:
                continue
            if await self.remote.end(number, EndReason.CONNECTION_LOST, now):
                ended.append(number)
        return ended

    async def _changed(self, session: SupportSession) -> None:
        number = str(session.consultation_number)
        relay = self.relays.get(number)
        if relay is not None and not relay.stepped_aside:
            await relay.publish()
            if session.is_terminal:
                self.relays.pop(number, None)
