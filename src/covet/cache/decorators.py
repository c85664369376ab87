"""``@cached``: memoise an async function in a cache, with single flight."""

from __future__ import annotations

import functools
import hashlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar, Union

from covet import _json

from .base import Cache, CacheBackendError, check_ttl
from .memory import MemoryCache

__all__ = ("cached", "get_default_cache", "set_default_cache")

logger = logging.getLogger("covet.cache")

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
KeySpec = Union[str, Callable[..., str], None]
TagSpec = Union[Iterable[str], Callable[..., Iterable[str]]]
CacheSpec = Union[Cache, Callable[[], Cache], None]

_default_cache: Cache | None = None


def get_default_cache() -> Cache:
    """The process-wide default cache (a ``MemoryCache`` unless ``set_default_cache`` ran)."""
    global _default_cache
    if _default_cache is None:
        _default_cache = MemoryCache()
    return _default_cache


def set_default_cache(cache: Cache | None) -> None:
    """Replace the default cache used by ``@cached`` without an explicit ``cache=``."""
    global _default_cache
    _default_cache = cache


def _argument_digest(arguments: dict[str, Any]) -> str:
    try:
        encoded = _json.dumps(arguments)
    except (TypeError, ValueError):
        encoded = repr(sorted(arguments.items())).encode()
    return hashlib.sha256(encoded).hexdigest()[:32]


def cached(
    ttl: float | None = None,
    *,
    key: KeySpec = None,
    tags: TagSpec = (),
    cache: CacheSpec = None,
) -> Callable[[F], F]:
    """Cache an async function's results.

    ``key``: None (module.qualname + a hash of the arguments), a format string over the
    parameters (``"user:{user_id}"``) or a function of the same arguments returning the
    key. ``tags``: format strings or a function of the arguments returning tags.
    ``cache``: a ``Cache``, a zero-argument function returning one (resolved per call,
    so it may be configured at start-up), or None for ``get_default_cache()``.
    Concurrent calls with one key compute once. A cache outage falls back to calling the
    function. The wrapper gains ``await f.invalidate(*args, **kwargs)`` and
    ``f.cache_key(*args, **kwargs)``.
    """
    check_ttl(ttl)

    def decorator(func: F) -> F:
        if not inspect.iscoroutinefunction(func):
            raise TypeError("@cached decorates async functions")
        signature = inspect.signature(func)
        prefix = f"{func.__module__}.{func.__qualname__}"

        def bound(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
            ba = signature.bind(*args, **kwargs)
            ba.apply_defaults()
            return dict(ba.arguments)

        def cache_key(*args: Any, **kwargs: Any) -> str:
            if key is None:
                return f"{prefix}:{_argument_digest(bound(args, kwargs))}"
            if isinstance(key, str):
                return key.format(**bound(args, kwargs))
            return str(key(*args, **kwargs))

        def cache_tags(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, ...]:
            if callable(tags):
                return tuple(tags(*args, **kwargs))
            if not tags:
                return ()
            arguments = bound(args, kwargs)
            return tuple(t.format(**arguments) for t in tags)

        def resolve_cache() -> Cache:
            if cache is None:
                return get_default_cache()
            if isinstance(cache, Cache):
                return cache
            return cache()

        @functools.wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            store = resolve_cache()
            k = cache_key(*args, **kwargs)
            computed: list[Any] = []

            async def compute() -> Any:
                computed.append(await func(*args, **kwargs))
                return computed[0]

            try:
                return await store.get_or_set(k, compute, ttl, cache_tags(args, kwargs))
            except CacheBackendError as exc:
                logger.warning("cache unavailable for %s (%s); calling through", k, exc)
                return computed[0] if computed else await func(*args, **kwargs)

        async def invalidate(*args: Any, **kwargs: Any) -> bool:
            return await resolve_cache().delete(cache_key(*args, **kwargs))

        wrapper.cache_key = cache_key  # type: ignore[attr-defined]
        wrapper.invalidate = invalidate  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator
