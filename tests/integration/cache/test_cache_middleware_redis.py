"""CacheMiddleware on a Covet app with the Redis and two-level backends, through TestClient."""

from __future__ import annotations

import pytest

from covet import Covet
from covet.cache import CacheMiddleware, RedisCache, TieredCache, cached
from covet.http import PlainTextResponse, Request
from covet.testing import TestClient

pytestmark = [pytest.mark.integration, pytest.mark.redis]


def build(cache: RedisCache | TieredCache) -> tuple[Covet, dict[str, int]]:
    calls = {"page": 0}
    app = Covet()
    app.add_middleware(CacheMiddleware, cache=cache, ttl=30)

    @app.on_event("shutdown")
    async def close_cache() -> None:
        await cache.close()

    @app.get("/page/{name}")
    async def page(name: str) -> PlainTextResponse:
        calls["page"] += 1
        return PlainTextResponse(f"page {name} #{calls['page']}")

    @app.get("/lang")
    async def lang(request: Request) -> PlainTextResponse:
        calls["page"] += 1
        return PlainTextResponse(
            request.headers.get("accept-language", "none"), headers={"Vary": "Accept-Language"}
        )

    return app, calls


@pytest.mark.parametrize("kind", ["redis", "tiered"])
def test_pages_are_shared_through_redis(redis_url: str, redis_prefix: str, kind: str) -> None:
    def make() -> RedisCache | TieredCache:
        l2 = RedisCache(redis_url, prefix=redis_prefix)
        return l2 if kind == "redis" else TieredCache(l2)

    # two apps = two "processes" with their own cache objects, one Redis
    app_a, calls_a = build(make())
    app_b, calls_b = build(make())
    with TestClient(app_a) as a, TestClient(app_b) as b:
        first = a.get("/page/home")
        again = b.get("/page/home")
        assert first.text == again.text == "page home #1"
        assert again.headers["x-cache"] == "HIT" and calls_b["page"] == 0
        assert (
            b.get("/page/home", headers={"if-none-match": first.headers["etag"]}).status_code == 304
        )
        assert a.get("/lang", headers={"accept-language": "de"}).text == "de"
        assert b.get("/lang", headers={"accept-language": "fr"}).text == "fr"
        hit = b.get("/lang", headers={"accept-language": "de"})
        assert hit.text == "de" and hit.headers["x-cache"] == "HIT"
    assert calls_a["page"] == 2 and calls_b["page"] == 1


async def test_cached_decorator_on_redis_with_tags(redis_url: str, redis_prefix: str) -> None:
    cache = RedisCache(redis_url, prefix=redis_prefix)
    calls = 0

    @cached(ttl=60, key="price:{sku}", tags=["prices"], cache=cache)
    async def price(sku: str) -> dict[str, object]:
        nonlocal calls
        calls += 1
        return {"sku": sku, "cents": 1999}

    try:
        assert await price("A1") == {"sku": "A1", "cents": 1999}
        assert await price("A1") == {"sku": "A1", "cents": 1999}
        assert calls == 1
        assert await cache.delete_by_tag("prices") == 1
        await price("A1")
        assert calls == 2
    finally:
        await cache.close()
