"""One-time tickets that let a signed-in agent's browser open a WebSocket.

Browsers cannot set headers on a WebSocket upgrade, and the SameSite=Strict login
cookie is not a proof of intent, so the console page asks for a ticket first: short
lived, single use, bound to the agent, the session and the socket's purpose, and
carrying the login it was minted for, so the socket can end with that login
(``server/agents/sockets.py``). The tickets live on the bus, so a ticket minted by one
node of a cluster opens the socket on whichever node serves the session.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from supportdesk.bus import Tickets
from supportdesk.domain.utc import iso_utc, parse_utc

log = logging.getLogger(__name__)

TICKET_LIFETIME = timedelta(seconds=60)


@dataclass(frozen=True)
class Ticket:
    agent_id: int
    number: str
    purpose: str
    expires_at: datetime
    login: str = ""  # the digest of the login session that asked for it


class SocketTickets:
    def __init__(self, store: Tickets, lifetime: timedelta = TICKET_LIFETIME) -> None:
        self.store = store
        self.lifetime = lifetime

    async def issue(
        self, agent_id: int, number: str, purpose: str, now: datetime, login: str = ""
    ) -> str:
        """A fresh ticket (BusUnavailable if the cluster's Redis is away)."""
        ticket = Ticket(agent_id, number, purpose, now + self.lifetime, login)
        value = {**asdict(ticket), "expires_at": iso_utc(ticket.expires_at)}
        return await self.store.issue(json.dumps(value), self.lifetime.total_seconds())

    async def take_ticket(
        self, token: str, number: str, purpose: str, now: datetime
    ) -> Ticket | None:
        """The ticket if it is valid for this socket; spent either way."""
        value = await self.store.take(token) if token else None
        if value is None:
            return None
        try:
            data = json.loads(value)
            ticket = Ticket(
                int(data["agent_id"]),
                str(data["number"]),
                str(data["purpose"]),
                parse_utc(data["expires_at"]),
                str(data.get("login", "")),
            )
        except (KeyError, TypeError, ValueError):
            log.warning("unreadable socket ticket refused")
            return None
        if ticket.expires_at <= now or ticket.number != number or ticket.purpose != purpose:
            return None
        return ticket
