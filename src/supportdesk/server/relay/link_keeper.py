"""Keeps a session's customer link: heartbeats, the grace after a drop, the resume secret.

The shell around ``domain/customer_link.py`` for one relay (docs/relay-protocol.md,
"Staying connected"): it notices a silent link, audits the loss and the return, runs
the grace period and ends the session when it runs out, and hands out resume secrets
(sent, never recorded). What a return means for viewers and consent stays with the
relay, which it reaches through :class:`KeptRelay`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from starlette.websockets import WebSocket

from supportdesk.domain.audit_chain import AuditRecord
from supportdesk.domain.consent import RenderedConsent
from supportdesk.domain.customer_link import CustomerLink, LinkPhase, LinkPolicy
from supportdesk.domain.session_actors import SYSTEM_ACTOR
from supportdesk.domain.session_events import EndReason
from supportdesk.domain.utc import iso_utc
from supportdesk.link.frames import encode_control

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0
SEEN_EVERY = 10
"""Heartbeats between two notes in the session's snapshot that the link is alive: a
node taking the session over counts the gap from the last note (at most this many
seconds too long, which errs towards asking for consent again)."""
HEARTBEAT = encode_control({"type": "heartbeat"})


class KeptRelay(Protocol):
    """What the keeper needs of its relay; ``SessionRelay`` is one."""

    number: str
    clock: Callable[[], datetime]

    async def send_applet_bytes(self, data: bytes) -> None: ...

    async def audit(self, *records: AuditRecord) -> None: ...

    def record_link(self, phase: str) -> None: ...

    async def end(self, reason: EndReason) -> None: ...

    async def publish(self) -> None: ...

    async def keep_link(self) -> None:
        """Store the link's facts in the session's snapshot (for another node)."""
        ...


class LinkKeeper:
    """The customer link of one session, across the sockets it comes and goes on."""

    def __init__(
        self, relay: KeptRelay, policy: LinkPolicy, silence: float, node: str = "local"
    ) -> None:
        self.relay = relay
        self.node = node  # named in the audit when this node takes a session over
        self.policy = policy
        self.silence = silence  # seconds without a word after which the link is dead
        self.link: CustomerLink | None = None  # from consent on
        self.failed = False  # the link broke the protocol: no resume
        self.gone = asyncio.Event()  # no socket is being served
        self.gone.set()
        self._last_heard = 0.0
        self._heartbeats = False  # a side that sends heartbeats is held to them
        self._grace: asyncio.Task[None] | None = None
        self._secret: str | None = None  # one per session: see send_secret

    # -- state -----------------------------------------------------------------------

    @property
    def crossing_allowed(self) -> bool:
        """False while the link is lost or consent is being asked again."""
        return self.link is None or self.link.crossing_allowed

    @property
    def renewing(self) -> bool:
        return self.link is not None and self.link.phase is LinkPhase.RENEWING

    def state(self) -> dict[str, Any]:
        """The console's view: ``customer_link`` and ``lost_since``."""
        link = self.link
        lost = link.lost_since if link else None
        return {
            "customer_link": link.phase.value if link else None,
            "lost_since": lost.isoformat() if lost else None,
        }

    def may_resume(self, secret: str) -> bool:
        return self.link is not None and self.link.may_resume(secret)

    # -- a socket's life ---------------------------------------------------------------

    def opened(self) -> None:
        """A socket now carries the link."""
        self.gone.clear()
        self.failed = False
        self._last_heard = time.monotonic()
        self._heartbeats = False

    def heard(self) -> None:
        """Anything arrived from the customer's side."""
        self._last_heard = time.monotonic()

    def heartbeat(self) -> None:
        self._heartbeats = True

    async def watch(self, socket: WebSocket) -> None:
        """Send a heartbeat a second (never recorded); close the socket (4408) once a
        side that sends heartbeats has been silent past the limit: a black hole that
        TCP has not noticed."""
        beats = 0
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            beats += 1
            if beats % SEEN_EVERY == 0 and self.link is not None:
                await self.relay.keep_link()
            silent = time.monotonic() - self._last_heard > self.silence
            if silent and self._heartbeats:
                log.info("customer link silent: closing it", extra={"session": self.relay.number})
                with contextlib.suppress(Exception):
                    await socket.close(code=4408, reason="no heartbeat")
                return
            await self.relay.send_applet_bytes(HEARTBEAT)

    # -- consent, loss, return -----------------------------------------------------------

    async def consented(self) -> None:
        """The customer said "Ja": from now on a dropped link is waited for."""
        self.link = CustomerLink(self.relay.number, self.policy)
        self._secret = self.link.new_secret()
        await self.relay.keep_link()
        await self.send_secret()

    async def adopt(self, link: CustomerLink) -> None:
        """Take up the link of a session another node served: lost, its grace counted
        from when it was last known alive; resumable with the customer's secret (which
        this node never learns: the customer's side keeps the one it has)."""
        self.link = link
        await self.relay.audit(
            AuditRecord(
                self.relay.clock(),
                "session.taken_over",
                SYSTEM_ACTOR,
                self.relay.number,
                {"node": self.node, "lost_since": iso_utc(link.lost_since or self.relay.clock())},
            )
        )
        self._grace = asyncio.create_task(self._wait_out_the_grace(link))

    async def dropped(self, live: bool) -> None:
        """The socket is gone. A live, consented session waits out the grace; before
        consent, or after a protocol error, it ends at once."""
        link = self.link
        if self.failed or link is None or not live:
            await self.relay.end(EndReason.ERROR if self.failed else EndReason.CONNECTION_LOST)
            return
        await self.relay.audit(*link.lost(self.relay.clock()))
        self.relay.record_link(link.phase.value)
        self._grace = asyncio.create_task(self._wait_out_the_grace(link))
        await self.relay.keep_link()
        await self.relay.publish()

    async def _wait_out_the_grace(self, link: CustomerLink) -> None:
        # The grace counts from when the link was lost, maybe on another node; a sleep
        # may wake a little before the wall clock agrees, so ask until it does.
        lost_since = link.lost_since or self.relay.clock()
        while not link.grace_over(self.relay.clock()):
            left = link.policy.grace - (self.relay.clock() - lost_since)
            await asyncio.sleep(max(0.05, left.total_seconds()))
            if link.phase is not LinkPhase.LOST:
                return
        if link.grace_over(self.relay.clock()):
            await self.relay.end(EndReason.CONNECTION_LOST)

    async def back(self) -> None:
        """A resumed link: audited with its gap, and a new secret. Whether consent is
        asked again is :attr:`renewing`."""
        link = self.link
        assert link is not None, "a resume needs a consented session"
        self.stop_grace()
        await self.relay.audit(*link.restored(self.relay.clock()))
        self.relay.record_link(link.phase.value)
        await self.relay.keep_link()
        await self.send_secret()

    async def renewed(self, shown: RenderedConsent) -> None:
        link = self.link
        assert link is not None
        await self.relay.audit(*link.renewed(self.relay.clock(), shown))
        self.relay.record_link(link.phase.value)
        await self.relay.keep_link()

    async def send_secret(self) -> None:
        """Send the session's resume secret (again after every resume). It stays the
        same for the session: a link the customer's side gave up on may still arrive
        after the one it kept (a proxy, a black hole), and the newest link must be able
        to take over from it with the secret it holds."""
        link, secret = self.link, self._secret
        if link is None or secret is None:
            return
        # Sent, never recorded: the secret would let whoever reads the recording in.
        message = {
            "type": "resume",
            "secret": secret,
            "grace_seconds": link.policy.grace.total_seconds(),
        }
        await self.relay.send_applet_bytes(encode_control(message))

    def stop_grace(self) -> None:
        if self._grace is not None:
            self._grace.cancel()
            self._grace = None
