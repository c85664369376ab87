"""Readiness against the real PostgreSQL, MariaDB and Redis servers, and against servers
that are down (a closed port): 503 naming the dependency, no credentials in the body."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from covet import Covet
from covet.db import Database
from covet.monitoring import HealthChecks
from covet.testing import AsyncTestClient

pytestmark = pytest.mark.integration

PASSWORD = "s3cret-pw-4291"


@pytest.fixture(params=[pytest.param("postgres", marks=pytest.mark.postgres),
                        pytest.param("mysql", marks=pytest.mark.mysql)])  # fmt: skip
def server_url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
async def up_db(server_url: str) -> AsyncIterator[Database]:
    db = Database(server_url, alias=f"up-{uuid.uuid4().hex[:6]}", max_size=2)
    try:
        yield db
    finally:
        await db.disconnect()
        db.unregister()


def down_url(server_url: str, port: int) -> str:
    scheme = server_url.split("://", 1)[0]
    return f"{scheme}://dbuser:{PASSWORD}@127.0.0.1:{port}/appdb"


async def test_database_up_and_down(up_db: Database, server_url: str, free_port: int) -> None:
    down = Database(down_url(server_url, free_port), alias="orders", connect_timeout=2)
    down.unregister()  # the lifespan would refuse to start with it
    app = Covet()
    health = HealthChecks(app, databases=[up_db, down], redis=False, timeout=5, cache_ttl=0)
    async with AsyncTestClient(app) as client:
        r = await client.get("/health/ready")
        assert r.status_code == 503
        checks = r.json()["checks"]
        assert checks[f"database:{up_db.alias}"]["status"] == "pass"
        failed = checks["database:orders"]
        assert failed["status"] == "fail"
        assert failed["error"].startswith(("OperationalError", "ConnectionLost")), failed
        assert PASSWORD not in r.text and "Traceback" not in r.text

        health.databases = (up_db,)
        r = await client.get("/health/ready")
        assert r.status_code == 200, r.text
        assert list(r.json()["checks"]) == [f"database:{up_db.alias}"]


@pytest.mark.redis
async def test_redis_backends_of_the_app_are_pinged(redis_url: str, redis_prefix: str, free_port: int) -> None:
    pytest.importorskip("redis")
    from covet.cache import CacheMiddleware, RedisCache
    from covet.ratelimit import RateLimitMiddleware
    from covet.ratelimit.redis import RedisBackend
    from covet.sessions import RedisStore, SessionMiddleware

    cache = RedisCache(redis_url, prefix=redis_prefix + "cache:")
    limits = RedisBackend(redis_url, prefix=redis_prefix + "rl:")
    app = Covet()
    app.add_middleware(CacheMiddleware, cache=cache)
    app.add_middleware(RateLimitMiddleware, backend=limits, limit=None)
    app.add_middleware(SessionMiddleware, secret_key="k" * 32, store=RedisStore(redis_url, prefix=redis_prefix))
    HealthChecks(app, databases=False)
    try:
        async with AsyncTestClient(app) as client:
            r = await client.get("/health/ready")
        assert r.status_code == 200, r.text
        assert set(r.json()["checks"]) == {"redis:cache", "redis:ratelimit", "redis:sessions"}
    finally:
        await cache.close()
        await limits.close()

    down = RedisCache(f"redis://:{PASSWORD}@127.0.0.1:{free_port}/0", socket_timeout=1)
    app = Covet()
    app.add_middleware(CacheMiddleware, cache=down)
    HealthChecks(app, databases=False, timeout=3)
    try:
        async with AsyncTestClient(app) as client:
            r = await client.get("/health/ready")
    finally:
        await down.close()
    assert r.status_code == 503
    failed = r.json()["checks"]["redis:cache"]
    assert failed["status"] == "fail" and failed["error"].startswith("ConnectionError"), failed
    assert PASSWORD not in r.text and "Traceback" not in r.text
