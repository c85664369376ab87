"""Redis cache backend (``redis.asyncio``, extra ``covetpy[redis]``).

Layout under ``prefix``: ``v:{key}`` values, ``t:{tag}`` sets of tagged keys, ``l:{key}``
single-flight locks. Values are encoded with a one-byte type tag so that every backend
answers the same types: integers are stored as plain digits (so ``INCRBY`` works),
``bytes`` raw after ``b``, everything else as JSON after ``j`` (``covet._json``), or — only
with ``serializer="pickle"`` — as a pickle after ``p``. Pickle runs code while loading:
enable it only when every writer of this Redis namespace is trusted. Without it, pickled
entries are never unpickled (they read as misses).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import pickle
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Literal

from covet import _json
from covet._redis import redis_client

from .base import MISSING, Cache, CacheBackendError, Factory, call_factory, check_key, check_ttl

__all__ = ("RedisCache",)

logger = logging.getLogger("covet.cache")

_SET_TAGGED = """
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[1])
end
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  local left = redis.call('PTTL', KEYS[i])
  if ttl <= 0 then
    redis.call('PERSIST', KEYS[i])
  elseif left ~= -1 and left < ttl then
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
end
return 1
"""

_DELETE_TAGS = """
local removed = {}
for i = 1, #KEYS do
  local members = redis.call('SMEMBERS', KEYS[i])
  for j = 1, #members, 500 do
    local chunk = {unpack(members, j, math.min(j + 499, #members))}
    redis.call('DEL', unpack(chunk))
    for _, name in ipairs(chunk) do removed[#removed + 1] = name end
  end
  redis.call('DEL', KEYS[i])
end
return removed
"""

_INCR = """
local existed = redis.call('EXISTS', KEYS[1])
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
if existed == 0 and tonumber(ARGV[2]) > 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return value
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_INT_START = frozenset(b"-0123456789")


class RedisCache(Cache):
    """A cache shared by every process using the same Redis ``prefix``.

    ``lock_ttl`` bounds the cross-process single-flight lock of ``get_or_set``: a process
    that misses while another computes the same key polls for the value (every
    ``lock_poll`` seconds) instead of computing it again.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Any = None,
        prefix: str = "covet:cache:",
        serializer: Literal["json", "pickle"] = "json",
        default_ttl: float | None = None,
        lock_ttl: float = 10.0,
        lock_poll: float = 0.02,
        socket_timeout: float = 2.0,
    ) -> None:
        super().__init__()
        if serializer not in ("json", "pickle"):
            raise ValueError("serializer must be 'json' or 'pickle'")
        self.url = url or ("redis://127.0.0.1:6379/0" if client is None else None)
        self.prefix = prefix
        self.serializer = serializer
        self.default_ttl = check_ttl(default_ttl)
        self.lock_ttl = lock_ttl
        self.lock_poll = lock_poll
        self.socket_timeout = socket_timeout
        self._client = client
        self._owns_client = client is None
        self._shas: dict[str, str] = {}

    @property
    def client(self) -> Any:
        """The ``redis.asyncio.Redis`` client, created on first access."""
        if self._client is None:
            self._client = redis_client(self.url or "redis://127.0.0.1:6379/0", socket_timeout=self.socket_timeout)
        return self._client

    # -- encoding -----------------------------------------------------------------

    def encode(self, value: Any) -> bytes:
        """Encode ``value`` with its type tag (see the module docstring)."""
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value).encode()
        if isinstance(value, (bytes, bytearray, memoryview)):
            return b"b" + bytes(value)
        if self.serializer == "pickle":
            return b"p" + pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        return b"j" + _json.dumps(value)

    def decode(self, raw: bytes | None, default: Any = None) -> Any:
        """Decode a stored value; unreadable or untrusted entries read as ``default``."""
        if raw is None or raw == b"":
            return default
        head = raw[0]
        if head in _INT_START:
            try:
                return int(raw)
            except ValueError:
                return default
        tag, body = raw[:1], raw[1:]
        try:
            if tag == b"j":
                return _json.loads(body)
            if tag == b"b":
                return body
            if tag == b"p" and self.serializer == "pickle":
                return pickle.loads(body)  # opt-in only: documented as trusted-data-only
        except Exception:
            logger.warning("cache entry could not be decoded; treating it as a miss")
            return default
        return default

    # -- plumbing -----------------------------------------------------------------

    def _k(self, key: str) -> str:
        return self.prefix + "v:" + check_key(key)

    def _t(self, tag: str) -> str:
        return self.prefix + "t:" + tag

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        with _translate_errors():
            return await getattr(self.client, method)(*args, **kwargs)

    async def _script(self, name: str, source: str, keys: list[str], args: list[Any]) -> Any:
        from redis.exceptions import NoScriptError

        sha = self._shas.get(name)
        if sha is not None:
            try:
                return await self._call("evalsha", sha, len(keys), *keys, *args)
            except CacheBackendError as exc:
                if not isinstance(exc.__cause__, NoScriptError):
                    raise
        self._shas[name] = await self._call("script_load", source)
        return await self._call("evalsha", self._shas[name], len(keys), *keys, *args)

    def _ttl_ms(self, ttl: float | None) -> int:
        ttl = check_ttl(ttl) if ttl is not None else self.default_ttl
        return max(1, math.ceil(ttl * 1000)) if ttl is not None else 0

    # -- interface ----------------------------------------------------------------

    async def get(self, key: str, default: Any = None) -> Any:
        return self.decode(await self._call("get", self._k(key)), default)

    async def get_with_ttl(self, key: str) -> tuple[Any, float | None]:
        """``(value or MISSING, seconds left or None for no expiry)`` in one round trip."""
        with _translate_errors():
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.get(self._k(key)).pttl(self._k(key))
                raw, pttl = await pipe.execute()
        value = self.decode(raw, MISSING)
        return value, (pttl / 1000 if pttl is not None and pttl >= 0 else None)

    async def get_many_with_ttl(self, keys: list[str]) -> dict[str, tuple[Any, float | None]]:
        """``{key: (value, seconds left or None)}`` for the stored ``keys``, one round trip."""
        if not keys:
            return {}
        with _translate_errors():
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.mget([self._k(k) for k in keys])
                for key in keys:
                    pipe.pttl(self._k(key))
                raws, *pttls = await pipe.execute()
        out = {}
        for key, raw, pttl in zip(keys, raws, pttls, strict=True):
            value = self.decode(raw, MISSING)
            if value is not MISSING:
                out[key] = (value, pttl / 1000 if pttl is not None and pttl >= 0 else None)
        return out

    async def set(
        self, key: str, value: Any, ttl: float | None = None, tags: Iterable[str] = ()
    ) -> None:
        ttl_ms = self._ttl_ms(ttl)
        tags = tuple(tags)
        if tags:
            keys = [self._k(key), *(self._t(t) for t in tags)]
            await self._script("set_tagged", _SET_TAGGED, keys, [self.encode(value), ttl_ms])
        elif ttl_ms:
            await self._call("set", self._k(key), self.encode(value), px=ttl_ms)
        else:
            await self._call("set", self._k(key), self.encode(value))

    async def delete(self, key: str) -> bool:
        return bool(await self._call("delete", self._k(key)))

    async def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        keys = list(keys)
        if not keys:
            return {}
        raws = await self._call("mget", [self._k(k) for k in keys])
        out = {}
        for key, raw in zip(keys, raws, strict=True):
            value = self.decode(raw, MISSING)
            if value is not MISSING:
                out[key] = value
        return out

    async def set_many(
        self, mapping: Mapping[str, Any], ttl: float | None = None, tags: Iterable[str] = ()
    ) -> None:
        tags = tuple(tags)
        if tags:
            for key, value in mapping.items():
                await self.set(key, value, ttl, tags)
            return
        ttl_ms = self._ttl_ms(ttl)
        with _translate_errors():
            async with self.client.pipeline(transaction=True) as pipe:
                for key, value in mapping.items():
                    pipe.set(self._k(key), self.encode(value), px=ttl_ms or None)
                await pipe.execute()

    async def clear(self) -> None:
        pattern = _glob_escape(self.prefix) + "*"
        batch: list[bytes] = []
        with _translate_errors():
            async for name in self.client.scan_iter(match=pattern, count=1000):
                batch.append(name)
                if len(batch) >= 500:
                    await self.client.unlink(*batch)
                    batch.clear()
            if batch:
                await self.client.unlink(*batch)

    async def incr(self, key: str, delta: int = 1, ttl: float | None = None) -> int:
        return int(await self._script("incr", _INCR, [self._k(key)], [delta, self._ttl_ms(ttl)]))

    async def ttl(self, key: str) -> float | None:
        pttl = await self._call("pttl", self._k(key))
        if pttl == -2:
            return None
        return math.inf if pttl == -1 else pttl / 1000

    async def delete_by_tag(self, *tags: str) -> int:
        return len(await self.delete_tagged_keys(*tags))

    async def delete_tagged_keys(self, *tags: str) -> list[str]:
        """Delete every key tagged with any of ``tags``; returns those keys (without prefix).

        Tag sets are not pruned when a key expires or is overwritten without the tag, so
        a tag may also remove a key that was re-set without it: invalidation errs on the
        safe side.
        """
        if not tags:
            return []
        names = await self._script("delete_tags", _DELETE_TAGS, [self._t(t) for t in tags], [])
        strip = len(self.prefix) + 2
        return sorted({n.decode("utf-8", "replace")[strip:] for n in names})

    async def close(self) -> None:
        """Close the client if this cache created it."""
        if self._client is not None and self._owns_client:
            await self._client.aclose()
            self._client = None

    async def _compute(
        self, key: str, factory: Factory, ttl: float | None, tags: tuple[str, ...]
    ) -> Any:
        """Cross-process single flight: one process holds ``l:{key}`` while computing."""
        lock = self.prefix + "l:" + key
        token = uuid.uuid4().hex
        deadline = time.monotonic() + self.lock_ttl + 1.0
        while True:
            if await self._call("set", lock, token, nx=True, px=math.ceil(self.lock_ttl * 1000)):
                try:
                    value = await self.get(key, MISSING)
                    if value is MISSING:
                        value = await call_factory(factory)
                        await self.set(key, value, ttl, tags)
                    return value
                finally:
                    await self._script("release", _RELEASE, [lock], [token])
            value = await self.get(key, MISSING)
            if value is not MISSING:
                return value
            if time.monotonic() > deadline:  # the holder is stuck: compute ourselves
                value = await call_factory(factory)
                await self.set(key, value, ttl, tags)
                return value
            await asyncio.sleep(self.lock_poll)


@contextlib.contextmanager
def _translate_errors() -> Iterator[None]:
    """Redis and socket errors become ``CacheBackendError`` (``ValueError`` for non-integers)."""
    from redis.exceptions import RedisError, ResponseError

    try:
        yield
    except ResponseError as exc:
        if "not an integer" in str(exc):
            raise ValueError("the stored value is not an integer") from exc
        raise CacheBackendError(f"cache backend failed: {exc}") from exc
    except (RedisError, OSError) as exc:
        raise CacheBackendError(f"cache backend failed: {exc}") from exc


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)
