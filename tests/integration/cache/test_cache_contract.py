"""One behaviour for every cache backend: memory, Redis and two-level, on the real Redis."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator

import pytest

from covet.cache import MISSING, Cache, MemoryCache, RedisCache, TieredCache

pytestmark = [pytest.mark.integration, pytest.mark.redis]


@pytest.fixture(params=["memory", "redis", "tiered"])
async def cache(
    request: pytest.FixtureRequest, redis_url: str, redis_prefix: str
) -> AsyncIterator[Cache]:
    if request.param == "memory":
        backend: Cache = MemoryCache()
    elif request.param == "redis":
        backend = RedisCache(redis_url, prefix=redis_prefix)
    else:
        backend = TieredCache(RedisCache(redis_url, prefix=redis_prefix))
    yield backend
    await backend.close()


async def test_set_get_delete(cache: Cache) -> None:
    value = {"name": "Ada", "tags": ["x", "y"], "n": 1.5, "ok": True, "none": None}
    await cache.set("user:1", value)
    assert await cache.get("user:1") == value
    assert await cache.get("nope") is None
    assert await cache.get("nope", "dflt") == "dflt"
    assert await cache.has("user:1")
    assert await cache.delete("user:1") is True
    assert await cache.delete("user:1") is False
    assert await cache.get("user:1", MISSING) is MISSING


async def test_types_round_trip(cache: Cache) -> None:
    for i, value in enumerate([0, -12, 2**60, "text", "", "123", b"\x00\xffraw", [], None, 3.25]):
        await cache.set(f"v{i}", value)
        got = await cache.get(f"v{i}", MISSING)
        assert got == value and type(got) is type(value)


async def test_stored_none_is_not_a_miss(cache: Cache) -> None:
    await cache.set("k", None)
    assert await cache.get("k", MISSING) is None


async def test_ttl(cache: Cache) -> None:
    await cache.set("short", 1, ttl=30)
    await cache.set("forever", 1)
    left = await cache.ttl("short")
    assert left is not None and 29 < left <= 30
    assert await cache.ttl("forever") == math.inf
    assert await cache.ttl("missing") is None
    await cache.set("gone", 1, ttl=0.05)
    await asyncio.sleep(0.08)
    assert await cache.get("gone", MISSING) is MISSING


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "10"])
async def test_bad_ttl_is_rejected(cache: Cache, bad: object) -> None:
    with pytest.raises(ValueError):
        await cache.set("k", 1, ttl=bad)  # type: ignore[arg-type]


async def test_bad_key_is_rejected(cache: Cache) -> None:
    with pytest.raises(TypeError):
        await cache.set("", 1)
    with pytest.raises(TypeError):
        await cache.get(b"bytes")  # type: ignore[arg-type]


async def test_many(cache: Cache) -> None:
    await cache.set_many({"a": 1, "b": [2], "c": "3"}, ttl=60)
    assert await cache.get_many(["a", "b", "missing", "c"]) == {"a": 1, "b": [2], "c": "3"}
    assert await cache.get_many([]) == {}
    assert await cache.delete_many(["a", "b", "zzz"]) == 2


async def test_incr(cache: Cache) -> None:
    assert await cache.incr("hits") == 1
    assert await cache.incr("hits", 5) == 6
    assert await cache.incr("hits", -2) == 4
    assert await cache.get("hits") == 4
    assert await cache.incr("counted", ttl=30) == 1
    left = await cache.ttl("counted")
    assert left is not None and left <= 30
    await cache.set("text", "abc")
    with pytest.raises(ValueError):
        await cache.incr("text")


async def test_tags(cache: Cache) -> None:
    await cache.set("p:1", 1, tags=["products", "p1"])
    await cache.set("p:2", 2, tags=["products"])
    await cache.set("u:1", 3, tags=["users"])
    await cache.set_many({"p:3": 3, "p:4": 4}, tags=["products"])
    assert await cache.delete_by_tag("products") == 4
    assert await cache.get_many(["p:1", "p:2", "p:3", "p:4", "u:1"]) == {"u:1": 3}
    assert await cache.delete_by_tag("products") == 0
    assert await cache.delete_by_tag() == 0


async def test_clear(cache: Cache) -> None:
    await cache.set_many({"a": 1, "b": 2})
    await cache.set("t", 1, tags=["x"])
    await cache.clear()
    assert await cache.get_many(["a", "b", "t"]) == {}


async def test_get_or_set_single_flight(cache: Cache) -> None:
    calls = 0

    async def compute() -> dict[str, int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return {"v": 42}

    results = await asyncio.gather(*(cache.get_or_set("hot", compute, ttl=60) for _ in range(20)))
    assert results == [{"v": 42}] * 20
    assert calls == 1
    assert await cache.get_or_set("hot", compute) == {"v": 42}
    assert calls == 1


async def test_get_or_set_error_reaches_every_waiter_and_is_not_cached(cache: Cache) -> None:
    calls = 0

    async def boom() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.02)
        raise RuntimeError("backend exploded")

    results = await asyncio.gather(
        *(cache.get_or_set("bad", boom) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, RuntimeError) for r in results)
    assert calls == 1
    assert await cache.get("bad", MISSING) is MISSING


async def test_cancelled_leader_hands_over(cache: Cache) -> None:
    started = asyncio.Event()

    async def slow() -> int:
        started.set()
        await asyncio.sleep(10)
        return 1

    leader = asyncio.create_task(cache.get_or_set("k", slow))
    await started.wait()
    waiter = asyncio.create_task(cache.get_or_set("k", lambda: 2))
    await asyncio.sleep(0.01)
    leader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leader
    assert await asyncio.wait_for(waiter, 12) == 2
