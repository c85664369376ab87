"""In-process cache: LRU with TTLs, bounded by entry count and approximate bytes."""

from __future__ import annotations

import math
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .base import Cache, check_key, check_ttl

__all__ = ("MemoryCache", "approx_size")


def approx_size(value: Any, _depth: int = 0) -> int:
    """Rough memory footprint of ``value`` in bytes (containers walked, capped depth)."""
    size = sys.getsizeof(value, 64)
    if _depth >= 4 or isinstance(value, (str, bytes, bytearray, int, float, bool)):
        return size
    if isinstance(value, Mapping):
        for n, (k, v) in enumerate(value.items()):
            if n >= 10_000:
                break
            size += approx_size(k, _depth + 1) + approx_size(v, _depth + 1)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for n, item in enumerate(value):
            if n >= 10_000:
                break
            size += approx_size(item, _depth + 1)
    return size


class _Entry:
    __slots__ = ("expires", "size", "tags", "value")

    def __init__(self, value: Any, expires: float, size: int, tags: frozenset[str]) -> None:
        self.value = value
        self.expires = expires
        self.size = size
        self.tags = tags


class MemoryCache(Cache):
    """A per-process cache.

    Least recently used entries are evicted past ``max_entries`` or past ``max_bytes``
    (sizes are estimates, see ``approx_size``); a single value larger than ``max_bytes``
    is not stored. Values are kept by reference: do not mutate what you store or get.
    ``clock`` (monotonic seconds) is injectable for tests.
    """

    def __init__(
        self,
        max_entries: int = 10_000,
        max_bytes: int = 64 * 1024 * 1024,
        default_ttl: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("max_entries and max_bytes must be positive")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.default_ttl = check_ttl(default_ttl)
        self.clock = clock
        self._data: OrderedDict[str, _Entry] = OrderedDict()
        self._tags: dict[str, set[str]] = {}
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._data)

    def _live(self, key: str) -> _Entry | None:
        entry = self._data.get(check_key(key))
        if entry is None:
            return None
        if entry.expires <= self.clock():
            self._remove(key)
            return None
        self._data.move_to_end(key)
        return entry

    def _remove(self, key: str) -> bool:
        entry = self._data.pop(key, None)
        if entry is None:
            return False
        self.bytes -= entry.size
        for tag in entry.tags:
            keys = self._tags.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._tags[tag]
        return True

    def _store(self, key: str, value: Any, ttl: float | None, tags: Iterable[str]) -> None:
        check_key(key)
        ttl = check_ttl(ttl) if ttl is not None else self.default_ttl
        self._remove(key)
        size = approx_size(key) + approx_size(value) + 64
        if size > self.max_bytes:
            return
        expires = self.clock() + ttl if ttl is not None else math.inf
        tagset = frozenset(tags)
        self._data[key] = _Entry(value, expires, size, tagset)
        self.bytes += size
        for tag in tagset:
            self._tags.setdefault(tag, set()).add(key)
        while len(self._data) > self.max_entries or self.bytes > self.max_bytes:
            self._remove(next(iter(self._data)))

    async def get(self, key: str, default: Any = None) -> Any:
        entry = self._live(key)
        return default if entry is None else entry.value

    async def set(
        self, key: str, value: Any, ttl: float | None = None, tags: Iterable[str] = ()
    ) -> None:
        self._store(key, value, ttl, tags)

    async def delete(self, key: str) -> bool:
        return self._remove(check_key(key))

    async def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        out = {}
        for key in keys:
            entry = self._live(key)
            if entry is not None:
                out[key] = entry.value
        return out

    async def set_many(
        self, mapping: Mapping[str, Any], ttl: float | None = None, tags: Iterable[str] = ()
    ) -> None:
        tags = tuple(tags)
        for key, value in mapping.items():
            self._store(key, value, ttl, tags)

    async def clear(self) -> None:
        self.drop_all()

    async def incr(self, key: str, delta: int = 1, ttl: float | None = None) -> int:
        entry = self._live(key)
        if entry is None:
            self._store(key, delta, ttl, ())
            return delta
        if not isinstance(entry.value, int) or isinstance(entry.value, bool):
            raise ValueError(f"value at {key!r} is not an integer")
        entry.value += delta
        return int(entry.value)

    async def ttl(self, key: str) -> float | None:
        entry = self._live(key)
        if entry is None:
            return None
        return entry.expires - self.clock() if entry.expires != math.inf else math.inf

    async def delete_by_tag(self, *tags: str) -> int:
        removed = 0
        for tag in tags:
            for key in list(self._tags.get(tag, ())):
                removed += self._remove(key)
        return removed

    def drop_local(self, keys: Iterable[str] = (), tags: Iterable[str] = ()) -> None:
        """Synchronously forget ``keys`` and keys tagged with ``tags`` (used by TieredCache)."""
        for key in keys:
            self._remove(key)
        for tag in tags:
            for key in list(self._tags.get(tag, ())):
                self._remove(key)

    def drop_all(self) -> None:
        """Synchronously forget everything (used by TieredCache)."""
        self._data.clear()
        self._tags.clear()
        self.bytes = 0
