"""Caching: one async interface over memory, Redis and two-level backends.

    cache = RedisCache("redis://localhost:6379/0", prefix="shop:")
    await cache.set("user:1", {"name": "Ada"}, ttl=60, tags=["users"])

    @cached(ttl=30, key="user:{user_id}", tags=["users"], cache=cache)
    async def load_user(user_id: int) -> dict: ...

    app.add_middleware(CacheMiddleware, cache=cache, ttl=60)

See ``docs/cache.md``.
"""

from __future__ import annotations

from .base import MISSING, Cache, CacheBackendError
from .decorators import cached, get_default_cache, set_default_cache
from .memory import MemoryCache
from .middleware import CacheMiddleware, parse_cache_control
from .redis import RedisCache
from .tiered import TieredCache

__all__ = (
    "MISSING",
    "Cache",
    "CacheBackendError",
    "CacheMiddleware",
    "MemoryCache",
    "RedisCache",
    "TieredCache",
    "cached",
    "get_default_cache",
    "parse_cache_control",
    "set_default_cache",
)
