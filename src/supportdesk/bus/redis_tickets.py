"""One-time tickets in Redis: SET with a TTL to issue, GETDEL to take.

GETDEL reads and deletes in one command, so of any number of concurrent takes on
any nodes exactly one gets the value. Needs Redis 6.2 or later.
"""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

from supportdesk.bus.interfaces import TICKET_PATTERN, BusUnavailable
from supportdesk.bus.redis_leases import milliseconds
from supportdesk.bus.redis_link import UNREACHABLE, KeySpace, Outage


class RedisTickets:
    def __init__(self, client: Redis, keys: KeySpace) -> None:
        self._client = client
        self._keys = keys
        self.outage = Outage("one-time tickets", "no ticket is issued or honoured", "tickets")

    async def issue(self, value: str, ttl: float) -> str:
        ttl_ms = milliseconds(ttl)
        while True:
            ticket = secrets.token_urlsafe(24)
            try:
                # NX: a (192-bit, so never seen) collision would draw again, not overwrite.
                stored = await self._client.set(
                    self._keys.key("ticket", ticket), value, px=ttl_ms, nx=True
                )
            except UNREACHABLE as error:
                self.outage.failed(error)
                raise BusUnavailable(f"cannot issue a ticket: {error}") from error
            self.outage.succeeded()
            if stored:
                return ticket

    async def take(self, ticket: str) -> str | None:
        if not TICKET_PATTERN.match(ticket):
            return None
        try:
            value = await self._client.getdel(self._keys.key("ticket", ticket))
        except UNREACHABLE as error:
            self.outage.failed(error)
            return None
        self.outage.succeeded()
        return None if value is None else str(value)
