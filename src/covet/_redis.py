"""One way to open a ``redis.asyncio`` client (the ``covetpy[redis]`` extra, imported lazily).

Used by the Redis backends of the cache, rate limiter, sessions and WebSocket channels.
"""

from __future__ import annotations

from typing import Any

from covet.exceptions import MissingDependency

__all__ = ("redis_client",)


def redis_client(url: str, *, socket_timeout: float | None = None) -> Any:
    """A ``redis.asyncio.Redis`` client for ``url`` (connections open on first command).

    ``socket_timeout`` (seconds) bounds both connecting and every reply; ``None`` keeps
    redis-py's default (no timeout, or what the URL's query string says). Raises
    ``MissingDependency("redis", "redis")`` when redis-py is not installed.
    """
    try:
        import redis.asyncio as aioredis
    except ImportError as exc:
        raise MissingDependency("redis", "redis") from exc
    if socket_timeout is None:
        return aioredis.Redis.from_url(url)
    return aioredis.Redis.from_url(url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout)
