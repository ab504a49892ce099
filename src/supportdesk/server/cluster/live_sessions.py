"""The sessions a node works with, kept equal to the database's snapshots.

The database is the one truth about a session (its row's snapshot and version), so
any node may change any session: a change locks the row, refreshes the node's cached
object if another node changed it since, applies the event, and stores the next
version with its audit records in one transaction. After the commit the node says
so on the bus (channel ``sessions``), and every other node that has the session in
hand refreshes it and tells its relay and consoles.

The cached object keeps its identity across refreshes (``restore_into``): the relay
and the console hold references to it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from supportdesk.bus import MISSED, BusUnavailable, Events
from supportdesk.domain.session_events import CustomerName
from supportdesk.domain.session_snapshot import (
    LinkFacts,
    SnapshotInvalid,
    restore,
    restore_into,
    snapshot,
)
from supportdesk.domain.support_session import SupportSession
from supportdesk.secret_keys import ServerKeys
from supportdesk.store.audit_log import AuditLog
from supportdesk.store.support_sessions import LiveRow, SupportSessionRecords

log = logging.getLogger(__name__)

CHANNEL: Final = "sessions"
"""Bus channel of ``{"number", "version", "node"}``: a session changed on ``node``."""
RETRY_SECONDS: Final = 1.0

Changed = Callable[[SupportSession], Awaitable[None]]


class _Keep:
    """Marker: store the link facts the node already has."""


KEEP_LINK: Final = _Keep()


class LiveSessions:
    """A node's cache of session objects over the stored snapshots."""

    def __init__(self, audit: AuditLog, keys: ServerKeys, events: Events, node: str) -> None:
        self.audit = audit
        self.keys = keys
        self.events = events
        self.node = node
        self.cache: dict[str, SupportSession] = {}
        self._versions: dict[str, int] = {}
        self._links: dict[str, LinkFacts | None] = {}

    # -- reading -------------------------------------------------------------------

    async def locked(self, records: SupportSessionRecords, number: str) -> SupportSession | None:
        """The session, its row locked for the caller's change; None if unknown."""
        return self._from_row(number, await records.live_row(number, lock=True))

    async def read(self, number: str) -> SupportSession | None:
        """The session as stored now, without locking; None if unknown."""
        async with self.audit.database() as db:
            row = await SupportSessionRecords(db).live_row(number)
        return self._from_row(number, row)

    def link(self, number: str) -> LinkFacts | None:
        """The customer link's facts as last read or stored by this node."""
        return self._links.get(number)

    def _from_row(self, number: str, row: LiveRow | None) -> SupportSession | None:
        if row is None or row.state is None:
            return None
        cached = self.cache.get(number)
        known = self._versions.get(number)
        if cached is not None and known is not None and row.version <= known:
            # As new as ours, or older: a change of ours is stored but not committed yet
            # (a read without the lock sees the row before it), and must not be undone.
            return cached
        try:
            fresh, link = restore(row.state, self._name(row.sealed_name, number))
        except SnapshotInvalid:
            log.exception("session %s: stored snapshot unreadable", number)
            return None
        if cached is not None:
            restore_into(cached, fresh)
            fresh = cached
        self._versions[number] = row.version
        self._links[number] = link
        if fresh.is_terminal:
            self.forget(number)
        else:
            self.cache[number] = fresh
        return fresh

    def _name(self, sealed: str | None, number: str) -> CustomerName | None:
        if sealed is None:
            return None
        name = self.keys.unseal(sealed, number)
        if name is None:
            log.error("session %s: the customer's sealed name does not open", number)
            return None
        return CustomerName(name)

    # -- writing -------------------------------------------------------------------

    async def store(
        self,
        records: SupportSessionRecords,
        session: SupportSession,
        link: LinkFacts | _Keep | None = KEEP_LINK,
    ) -> int:
        """Store ``session`` as its next version within the caller's transaction."""
        number = str(session.consultation_number)
        facts = self._links.get(number) if isinstance(link, _Keep) else link
        version = self._versions.get(number, 0) + 1
        name = session.customer_name
        sealed = None if name is None else self.keys.seal(name.reveal(), number)
        await records.save_live(number, version, snapshot(session, facts), sealed)
        self._versions[number] = version
        self._links[number] = facts
        if session.is_terminal:
            self.forget(number)
        else:
            self.cache[number] = session
        return version

    def invalidate(self, number: str) -> None:
        """A change failed after the object changed: re-read it before its next use."""
        self._versions.pop(number, None)

    def forget(self, number: str) -> None:
        self.cache.pop(number, None)
        self._versions.pop(number, None)
        self._links.pop(number, None)

    # -- between nodes ---------------------------------------------------------------

    async def announce(self, session: SupportSession) -> None:
        """Tell the other nodes the session changed (after the commit)."""
        number = str(session.consultation_number)
        message = {"number": number, "version": self._versions.get(number, 0), "node": self.node}
        try:
            await self.events.publish(CHANNEL, message)
        except BusUnavailable:
            # The database has the change; the others re-read all when the bus returns.
            log.warning("session %s: change not announced (bus unavailable)", number)

    async def follow(self, changed: Changed) -> None:
        """Refresh the sessions this node holds when another node changes them, and call
        ``changed`` for each; runs until cancelled."""
        while True:
            try:
                async with await self.events.subscribe(CHANNEL) as messages:
                    # Changes made while not subscribed (start, a bus outage): re-read.
                    await self._refresh_all(changed)
                    async for message in messages:
                        if message == MISSED:
                            await self._refresh_all(changed)
                        elif message.get("node") != self.node:
                            await self._refresh(str(message.get("number")), changed)
            except asyncio.CancelledError:
                raise
            except Exception:  # the bus or the database is away: try again shortly
                log.warning("following session changes failed; retrying", exc_info=True)
            await asyncio.sleep(RETRY_SECONDS)

    async def _refresh(self, number: str, changed: Changed) -> None:
        if number not in self.cache:
            return
        session = await self.read(number)
        if session is not None:
            await changed(session)

    async def _refresh_all(self, changed: Changed) -> None:
        for number in list(self.cache):
            await self._refresh(number, changed)
