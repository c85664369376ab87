"""Server-side sessions in Redis (``redis.asyncio``), shared by every worker and host."""

from __future__ import annotations

import asyncio
from typing import Any

from covet import _json
from covet._redis import redis_client
from covet.exceptions import ImproperlyConfigured

from .stores import decode_session

__all__ = ("RedisStore",)


class RedisStore:
    """Sessions as JSON strings under ``prefix + session_id``, expiring with their TTL.

    Give either ``url`` (a client is created on first use, in the running event loop)
    or an existing ``redis.asyncio.Redis`` ``client``. ``redis`` is imported lazily; it
    is the ``covetpy[redis]`` extra. ``close()`` closes a client this store created.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Any = None,
        prefix: str = "covet:session:",
    ) -> None:
        if (url is None) == (client is None):
            raise ImproperlyConfigured("RedisStore needs exactly one of url= or client=")
        if url is not None and not url.startswith(("redis://", "rediss://", "unix://")):
            raise ImproperlyConfigured(f"RedisStore url must start with redis://, rediss:// or unix://, got {url!r}")
        self.url = url
        self.prefix = prefix
        self._client = client
        self._owns_client = client is None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _redis(self) -> Any:
        if self._owns_client:
            # redis.asyncio connections belong to the loop that opened them: a store used
            # from another loop (a second TestClient, a worker thread) gets its own client.
            loop = asyncio.get_running_loop()
            if self._client is None or self._loop is not loop:
                assert self.url is not None  # __init__ requires url= or client=
                self._client = redis_client(self.url)
                self._loop = loop
        return self._client

    async def load(self, session_id: str) -> dict[str, Any] | None:
        return decode_session(await self._redis().get(self.prefix + session_id))

    async def save(self, session_id: str, data: dict[str, Any], ttl: int) -> None:
        await self._redis().set(self.prefix + session_id, _json.dumps(data), ex=max(1, ttl))

    async def update(self, session_id: str, data: dict[str, Any], ttl: int) -> bool:
        """Replace an entry that still exists (``SET ... XX``); ``False`` when it is gone."""
        done = await self._redis().set(self.prefix + session_id, _json.dumps(data), ex=max(1, ttl), xx=True)
        return bool(done)

    async def delete(self, session_id: str) -> None:
        await self._redis().delete(self.prefix + session_id)

    async def close(self) -> None:
        """Close the client created from ``url`` (a passed-in client stays open)."""
        if self._client is not None and self._owns_client:
            client, self._client = self._client, None
            if self._loop is asyncio.get_running_loop():
                await client.aclose()
