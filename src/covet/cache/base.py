"""The async cache interface shared by every backend, with single-flight ``get_or_set``."""

from __future__ import annotations

import abc
import asyncio
import inspect
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Union

from covet._sentinel import MISSING
from covet.exceptions import CovetError

__all__ = ("MISSING", "Cache", "CacheBackendError", "check_key", "check_ttl")


Factory = Callable[[], Union[Any, Awaitable[Any]]]


class CacheBackendError(CovetError):
    """The cache server failed; ``@cached`` and ``CacheMiddleware`` treat it as a miss."""

    error_code = "cache_backend_error"


class _LeaderGone(Exception):
    """The task computing a value was cancelled; a waiter takes over."""


def check_key(key: str) -> str:
    """Keys are non-empty strings."""
    if not isinstance(key, str) or not key:
        raise TypeError(f"cache keys must be non-empty strings, got {key!r}")
    return key


def check_ttl(ttl: float | None) -> float | None:
    """TTLs are positive seconds or None (no expiry)."""
    if ttl is not None and not (isinstance(ttl, (int, float)) and ttl > 0 and math.isfinite(ttl)):
        raise ValueError(f"ttl must be a positive number of seconds or None, got {ttl!r}")
    return ttl


class Cache(abc.ABC):
    """Async key-value cache with TTLs and tags.

    ``ttl`` arguments are seconds (``None``: the backend's ``default_ttl``, itself ``None``
    for no expiry). ``tags`` group keys for ``delete_by_tag``. ``ttl(key)`` answers the
    seconds left, ``math.inf`` for a key without expiry, ``None`` for a missing key.
    """

    default_ttl: float | None = None

    def __init__(self) -> None:
        self._inflight: dict[str, asyncio.Future[Any]] = {}

    @abc.abstractmethod
    async def get(self, key: str, default: Any = None) -> Any:
        """The value stored at ``key``, or ``default``."""

    @abc.abstractmethod
    async def set(
        self, key: str, value: Any, ttl: float | None = None, tags: Iterable[str] = ()
    ) -> None:
        """Store ``value`` at ``key`` (replacing its old tags by ``tags``)."""

    @abc.abstractmethod
    async def delete(self, key: str) -> bool:
        """Remove ``key``; True if it existed."""

    @abc.abstractmethod
    async def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The stored values of ``keys`` (missing keys are absent from the result)."""

    @abc.abstractmethod
    async def set_many(
        self, mapping: Mapping[str, Any], ttl: float | None = None, tags: Iterable[str] = ()
    ) -> None:
        """Store every item of ``mapping`` with the same ``ttl`` and ``tags``."""

    @abc.abstractmethod
    async def clear(self) -> None:
        """Remove every key of this cache (its namespace only, for shared servers)."""

    @abc.abstractmethod
    async def incr(self, key: str, delta: int = 1, ttl: float | None = None) -> int:
        """Atomically add ``delta`` to an integer (missing: 0); ``ttl`` applies on creation.

        Raises ``ValueError`` if the stored value is not an integer.
        """

    @abc.abstractmethod
    async def ttl(self, key: str) -> float | None:
        """Seconds until ``key`` expires: ``math.inf`` if never, ``None`` if missing."""

    @abc.abstractmethod
    async def delete_by_tag(self, *tags: str) -> int:
        """Remove every key stored with any of ``tags``; returns how many were removed."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the default does nothing."""

    async def has(self, key: str) -> bool:
        """True if ``key`` is stored."""
        return await self.get(key, MISSING) is not MISSING

    async def delete_many(self, keys: Iterable[str]) -> int:
        """Remove ``keys``; returns how many existed."""
        return sum([await self.delete(k) for k in keys])

    async def get_or_set(
        self,
        key: str,
        factory: Factory,
        ttl: float | None = None,
        tags: Iterable[str] = (),
    ) -> Any:
        """Return ``key``'s value, computing it with ``factory`` on a miss.

        Single flight: concurrent misses for one key in this process await the same
        computation (an ``asyncio`` future); backends shared between processes add a
        cross-process lock (see ``RedisCache``).
        """
        check_key(key)
        while True:
            value = await self.get(key, MISSING)
            if value is not MISSING:
                return value
            pending = self._inflight.get(key)
            if pending is None:
                break
            try:
                return await asyncio.shield(pending)
            except _LeaderGone:
                continue
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await self._compute(key, factory, ttl, tuple(tags))
        except asyncio.CancelledError:
            future.set_exception(_LeaderGone())
            future.exception()  # mark retrieved: waiters may not exist
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._inflight[key]

    async def _compute(
        self, key: str, factory: Factory, ttl: float | None, tags: tuple[str, ...]
    ) -> Any:
        value = await call_factory(factory)
        await self.set(key, value, ttl, tags)
        return value


async def call_factory(factory: Factory) -> Any:
    """Call a sync or async zero-argument factory."""
    value = factory()
    if inspect.isawaitable(value):
        value = await value
    return value
