"""Redis-specific cache behaviour: serializers, namespaces, cross-process locks, L1 invalidation."""

from __future__ import annotations

import asyncio
import pickle

import pytest

from covet.cache import MISSING, CacheBackendError, MemoryCache, RedisCache, TieredCache, cached

pytestmark = [pytest.mark.integration, pytest.mark.redis]


async def test_pickle_is_opt_in_and_never_loaded_otherwise(
    redis_url: str, redis_prefix: str
) -> None:
    trusted = RedisCache(redis_url, prefix=redis_prefix, serializer="pickle")
    default = RedisCache(redis_url, prefix=redis_prefix)
    try:
        await trusted.set("obj", {1, 2, 3})
        assert await trusted.get("obj") == {1, 2, 3}
        # a JSON-configured reader never unpickles what it finds (e.g. planted by an attacker)
        assert await default.get("obj", MISSING) is MISSING
        await default.client.set(redis_prefix + "v:evil", b"p" + pickle.dumps(["x"]))
        assert await default.get("evil", "miss") == "miss"
    finally:
        await trusted.close()
        await default.close()


async def test_corrupt_entries_read_as_misses(redis_url: str, redis_prefix: str) -> None:
    cache = RedisCache(redis_url, prefix=redis_prefix)
    try:
        for i, raw in enumerate([b"j{not json", b"zzz", b"-", b"12abc"]):
            await cache.client.set(f"{redis_prefix}v:bad{i}", raw)
            assert await cache.get(f"bad{i}", MISSING) is MISSING
    finally:
        await cache.close()


async def test_json_refuses_unserialisable_values(redis_url: str, redis_prefix: str) -> None:
    cache = RedisCache(redis_url, prefix=redis_prefix)
    try:
        with pytest.raises(TypeError):
            await cache.set("k", object())
    finally:
        await cache.close()


async def test_clear_only_touches_its_prefix(redis_url: str, redis_prefix: str) -> None:
    a = RedisCache(redis_url, prefix=redis_prefix + "a*[")  # glob characters in the prefix
    b = RedisCache(redis_url, prefix=redis_prefix + "b:")
    try:
        await a.set("k", 1, tags=["t"])
        await b.set("k", 2)
        await a.clear()
        assert await a.get("k") is None
        assert await b.get("k") == 2
    finally:
        await a.close()
        await b.close()


async def test_single_flight_across_processes(redis_url: str, redis_prefix: str) -> None:
    # separate RedisCache objects share nothing in memory: only the Redis lock
    caches = [RedisCache(redis_url, prefix=redis_prefix) for _ in range(4)]
    calls = 0

    async def compute() -> str:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.1)
        return "value"

    try:
        results = await asyncio.gather(*(c.get_or_set("hot", compute, ttl=30) for c in caches))
        assert results == ["value"] * 4
        assert calls == 1
        assert await caches[0].client.exists(redis_prefix + "l:hot") == 0  # lock released
    finally:
        for c in caches:
            await c.close()


async def test_tiered_invalidation_reaches_other_processes(
    redis_url: str, redis_prefix: str
) -> None:
    a = TieredCache(RedisCache(redis_url, prefix=redis_prefix), l1_ttl=60)
    b = TieredCache(RedisCache(redis_url, prefix=redis_prefix), l1_ttl=60)

    async def eventually(check: object) -> None:
        for _ in range(200):
            if await check():  # type: ignore[operator]
                return
            await asyncio.sleep(0.01)
        raise AssertionError("invalidation never arrived")

    try:
        await a.set("k", "v1", tags=["grp"])
        assert await b.get("k") == "v1"  # now in b's L1
        assert await b.l1.get("k") == "v1"
        await a.set("k", "v2")
        await eventually(lambda: _missing(b.l1, "k"))
        assert await b.get("k") == "v2"
        await a.delete_by_tag("grp")  # b's L1 copy has no tags: the keys travel too
        await a.set("t", 1, tags=["grp"])
        assert await b.get("t") == 1
        assert await a.delete_by_tag("grp") == 1
        await eventually(lambda: _missing(b.l1, "t"))
        assert await b.get("t", MISSING) is MISSING
        await a.set("c", 1)
        assert await b.get("c") == 1
        await a.clear()
        await eventually(lambda: _missing(b.l1, "c"))
    finally:
        await a.close()
        await b.close()


async def _missing(cache: MemoryCache, key: str) -> bool:
    return await cache.get(key, MISSING) is MISSING


async def test_unreachable_redis(free_port: int) -> None:
    cache = RedisCache(f"redis://127.0.0.1:{free_port}/0", socket_timeout=0.5)
    calls = 0

    @cached(ttl=10, cache=cache)
    async def compute(x: int) -> int:
        nonlocal calls
        calls += 1
        return x * 2

    try:
        with pytest.raises(CacheBackendError):
            await cache.get("k")
        with pytest.raises(CacheBackendError):
            await cache.set("k", 1)
        assert await compute(21) == 42  # the decorator calls through
        assert calls == 1
    finally:
        await cache.close()


async def test_tiered_l1_never_outlives_l2(redis_url: str, redis_prefix: str) -> None:
    writer = RedisCache(redis_url, prefix=redis_prefix)
    tiered = TieredCache(RedisCache(redis_url, prefix=redis_prefix), l1_ttl=60)
    try:
        await writer.set_many({"a": 1, "b": 2}, ttl=5)
        await writer.set("c", 3)
        assert await tiered.get_many(["a", "b", "c", "zz"]) == {"a": 1, "b": 2, "c": 3}
        assert await tiered.get("a") == 1
        left_a, left_c = await tiered.l1.ttl("a"), await tiered.l1.ttl("c")
        assert left_a is not None and left_a <= 5
        assert left_c is not None and 59 < left_c <= 60
    finally:
        await writer.close()
        await tiered.close()


async def test_tiered_recovers_from_a_lost_subscription(redis_url: str, redis_prefix: str) -> None:
    import uuid

    import redis.asyncio as aioredis

    name = "covet-test-" + uuid.uuid4().hex[:12]
    named = aioredis.Redis.from_url(redis_url, client_name=name)
    b = TieredCache(RedisCache(client=named, prefix=redis_prefix), l1_ttl=60)
    a = TieredCache(RedisCache(redis_url, prefix=redis_prefix))
    admin = aioredis.Redis.from_url(redis_url)
    try:
        await a.set("k", 1)
        assert await b.get("k") == 1 and await b.l1.get("k") == 1
        # kill only b's own subscriber connection (found by its unique client name)
        ids = [c["id"] for c in await admin.client_list(_type="pubsub") if c.get("name") == name]
        assert ids
        for client_id in ids:
            await admin.execute_command("CLIENT", "KILL", "ID", client_id)
        for _ in range(200):  # invalidations may have been missed: L1 is dropped
            if await b.l1.get("k", MISSING) is MISSING:
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("L1 was not cleared after the subscription was lost")
        # once resubscribed, invalidations flow again
        for _ in range(400):
            assert await b.get("k") in (1, 2)
            await a.set("k", 2)
            await asyncio.sleep(0.01)
            if await b.l1.get("k", MISSING) is MISSING:
                break
        else:
            raise AssertionError("no resubscription")
        assert await b.get("k") == 2
    finally:
        await a.close()
        await b.close()
        await named.aclose()
        await admin.aclose()


async def test_tiered_single_flight_across_processes(redis_url: str, redis_prefix: str) -> None:
    caches = [TieredCache(RedisCache(redis_url, prefix=redis_prefix)) for _ in range(3)]
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.1)
        return 7

    try:
        results = await asyncio.gather(*(c.get_or_set("hot", compute, ttl=30) for c in caches))
        assert results == [7, 7, 7] and calls == 1
        assert all([await c.l1.get("hot") == 7 for c in caches])
    finally:
        for c in caches:
            await c.close()
