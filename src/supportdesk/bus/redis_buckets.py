"""Cluster-wide token buckets in Redis: one Lua script per take, on Redis's clock.

The script is the arithmetic of ``token_bucket.TokenBucket`` run inside Redis, so a
take is atomic however many nodes and tasks call at once, and time comes from Redis
``TIME``, never from a node's clock (a node whose clock runs fast gains nothing).
A bucket left alone until it is full expires; a missing bucket is a full one. When
Redis cannot answer, a take is refused (fail closed) and the outage logged.
"""

from __future__ import annotations

from typing import Final

from redis.asyncio import Redis

from supportdesk.bus.interfaces import check_limits, check_name
from supportdesk.bus.redis_link import UNREACHABLE, KeySpace, Outage

# KEYS[1]: the bucket (a hash: tokens, updated). ARGV: rate (tokens/s), burst.
# Returns 1 when a token was spent, 0 when the bucket is empty.
TAKE_SCRIPT: Final = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil or updated == nil then
  tokens = burst
  updated = now
elseif now > updated then
  tokens = math.min(burst, tokens + (now - updated) * rate)
  updated = now
end
local granted = 0
if tokens >= 1 then
  tokens = tokens - 1
  granted = 1
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens),
           'updated', string.format('%.17g', updated))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / rate * 1000) + 1000)
return granted
"""


class RedisBuckets:
    def __init__(self, client: Redis, keys: KeySpace) -> None:
        self._keys = keys
        self._take = client.register_script(TAKE_SCRIPT)
        self.outage = Outage(
            "the cluster-wide budgets", "every take is refused until Redis is back", "buckets"
        )

    async def take(self, name: str, rate: float, burst: int) -> bool:
        check_name("bucket", name)
        check_limits(rate, burst)
        try:
            granted = await self._take(keys=[self._keys.key("bucket", name)], args=[rate, burst])
        except UNREACHABLE as error:
            self.outage.failed(error)
            return False
        self.outage.succeeded()
        return bool(granted)
