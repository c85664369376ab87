"""Redis rate-limit backend: one atomic Lua script per algorithm.

The scripts mirror ``covet.ratelimit.algorithms`` exactly, so a limit holds across every
process sharing the Redis server. Scripts run with ``EVALSHA``; on ``NOSCRIPT`` (script
cache flushed, fresh server, failover) the backend falls back to ``EVAL``, which also
re-caches them. Time comes from the calling process's clock (``clock``, default
``time.time``): processes sharing a limit need NTP-synchronised clocks.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from covet._redis import redis_client

from .algorithms import RateLimitResult, validate_algorithm
from .backends import RateLimitBackend, RateLimitBackendError
from .rate import Rate

__all__ = ("RedisBackend",)

_PRELUDE = """
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local function fmt(x) return string.format('%.17g', x) end
local function keep(ttl) redis.call('PEXPIRE', KEYS[1], math.ceil(ttl * 1000) + 1) end
"""

_FIXED_WINDOW = (
    _PRELUDE
    + """
local idx = math.floor(now / period)
local s = redis.call('HMGET', KEYS[1], 'w', 'c')
local count = 0
if tonumber(s[1]) == idx then count = tonumber(s[2]) or 0 end
local reset = (idx + 1) * period - now
if count + cost > limit then
  return {0, limit - count, fmt(reset), fmt(reset)}
end
count = count + cost
redis.call('HSET', KEYS[1], 'w', fmt(idx), 'c', fmt(count))
keep(reset)
return {1, limit - count, fmt(reset), '0'}
"""
)

_SLIDING_WINDOW = (
    _PRELUDE
    + """
local idx = math.floor(now / period)
local s = redis.call('HMGET', KEYS[1], 'w', 'p', 'c')
local w = tonumber(s[1])
local prev, curr = 0, 0
if w == idx then
  prev = tonumber(s[2]) or 0
  curr = tonumber(s[3]) or 0
elseif w == idx - 1 then
  prev = tonumber(s[3]) or 0
end
local elapsed = now - idx * period
local weighted = prev * (1 - elapsed / period) + curr
local window_left = period - elapsed
if weighted + cost > limit then
  local retry
  if curr + cost <= limit then
    retry = period * (1 - (limit - curr - cost) / prev) - elapsed
  elseif curr > 0 then
    retry = window_left + math.max(0, period * (1 - (limit - cost) / curr))
  else
    retry = window_left + period
  end
  retry = math.max(retry, 0.001)
  return {0, math.max(0, math.floor(limit - weighted)), fmt(math.max(window_left, retry)), fmt(retry)}
end
curr = curr + cost
redis.call('HSET', KEYS[1], 'w', fmt(idx), 'p', fmt(prev), 'c', fmt(curr))
keep(window_left + period)
return {1, math.max(0, math.floor(limit - weighted - cost)), fmt(window_left), '0'}
"""
)

_TOKEN_BUCKET = (
    _PRELUDE
    + """
local per_second = limit / period
local s = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = limit
if s[1] then
  tokens = math.min(limit, tonumber(s[1]) + math.max(0, now - tonumber(s[2])) * per_second)
end
if tokens < cost then
  return {0, math.floor(tokens), fmt((limit - tokens) / per_second), fmt((cost - tokens) / per_second)}
end
tokens = tokens - cost
local reset = (limit - tokens) / per_second
redis.call('HSET', KEYS[1], 't', fmt(tokens), 'ts', fmt(now))
keep(reset)
return {1, math.floor(tokens), fmt(reset), '0'}
"""
)

SCRIPTS: dict[str, str] = {
    "fixed_window": _FIXED_WINDOW,
    "sliding_window": _SLIDING_WINDOW,
    "token_bucket": _TOKEN_BUCKET,
}
_SHAS = {name: hashlib.sha1(src.encode()).hexdigest() for name, src in SCRIPTS.items()}


class RedisBackend(RateLimitBackend):
    """Shared rate-limit state in Redis (``redis.asyncio``, extra ``covetpy[redis]``).

    Pass ``url`` (a client is created on first use) or an existing ``client``. Keys are
    ``{prefix}{algorithm}:{key}`` hashes that expire with their window. Any Redis error
    is raised as ``RateLimitBackendError``.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Any = None,
        prefix: str = "covet:ratelimit:",
        clock: Callable[[], float] = time.time,
        socket_timeout: float = 1.0,
    ) -> None:
        if url is None and client is None:
            url = "redis://127.0.0.1:6379/0"
        self.url = url
        self.prefix = prefix
        self.clock = clock
        self.socket_timeout = socket_timeout
        self._client = client
        self._owns_client = client is None

    @property
    def client(self) -> Any:
        """The ``redis.asyncio.Redis`` client, created on first access."""
        if self._client is None:
            self._client = redis_client(self.url or "redis://127.0.0.1:6379/0", socket_timeout=self.socket_timeout)
        return self._client

    async def _run(self, algorithm: str, keys: list[str], args: list[Any]) -> Any:
        from redis.exceptions import NoScriptError, RedisError

        client = self.client
        try:
            try:
                return await client.evalsha(_SHAS[algorithm], len(keys), *keys, *args)
            except NoScriptError:
                return await client.eval(SCRIPTS[algorithm], len(keys), *keys, *args)
        except RedisError as exc:
            raise RateLimitBackendError(f"rate-limit backend unavailable: {exc}") from exc
        except OSError as exc:
            raise RateLimitBackendError(f"rate-limit backend unavailable: {exc}") from exc

    async def hit(
        self, key: str, rate: Rate, algorithm: str = "fixed_window", cost: int = 1
    ) -> RateLimitResult:
        validate_algorithm(algorithm)
        now = self.clock()
        args = [repr(now), rate.limit, repr(float(rate.period)), cost]
        allowed, remaining, reset, retry = await self._run(
            algorithm, [f"{self.prefix}{algorithm}:{key}"], args
        )
        return RateLimitResult(
            bool(allowed), rate.limit, int(remaining), float(reset), float(retry)
        )

    async def reset(self, key: str) -> None:
        from redis.exceptions import RedisError

        try:
            await self.client.delete(*(f"{self.prefix}{name}:{key}" for name in SCRIPTS))
        except (RedisError, OSError) as exc:
            raise RateLimitBackendError(f"rate-limit backend unavailable: {exc}") from exc

    async def close(self) -> None:
        """Close the client if this backend created it."""
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None
