"""``RedisChannels``: WebSocket rooms across processes through Redis pub/sub (``covet[redis]``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from covet import _json
from covet._redis import redis_client
from covet.websockets.channels import Channels, _check_room

__all__ = ("RedisChannels",)

logger = logging.getLogger("covet.channels")


class RedisChannels(Channels):
    """Each process subscribes to the Redis channels of the rooms it has members in and
    fans messages out locally; ``publish`` sends through Redis, so every process
    (including this one) delivers it exactly once.

    ``prefix`` namespaces the Redis channel names (``prefix + room``).
    """

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", *, prefix: str = "covet:ws:",
                 max_queue: int = 1000) -> None:
        super().__init__(max_queue=max_queue)
        self.url = url
        self.prefix = prefix
        self._client: Any = None
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        if self._client is not None:
            return
        self._client = redis_client(self.url)
        await self._client.ping()
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
            self._reader = None
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
            self._pubsub = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _ensure_started(self) -> None:
        if self._client is None:
            await self.start()

    async def publish(self, room: str, message: Any) -> None:
        _check_room(room)
        await self._ensure_started()
        await self._client.publish(self.prefix + room, _json.dumps(message))

    async def _on_first_subscriber(self, room: str) -> None:
        await self._ensure_started()
        async with self._lock:
            await self._pubsub.subscribe(self.prefix + room)
            if self._reader is None or self._reader.done():
                self._reader = asyncio.ensure_future(self._read())

    async def _on_last_unsubscriber(self, room: str) -> None:
        if self._pubsub is None:
            return
        async with self._lock:
            with contextlib.suppress(Exception):
                await self._pubsub.unsubscribe(self.prefix + room)

    async def _read(self) -> None:
        skip = len(self.prefix)
        while self._pubsub is not None:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("reading from Redis pub/sub failed; retrying")
                await asyncio.sleep(0.5)
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"]
            room = (channel.decode() if isinstance(channel, bytes) else channel)[skip:]
            try:
                payload = _json.loads(message["data"])
            except ValueError:
                logger.warning("dropping a malformed message on room %r", room)
                continue
            self._fan_out(room, payload)
