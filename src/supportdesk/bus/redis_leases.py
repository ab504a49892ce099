"""Leases with fencing tokens in Redis: a key with a TTL, and a counter that only grows.

A lease is the string ``"<token> <holder>"`` under the lease key, set with a TTL in
milliseconds; renew and release compare the whole string in a script, so a stale
holder (expired, taken over, or a previous grant to the same holder name) can
neither extend nor delete the current lease.

The fencing counter has no TTL, so a new grant after expiry gets a larger token.
Should the counter itself be lost (a Redis without persistence restarted), it is
re-created from Redis ``TIME`` in microseconds: larger than any token handed out
before, as long as a key was leased fewer times than microseconds have passed since
its counter was first made and Redis's clock has not gone back.
"""

from __future__ import annotations

import math
from typing import Final

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from supportdesk.bus.interfaces import BusUnavailable, Lease, check_name, check_ttl
from supportdesk.bus.redis_link import UNREACHABLE, KeySpace, Outage

# KEYS: lease, fence. ARGV: holder, ttl in ms. Returns the token, or nil if held.
ACQUIRE_SCRIPT: Final = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return false
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  local clock = redis.call('TIME')
  redis.call('SET', KEYS[2], clock[1] .. string.format('%06d', tonumber(clock[2])))
end
local token = redis.call('INCR', KEYS[2])
-- %d: the token is ~1.7e15, past what Lua's default number format writes exactly.
redis.call('SET', KEYS[1], string.format('%d', token) .. ' ' .. ARGV[1], 'PX', ARGV[2])
return token
"""

# KEYS: lease. ARGV: "<token> <holder>", ttl in ms. Returns 1 if renewed.
RENEW_SCRIPT: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

# KEYS: lease. ARGV: "<token> <holder>". Returns 1 if released.
RELEASE_SCRIPT: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


def milliseconds(ttl: float) -> int:
    return max(1, math.ceil(check_ttl(ttl) * 1000))


class RedisLeases:
    def __init__(self, client: Redis, keys: KeySpace) -> None:
        self._client = client
        self._keys = keys
        self._acquire = client.register_script(ACQUIRE_SCRIPT)
        self._renew = client.register_script(RENEW_SCRIPT)
        self._release = client.register_script(RELEASE_SCRIPT)
        self.outage = Outage(
            "leases", "no lease is granted and held leases count as lost", "leases"
        )

    def _lease_key(self, key: str) -> str:
        return self._keys.key("lease", check_name("lease key", key))

    async def acquire(self, key: str, holder: str, ttl: float) -> Lease | None:
        lease_key = self._lease_key(key)
        ttl_ms = milliseconds(ttl)
        try:
            token = await self._acquire(
                keys=[lease_key, self._keys.key("fence", key)], args=[holder, ttl_ms]
            )
        except UNREACHABLE as error:
            self.outage.failed(error)
            return None
        self.outage.succeeded()
        return None if token is None else Lease(key, holder, int(token), ttl)

    async def renew(self, lease: Lease) -> bool:
        return await self._run(self._renew, lease, [milliseconds(lease.ttl)])

    async def release(self, lease: Lease) -> bool:
        return await self._run(self._release, lease, [])

    async def _run(self, script: AsyncScript, lease: Lease, extra: list[int]) -> bool:
        try:
            done = await script(
                keys=[self._lease_key(lease.key)], args=[f"{lease.token} {lease.holder}", *extra]
            )
        except UNREACHABLE as error:
            self.outage.failed(error)
            return False
        self.outage.succeeded()
        return bool(done)

    async def holder(self, key: str) -> Lease | None:
        lease_key = self._lease_key(key)
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.get(lease_key)
                pipe.pttl(lease_key)
                value, left_ms = await pipe.execute()
        except UNREACHABLE as error:
            self.outage.failed(error)
            raise BusUnavailable(f"cannot tell who holds {key!r}: {error}") from error
        self.outage.succeeded()
        if value is None or left_ms < 0:
            return None
        token, _, holder = str(value).partition(" ")
        return Lease(key, holder, int(token), left_ms / 1000)
