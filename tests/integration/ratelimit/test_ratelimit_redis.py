"""The Redis rate-limit backend against the real server: same decisions as memory."""

from __future__ import annotations

import asyncio
import random

import pytest

from covet.ratelimit import MemoryBackend, RateLimitBackendError, RedisBackend, parse_rate
from covet.ratelimit.redis import _SHAS

pytestmark = [pytest.mark.integration, pytest.mark.redis]


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("algorithm", ["fixed_window", "sliding_window", "token_bucket"])
async def test_redis_matches_memory_step_by_step(
    redis_url: str, redis_prefix: str, algorithm: str
) -> None:
    clock = FakeClock(1_700_000_000.0)
    memory = MemoryBackend(clock=clock)
    redis = RedisBackend(redis_url, prefix=redis_prefix, clock=clock)
    rng = random.Random(42)
    rate = parse_rate("7/10s")
    try:
        for _ in range(150):
            clock.now += rng.choice([0.0, 0.0, 0.3, 1.1, 2.7, 6.0])
            cost = rng.choice([1, 1, 1, 2])
            expected = await memory.hit("k", rate, algorithm, cost)
            got = await redis.hit("k", rate, algorithm, cost)
            assert got.allowed == expected.allowed
            assert got.remaining == expected.remaining
            assert got.reset_after == pytest.approx(expected.reset_after, abs=1e-6)
            assert got.retry_after == pytest.approx(expected.retry_after, abs=1e-6)
    finally:
        await redis.close()


async def test_concurrent_hits_are_atomic(redis_url: str, redis_prefix: str) -> None:
    backends = [RedisBackend(redis_url, prefix=redis_prefix) for _ in range(4)]
    rate = parse_rate("50/minute")
    try:
        results = await asyncio.gather(
            *(backends[i % 4].hit("shared", rate, "sliding_window") for i in range(120))
        )
    finally:
        for b in backends:
            await b.close()
    assert sum(r.allowed for r in results) == 50


async def test_state_expires_with_the_window(redis_url: str, redis_prefix: str) -> None:
    redis = RedisBackend(redis_url, prefix=redis_prefix)
    try:
        await redis.hit("k", parse_rate("3/2s"), "fixed_window")
        ttl = await redis.client.pttl(f"{redis_prefix}fixed_window:k")
        assert 0 < ttl <= 2001
        await redis.reset("k")
        assert await redis.client.exists(f"{redis_prefix}fixed_window:k") == 0
    finally:
        await redis.close()


async def test_noscript_falls_back_to_eval(redis_url: str, redis_prefix: str) -> None:
    redis = RedisBackend(redis_url, prefix=redis_prefix)
    try:
        await redis.client.script_flush()
        result = await redis.hit("k", parse_rate("2/minute"), "token_bucket")
        assert result.allowed and result.remaining == 1
        # EVAL re-cached the script: the next call goes through EVALSHA again
        assert await redis.client.script_exists(_SHAS["token_bucket"]) == [True]
        assert (await redis.hit("k", parse_rate("2/minute"), "token_bucket")).remaining == 0
    finally:
        await redis.close()


async def test_unreachable_redis_raises_backend_error(free_port: int) -> None:
    redis = RedisBackend(f"redis://127.0.0.1:{free_port}/0", socket_timeout=0.5)
    try:
        with pytest.raises(RateLimitBackendError):
            await redis.hit("k", parse_rate("1/s"))
    finally:
        await redis.close()
