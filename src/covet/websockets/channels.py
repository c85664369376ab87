"""Rooms and broadcast for WebSockets: publish to a room, every subscriber receives it.

``MemoryChannels`` fans out within one process; ``RedisChannels``
(``covet.websockets.redis_channels``) carries messages across processes through Redis
pub/sub and fans out locally the same way. The app exposes one as ``app.channels``:

    @app.websocket("/ws/{room}")
    async def chat(ws: WebSocket, room: str) -> None:
        await ws.accept()
        async with app.channels.join(room, ws):          # room messages -> this socket
            async for message in ws.iter_json():
                await app.channels.publish(room, message)  # -> every socket in the room

Messages are JSON-serialisable values. Each subscriber has a bounded queue: a consumer
that falls behind by more than ``max_queue`` messages loses the oldest ones (counted in
``Subscription.dropped``) rather than slowing the room down or growing without bound.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from covet import _json

__all__ = ("Channels", "MemoryChannels", "Subscription")

logger = logging.getLogger("covet.channels")


class Subscription:
    """Messages published to one room, as an async iterator."""

    __slots__ = ("_closed", "_queue", "dropped", "room")

    def __init__(self, room: str, max_queue: int) -> None:
        self.room = room
        self._queue: asyncio.Queue[Any] = asyncio.Queue(max_queue)
        self._closed = False
        self.dropped = 0

    def _deliver(self, message: Any) -> None:
        if self._closed:
            return
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
            if self.dropped == 1:
                logger.warning("a subscriber of room %r is too slow; dropping oldest messages", self.room)
        self._queue.put_nowait(message)

    async def get(self) -> Any:
        """The next message (waits)."""
        return await self._queue.get()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Any:
        if self._closed and self._queue.empty():
            raise StopAsyncIteration
        return await self._queue.get()


class Channels(abc.ABC):
    """Publish/subscribe by room name; subclasses decide how messages travel."""

    def __init__(self, *, max_queue: int = 1000) -> None:
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        self.max_queue = max_queue
        self._rooms: dict[str, set[Subscription]] = {}

    async def start(self) -> None:  # noqa: B027 - optional hook, nothing to do in memory
        """Connect to the transport (called by the app's start-up)."""

    async def stop(self) -> None:  # noqa: B027
        """Disconnect (called by the app's shutdown)."""

    @abc.abstractmethod
    async def publish(self, room: str, message: Any) -> None:
        """Send ``message`` to every subscriber of ``room`` (in every process)."""

    async def _on_first_subscriber(self, room: str) -> None:  # noqa: B027
        """A room got its first local subscriber (transports subscribe upstream here)."""

    async def _on_last_unsubscriber(self, room: str) -> None:  # noqa: B027
        """A room lost its last local subscriber."""

    def _fan_out(self, room: str, message: Any) -> int:
        subscribers = self._rooms.get(room)
        if not subscribers:
            return 0
        for sub in tuple(subscribers):
            sub._deliver(message)
        return len(subscribers)

    @contextlib.asynccontextmanager
    async def subscribe(self, room: str) -> AsyncIterator[Subscription]:
        """``async with channels.subscribe("room") as sub: async for message in sub: ...``."""
        _check_room(room)
        sub = Subscription(room, self.max_queue)
        members = self._rooms.setdefault(room, set())
        first = not members
        members.add(sub)
        try:
            if first:
                await self._on_first_subscriber(room)
            yield sub
        finally:
            sub._closed = True
            members.discard(sub)
            if not members and self._rooms.get(room) is members:
                del self._rooms[room]
                await self._on_last_unsubscriber(room)

    @contextlib.asynccontextmanager
    async def join(self, room: str, websocket: Any, *, mode: str = "text") -> AsyncIterator[Subscription]:
        """Forward every message published to ``room`` to ``websocket`` as JSON.

        The forwarding stops when the block exits or the socket closes.
        """
        async with self.subscribe(room) as sub:

            async def forward() -> None:
                with contextlib.suppress(Exception):  # the socket went away: stop quietly
                    async for message in sub:
                        await websocket.send_json(message, mode=mode)

            task = asyncio.ensure_future(forward())
            try:
                yield sub
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def rooms(self) -> dict[str, int]:
        """Local subscriber count per room."""
        return {room: len(subs) for room, subs in self._rooms.items()}


class MemoryChannels(Channels):
    """Fan-out within this process (one worker, tests, development)."""

    async def publish(self, room: str, message: Any) -> None:
        _check_room(room)
        _json.dumps(message)  # same contract as the Redis transport: JSON values only
        self._fan_out(room, message)


def _check_room(room: str) -> None:
    if not isinstance(room, str) or not room or len(room) > 256 or "\x00" in room:
        raise ValueError(f"invalid room name {room!r}: a non-empty string of at most 256 characters")
