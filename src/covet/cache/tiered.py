"""Two-level cache: a per-process ``MemoryCache`` (L1) in front of a ``RedisCache`` (L2).

Reads hit L1 first, then L2 (filling L1 for at most ``l1_ttl`` seconds and never past the
L2 expiry). Writes and invalidations go to L2, drop the local L1 entries, and are
published on a Redis pub/sub channel so every other process drops its stale L1 entries
too. Delivery is asynchronous (typically well under a millisecond on one host); a process
that loses its subscription clears its whole L1 and resubscribes. A read racing a write
in another process can still refill L1 with the old value just after the invalidation
arrived: ``l1_ttl`` bounds how long such an entry can live, so keep it short.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from covet import _json

from .base import MISSING, Cache, Factory, check_ttl
from .memory import MemoryCache
from .redis import RedisCache

__all__ = ("TieredCache",)

logger = logging.getLogger("covet.cache")


class TieredCache(Cache):
    """``TieredCache(RedisCache(url), l1=MemoryCache(max_entries=1000), l1_ttl=30)``."""

    def __init__(
        self,
        l2: RedisCache,
        l1: MemoryCache | None = None,
        *,
        l1_ttl: float = 60.0,
        channel: str | None = None,
    ) -> None:
        super().__init__()
        self.l2 = l2
        self.l1 = l1 if l1 is not None else MemoryCache(max_entries=1000)
        self.l1_ttl = check_ttl(l1_ttl)
        self.channel = channel or l2.prefix + "invalidate"
        self.default_ttl = l2.default_ttl
        self.origin = uuid.uuid4().hex
        self._listener: asyncio.Task[None] | None = None
        self._subscribed: asyncio.Event | None = None

    # -- invalidation channel ---------------------------------------------------------

    async def start(self) -> None:
        """Subscribe to the invalidation channel (done on first use; call to do it early)."""
        if self._listener is None or self._listener.done():
            self._subscribed = asyncio.Event()
            self._listener = asyncio.get_running_loop().create_task(self._listen())
        assert self._subscribed is not None
        await self._subscribed.wait()

    async def _listen(self) -> None:
        assert self._subscribed is not None
        while True:
            pubsub = self.l2.client.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                self._subscribed.set()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self._apply(message.get("data"))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("cache invalidation channel lost (%s); clearing L1", exc)
                await self.l1.clear()
                self._subscribed.set()  # do not block callers while Redis is away
                await asyncio.sleep(1.0)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    def _apply(self, data: Any) -> None:
        try:
            message = _json.loads(data)
        except ValueError:
            return
        if not isinstance(message, dict) or message.get("o") == self.origin:
            return
        if message.get("c"):
            self.l1.drop_all()
            return
        keys, tags = message.get("k", []), message.get("t", [])
        if not isinstance(keys, list) or not isinstance(tags, list):
            return
        self.l1.drop_local(
            [k for k in keys if isinstance(k, str)], [t for t in tags if isinstance(t, str)]
        )

    async def _publish(self, **payload: Any) -> None:
        await self.l2._call("publish", self.channel, _json.dumps({"o": self.origin, **payload}))

    async def _ready(self) -> None:
        if self._listener is None or self._listener.done():
            await self.start()

    # -- interface ----------------------------------------------------------------------

    async def get(self, key: str, default: Any = None) -> Any:
        await self._ready()
        value = await self.l1.get(key, MISSING)
        if value is not MISSING:
            return value
        value, left = await self.l2.get_with_ttl(key)
        if value is MISSING:
            return default
        await self._fill_l1(key, value, left)
        return value

    async def set(
        self, key: str, value: Any, ttl: float | None = None, tags: Iterable[str] = ()
    ) -> None:
        await self._ready()
        tags = tuple(tags)
        await self.l2.set(key, value, ttl, tags)
        ttl = ttl if ttl is not None else self.l2.default_ttl
        l1_ttl = min(ttl, self.l1_ttl or math.inf) if ttl is not None else self.l1_ttl
        await self.l1.set(key, value, l1_ttl, tags)
        await self._publish(k=[key])

    async def delete(self, key: str) -> bool:
        await self._ready()
        self.l1.drop_local([key])
        existed = await self.l2.delete(key)
        await self._publish(k=[key])
        return existed

    async def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        await self._ready()
        keys = list(keys)
        found = await self.l1.get_many(keys)
        rest = [k for k in keys if k not in found]
        if rest:
            for key, (value, left) in (await self.l2.get_many_with_ttl(rest)).items():
                await self._fill_l1(key, value, left)
                found[key] = value
        return found

    async def _fill_l1(self, key: str, value: Any, left: float | None) -> None:
        """Copy an L2 value into L1 for at most ``l1_ttl`` and never past its L2 expiry."""
        l1_ttl = self.l1_ttl if left is None else min(left, self.l1_ttl or math.inf)
        if l1_ttl:
            await self.l1.set(key, value, l1_ttl)

    async def set_many(
        self, mapping: Mapping[str, Any], ttl: float | None = None, tags: Iterable[str] = ()
    ) -> None:
        await self._ready()
        tags = tuple(tags)
        await self.l2.set_many(mapping, ttl, tags)
        self.l1.drop_local(mapping.keys())
        await self._publish(k=list(mapping))

    async def clear(self) -> None:
        await self._ready()
        await self.l1.clear()
        await self.l2.clear()
        await self._publish(c=1)

    async def incr(self, key: str, delta: int = 1, ttl: float | None = None) -> int:
        await self._ready()
        value = await self.l2.incr(key, delta, ttl)
        self.l1.drop_local([key])
        await self._publish(k=[key])
        return value

    async def ttl(self, key: str) -> float | None:
        return await self.l2.ttl(key)

    async def delete_by_tag(self, *tags: str) -> int:
        await self._ready()
        self.l1.drop_local((), tags)
        removed = await self.l2.delete_tagged_keys(*tags)
        self.l1.drop_local(removed)
        await self._publish(k=removed, t=list(tags))
        return len(removed)

    async def _compute(
        self, key: str, factory: Factory, ttl: float | None, tags: tuple[str, ...]
    ) -> Any:
        """Single flight across processes through the L2 lock, then fill L1."""
        value = await self.l2.get_or_set(key, factory, ttl, tags)
        ttl = ttl if ttl is not None else self.l2.default_ttl
        await self.l1.set(
            key, value, min(ttl, self.l1_ttl or math.inf) if ttl else self.l1_ttl, tags
        )
        return value

    async def close(self) -> None:
        """Stop listening for invalidations and close the L2 client."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        await self.l2.close()
