"""Server-side session stores: the protocol and the in-memory store."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, Protocol, runtime_checkable

from covet import _json
from covet.exceptions import ImproperlyConfigured

__all__ = ("MemoryStore", "SessionStore", "decode_session")


def decode_session(payload: bytes | str | None) -> dict[str, Any] | None:
    """A stored JSON payload as session data; ``None`` when missing, corrupt or not an object."""
    if payload is None:
        return None
    try:
        data = _json.loads(payload)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


@runtime_checkable
class SessionStore(Protocol):
    """Where server-side sessions live, keyed by session id.

    ``load`` answers ``None`` for unknown or expired ids; ``save`` replaces the entry
    and (re)starts its time to live; ``delete`` is a no-op for unknown ids.

    A store should also offer ``async update(session_id, data, ttl) -> bool``: like
    ``save`` but only for an entry that still exists, answering ``False`` (and writing
    nothing) when it was deleted or expired meanwhile. The middleware uses it to write
    back a loaded session, so a request in flight during a log-out elsewhere cannot
    bring the deleted session back; without it, it falls back to ``save``.
    """

    async def load(self, session_id: str) -> dict[str, Any] | None: ...

    async def save(self, session_id: str, data: dict[str, Any], ttl: int) -> None: ...

    async def delete(self, session_id: str) -> None: ...


class MemoryStore:
    """Sessions in this process's memory: for development, tests and single workers.

    Entries expire after their TTL; at most ``max_entries`` are kept, the least recently
    used going first. Values are stored as JSON, so what works here works on Redis.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        if max_entries < 1:
            raise ImproperlyConfigured("max_entries must be >= 1")
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def load(self, session_id: str) -> dict[str, Any] | None:
        entry = self._entries.get(session_id)
        if entry is None:
            return None
        expires, payload = entry
        if expires <= time.monotonic():
            del self._entries[session_id]
            return None
        self._entries.move_to_end(session_id)
        return decode_session(payload)

    async def save(self, session_id: str, data: dict[str, Any], ttl: int) -> None:
        self._entries[session_id] = (time.monotonic() + ttl, _json.dumps(data))
        self._entries.move_to_end(session_id)
        self._prune()

    async def update(self, session_id: str, data: dict[str, Any], ttl: int) -> bool:
        entry = self._entries.get(session_id)
        if entry is None or entry[0] <= time.monotonic():
            return False
        await self.save(session_id, data, ttl)
        return True

    async def delete(self, session_id: str) -> None:
        self._entries.pop(session_id, None)

    def _prune(self) -> None:
        now = time.monotonic()
        # Expired entries at the old end go first, then the oldest beyond the bound.
        while self._entries:
            key, (expires, _) = next(iter(self._entries.items()))
            if expires > now and len(self._entries) <= self.max_entries:
                break
            del self._entries[key]
