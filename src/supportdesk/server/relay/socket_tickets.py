"""One-time tickets that let a signed-in agent's browser open a WebSocket.

Browsers cannot set headers on a WebSocket upgrade, and the SameSite=Strict login
cookie is not a proof of intent, so the console page asks for a ticket first: short
lived, single use, bound to the agent, the session and the socket's purpose, and
carrying the login it was minted for, so the socket can end with that login
(``server/agent_sockets.py``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

TICKET_LIFETIME = timedelta(seconds=60)


@dataclass(frozen=True)
class Ticket:
    agent_id: int
    number: str
    purpose: str
    expires_at: datetime
    login: str = ""  # the digest of the login session that asked for it


class SocketTickets:
    def __init__(self, lifetime: timedelta = TICKET_LIFETIME) -> None:
        self.lifetime = lifetime
        self._tickets: dict[str, Ticket] = {}

    def issue(
        self, agent_id: int, number: str, purpose: str, now: datetime, login: str = ""
    ) -> str:
        self._forget_expired(now)
        token = secrets.token_urlsafe(24)
        self._tickets[token] = Ticket(agent_id, number, purpose, now + self.lifetime, login)
        return token

    def take_ticket(self, token: str, number: str, purpose: str, now: datetime) -> Ticket | None:
        """The ticket if it is valid for this socket; spent either way."""
        ticket = self._tickets.pop(token, None)
        if ticket is None or ticket.expires_at <= now:
            return None
        if ticket.number != number or ticket.purpose != purpose:
            return None
        return ticket

    def take(self, token: str, number: str, purpose: str, now: datetime) -> int | None:
        """The agent id if the ticket is valid for this socket; spent either way."""
        ticket = self.take_ticket(token, number, purpose, now)
        return ticket.agent_id if ticket else None

    def _forget_expired(self, now: datetime) -> None:
        for token in [t for t, v in self._tickets.items() if v.expires_at <= now]:
            del self._tickets[token]
