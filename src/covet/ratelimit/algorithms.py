"""The three rate-limit algorithms as pure functions over a small state tuple.

Each ``*_hit(state, now, rate, cost)`` returns ``(new_state, result, ttl)``: the state to
store, the decision, and how long (seconds) the state must be kept. Time is an explicit
argument, so the algorithms are tested with a fake clock and no sleeping. The Redis
backend runs the same arithmetic in Lua (``covet.ratelimit.redis``).

- **fixed window**: a counter per ``period``-long window aligned to the epoch. Cheap and
  exact per window; allows up to ``2 * limit`` across a window boundary.
- **sliding window (counter approximation)**: the current window's count plus the
  previous window's count weighted by how much of it still overlaps the sliding window
  (``prev * (1 - elapsed / period) + curr``). Constant memory per key, smooths the
  boundary burst; it assumes requests in the previous window were evenly spread.
- **token bucket**: ``limit`` tokens, refilled continuously at ``limit / period`` per
  second; a request takes ``cost`` tokens. Allows bursts up to ``limit`` then a steady rate.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from covet.exceptions import ImproperlyConfigured

from .rate import Rate

__all__ = (
    "ALGORITHMS",
    "Algorithm",
    "RateLimitResult",
    "fixed_window_hit",
    "sliding_window_hit",
    "token_bucket_hit",
    "validate_algorithm",
)

Algorithm = Literal["fixed_window", "sliding_window", "token_bucket"]
State = tuple[float, ...]


@dataclass(frozen=True, slots=True)
class RateLimitResult:
    """Outcome of one hit.

    ``remaining`` is the quota left after this request; ``reset_after`` the seconds until
    the quota is fully available again (``RateLimit-Reset``); ``retry_after`` the seconds
    until a denied request may succeed (0 when allowed).
    """

    allowed: bool
    limit: int
    remaining: int
    reset_after: float
    retry_after: float = 0.0

    def headers(self) -> list[tuple[str, str]]:
        """The IETF draft ``RateLimit-*`` headers, plus ``Retry-After`` when denied."""
        out = [
            ("ratelimit-limit", str(self.limit)),
            ("ratelimit-remaining", str(max(0, self.remaining))),
            ("ratelimit-reset", str(max(0, math.ceil(self.reset_after)))),
        ]
        if not self.allowed:
            out.append(("retry-after", str(max(1, math.ceil(self.retry_after)))))
        return out


def fixed_window_hit(
    state: State | None, now: float, rate: Rate, cost: int = 1
) -> tuple[State, RateLimitResult, float]:
    """Fixed window: ``state = (window_index, count)``, window ``index`` = ``floor(now / period)``."""
    period, limit = rate.period, rate.limit
    index = math.floor(now / period)
    count = state[1] if state is not None and state[0] == index else 0.0
    reset = (index + 1) * period - now
    if count + cost > limit:
        return (
            (index, count),
            RateLimitResult(False, limit, int(limit - count), reset, reset),
            reset,
        )
    count += cost
    return (index, count), RateLimitResult(True, limit, int(limit - count), reset), reset


def sliding_window_hit(
    state: State | None, now: float, rate: Rate, cost: int = 1
) -> tuple[State, RateLimitResult, float]:
    """Sliding window counter: ``state = (window_index, previous_count, current_count)``."""
    period, limit = rate.period, rate.limit
    index = math.floor(now / period)
    prev = curr = 0.0
    if state is not None:
        if state[0] == index:
            prev, curr = state[1], state[2]
        elif state[0] == index - 1:
            prev = state[2]
    elapsed = now - index * period
    weighted = prev * (1 - elapsed / period) + curr
    window_left = period - elapsed
    ttl = window_left + period
    if weighted + cost > limit:
        if curr + cost <= limit:
            # wait until enough of the previous window has slid out
            retry = period * (1 - (limit - curr - cost) / prev) - elapsed
        else:
            # wait for the next window, where ``curr`` becomes the weighted previous count
            retry = window_left + (
                max(0.0, period * (1 - (limit - cost) / curr)) if curr > 0 else period
            )
        retry = max(retry, 0.001)
        result = RateLimitResult(
            False, limit, max(0, math.floor(limit - weighted)), max(window_left, retry), retry
        )
        return (index, prev, curr), result, ttl
    curr += cost
    remaining = max(0, math.floor(limit - weighted - cost))
    return (index, prev, curr), RateLimitResult(True, limit, remaining, window_left), ttl


def token_bucket_hit(
    state: State | None, now: float, rate: Rate, cost: int = 1
) -> tuple[State, RateLimitResult, float]:
    """Token bucket: ``state = (tokens, last_refill_time)``; capacity ``limit``."""
    capacity = float(rate.limit)
    per_second = capacity / rate.period
    if state is None:
        tokens = capacity
    else:
        tokens = min(capacity, state[0] + max(0.0, now - state[1]) * per_second)
    if tokens < cost:
        retry = (cost - tokens) / per_second
        reset = (capacity - tokens) / per_second
        result = RateLimitResult(False, rate.limit, math.floor(tokens), reset, retry)
        return (tokens, now), result, reset
    tokens -= cost
    reset = (capacity - tokens) / per_second
    return (tokens, now), RateLimitResult(True, rate.limit, math.floor(tokens), reset), reset


HitFunction = Callable[[State | None, float, Rate, int], tuple[State, RateLimitResult, float]]

ALGORITHMS: dict[str, HitFunction] = {
    "fixed_window": fixed_window_hit,
    "sliding_window": sliding_window_hit,
    "token_bucket": token_bucket_hit,
}


def validate_algorithm(name: str) -> str:
    """Return ``name`` if it is a known algorithm, else raise ``ImproperlyConfigured``."""
    if name not in ALGORITHMS:
        raise ImproperlyConfigured(
            f"unknown rate-limit algorithm {name!r}; choose one of {sorted(ALGORITHMS)}"
        )
    return name
