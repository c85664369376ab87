"""MemoryCache bounds and expiry with an injected clock; @cached."""

from __future__ import annotations

import asyncio

import pytest

from covet.cache import MISSING, MemoryCache, cached, get_default_cache, set_default_cache


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_lru_eviction_by_count() -> None:
    cache = MemoryCache(max_entries=3)
    for k in "abc":
        await cache.set(k, k)
    await cache.get("a")  # a is now most recently used
    await cache.set("d", "d")
    assert await cache.get_many("abcd") == {"a": "a", "c": "c", "d": "d"}
    assert len(cache) == 3


async def test_eviction_by_bytes_and_oversized_values() -> None:
    cache = MemoryCache(max_bytes=20_000)
    for i in range(50):
        await cache.set(f"k{i}", "x" * 1000)
    assert cache.bytes <= 20_000
    assert 10 <= len(cache) < 20
    assert await cache.get("k49") is not None and await cache.get("k0") is None
    await cache.set("huge", b"x" * 50_000)
    assert await cache.get("huge", MISSING) is MISSING
    await cache.set("nested", {"a": ["y" * 5000] * 10})  # container contents are counted
    assert await cache.get("nested", MISSING) is MISSING


async def test_expiry_with_fake_clock_and_default_ttl() -> None:
    clock = FakeClock()
    cache = MemoryCache(default_ttl=10, clock=clock)
    await cache.set("a", 1)
    await cache.set("b", 2, ttl=100)
    clock.now += 9.99
    assert await cache.ttl("a") == pytest.approx(0.01)
    clock.now += 0.01
    assert await cache.get("a", MISSING) is MISSING
    assert await cache.ttl("a") is None
    assert await cache.get("b") == 2
    assert await cache.incr("n", ttl=5) == 1
    clock.now += 5
    assert await cache.incr("n") == 1  # expired counter starts over


async def test_tags_follow_overwrites() -> None:
    cache = MemoryCache()
    await cache.set("k", 1, tags=["a"])
    await cache.set("k", 2, tags=["b"])  # re-set without tag a
    assert await cache.delete_by_tag("a") == 0
    assert await cache.get("k") == 2
    assert await cache.delete_by_tag("b") == 1


async def test_incr_refuses_non_integers() -> None:
    cache = MemoryCache()
    await cache.set("b", True)
    with pytest.raises(ValueError):
        await cache.incr("b")


async def test_cached_decorator_keys_tags_and_invalidate() -> None:
    cache = MemoryCache()
    calls: list[int] = []

    @cached(ttl=60, key="user:{user_id}", tags=["users", "user:{user_id}"], cache=cache)
    async def load(user_id: int, verbose: bool = False) -> dict[str, int]:
        calls.append(user_id)
        return {"id": user_id}

    assert await load(1) == {"id": 1}
    assert await load(user_id=1) == {"id": 1}
    assert await load(2) == {"id": 2}
    assert calls == [1, 2]
    assert load.cache_key(1) == "user:1"
    assert await load.invalidate(1) is True
    await load(1)
    assert calls == [1, 2, 1]
    assert await cache.delete_by_tag("user:2") == 1
    await load(2)
    assert calls == [1, 2, 1, 2]


async def test_cached_default_key_hashes_arguments_and_single_flight() -> None:
    set_default_cache(MemoryCache())
    calls = 0

    @cached(ttl=60)
    async def square(x: int, *, scale: int = 1) -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.02)
        return x * x * scale

    try:
        results = await asyncio.gather(*(square(3) for _ in range(10)), square(3, scale=2))
        assert results == [9] * 10 + [18]
        assert calls == 2
        assert square.cache_key(3) == square.cache_key(x=3, scale=1) != square.cache_key(4)
        assert square.cache_key(3).startswith(f"{__name__}.")
        assert await get_default_cache().get(square.cache_key(3)) == 9
    finally:
        set_default_cache(None)


async def test_cached_key_function_and_lazy_cache() -> None:
    cache = MemoryCache()

    @cached(key=lambda a, b: f"sum:{a}+{b}", cache=lambda: cache)
    async def add(a: int, b: int) -> int:
        return a + b

    assert await add(1, 2) == 3
    assert await cache.get("sum:1+2") == 3


def test_cached_refuses_sync_functions_and_bad_ttl() -> None:
    with pytest.raises(TypeError):
        cached()(lambda: 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        cached(ttl=-5)


async def test_tiered_ignores_hostile_invalidation_messages() -> None:
    from covet.cache import RedisCache, TieredCache

    tiered = TieredCache(RedisCache("redis://127.0.0.1:1/0"))  # never connected here
    await tiered.l1.set("keep", 1, tags=["t"])
    for garbage in [
        b"",
        b"not json",
        b"[1,2]",
        b'{"k": [1, null, {}]}',
        b'{"t": "t"}',
        b"\xff\xfe",
        b'{"k": "keep"}',
    ]:
        tiered._apply(garbage)
    assert await tiered.l1.get("keep") == 1
    tiered._apply(b'{"o": "%s", "k": ["keep"]}' % tiered.origin.encode())  # our own echo
    assert await tiered.l1.get("keep") == 1
    tiered._apply(b'{"o": "other", "t": ["t"]}')
    assert await tiered.l1.get("keep", MISSING) is MISSING
