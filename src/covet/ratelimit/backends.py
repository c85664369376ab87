"""Rate-limit storage: the backend interface and the bounded in-memory backend."""

from __future__ import annotations

import abc
import time
from collections import OrderedDict
from collections.abc import Callable

from covet.exceptions import CovetError, ImproperlyConfigured

from .algorithms import ALGORITHMS, RateLimitResult, State, validate_algorithm
from .rate import Rate

__all__ = ("MemoryBackend", "RateLimitBackend", "RateLimitBackendError")


class RateLimitBackendError(CovetError):
    """The backend could not be reached; the middleware applies its fail-open/closed policy."""

    error_code = "ratelimit_backend_error"


class RateLimitBackend(abc.ABC):
    """Stores rate-limit state. ``hit`` must be atomic per key (across processes if shared)."""

    @abc.abstractmethod
    async def hit(
        self, key: str, rate: Rate, algorithm: str = "fixed_window", cost: int = 1
    ) -> RateLimitResult:
        """Record a request of weight ``cost`` for ``key`` and return the decision."""

    @abc.abstractmethod
    async def reset(self, key: str) -> None:
        """Forget all state for ``key`` (every algorithm)."""

    async def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release connections; the default does nothing."""


class MemoryBackend(RateLimitBackend):
    """Per-process state in a bounded LRU dict with expiry.

    At most ``max_keys`` keys are kept; past that the least recently used key is
    dropped (which forgets its count: under a flood of distinct keys the limit errs on
    the lenient side, memory stays bounded). Expired entries are swept as they age out.
    ``clock`` (seconds, default ``time.time``) is injectable for tests.
    """

    def __init__(self, max_keys: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        if max_keys < 1:
            raise ImproperlyConfigured("max_keys must be at least 1")
        self.max_keys = max_keys
        self.clock = clock
        self._data: OrderedDict[tuple[str, str], tuple[State, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._data)

    async def hit(
        self, key: str, rate: Rate, algorithm: str = "fixed_window", cost: int = 1
    ) -> RateLimitResult:
        hit_fn = ALGORITHMS.get(algorithm) or ALGORITHMS[validate_algorithm(algorithm)]
        now = self.clock()
        slot = (algorithm, key)
        entry = self._data.get(slot)
        state = entry[0] if entry is not None and entry[1] > now else None
        new_state, result, ttl = hit_fn(state, now, rate, cost)
        self._data[slot] = (new_state, now + ttl)
        self._data.move_to_end(slot)
        self._evict(now)
        return result

    async def reset(self, key: str) -> None:
        for algorithm in ALGORITHMS:
            self._data.pop((algorithm, key), None)

    def _evict(self, now: float) -> None:
        data = self._data
        while len(data) > self.max_keys:
            data.popitem(last=False)
        # sweep a few expired entries from the cold end on each hit: amortised O(1)
        for _ in range(4):
            if not data:
                break
            oldest = next(iter(data))
            if data[oldest][1] > now:
                break
            del data[oldest]
