"""``HealthChecks``: liveness, readiness (concurrency, timeouts, caching, lifespan phases),
sanitised errors, database checks on SQLite and Redis discovery (no network)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from covet import Covet
from covet.db import Database
from covet.db import database as db_registry
from covet.exceptions import ImproperlyConfigured
from covet.monitoring import HealthChecks
from covet.monitoring.health import describe_error
from covet.testing import AsyncTestClient, TestClient


@pytest.fixture(autouse=True)
def empty_db_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Databases other tests left registered are not this module's business."""
    monkeypatch.setattr(db_registry, "_registry", {})
    yield


def make(**options: object) -> tuple[Covet, HealthChecks]:
    app = Covet()
    options.setdefault("redis", False)
    return app, HealthChecks(app, **options)  # type: ignore[arg-type]


def test_live_answers_without_running_checks() -> None:
    app, health = make()
    calls = 0

    @health.check("counted")
    async def counted() -> None:
        nonlocal calls
        calls += 1

    with TestClient(app) as client:
        r = client.get("/health/live")
        assert r.status_code == 200
        assert r.json() == {"status": "pass"}
        assert r.headers["cache-control"] == "no-store"
        assert r.headers["content-type"].startswith("application/json")
        assert client.head("/health/live").status_code == 200
    assert calls == 0


def test_ready_passes_and_reports_each_check() -> None:
    app, health = make()

    @health.check("one")
    async def one() -> None:
        return None

    @health.check("two")
    async def two() -> None:
        await asyncio.sleep(0)

    with TestClient(app) as client:
        r = client.get("/health/ready")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "pass"
    assert set(body["checks"]) == {"one", "two"}
    for result in body["checks"].values():
        assert result["status"] == "pass"
        assert result["duration_ms"] >= 0
        assert "error" not in result


def test_failing_check_gives_503_with_a_sanitised_error() -> None:
    app, health = make()

    @health.check("payments")
    async def payments() -> None:
        raise ConnectionError("cannot reach https://svc:hunter2@payments.internal/ (token=abc123)\nline 2")

    @health.check("fine")
    async def fine() -> None:
        return None

    with TestClient(app) as client:
        r = client.get("/health/ready")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "fail"
    assert body["checks"]["fine"]["status"] == "pass"
    failed = body["checks"]["payments"]
    assert failed["status"] == "fail"
    assert failed["error"] == "ConnectionError: cannot reach https://svc:***@payments.internal/ (token=***"
    assert "hunter2" not in r.text and "abc123" not in r.text
    assert "Traceback" not in r.text and "line 2" not in r.text


def test_expose_errors_false_shows_only_the_exception_class() -> None:
    app, health = make(expose_errors=False)

    @health.check("svc")
    async def svc() -> None:
        raise OSError("internal-host-7.example:5432 refused")

    with TestClient(app) as client:
        r = client.get("/health/ready")
    assert r.status_code == 503
    assert r.json()["checks"]["svc"]["error"] == "OSError"


def test_false_return_fails_and_non_critical_checks_only_warn() -> None:
    app, health = make()

    @health.check("optional-cache", critical=False)
    async def optional() -> None:
        raise RuntimeError("down")

    with TestClient(app) as client:
        r = client.get("/health/ready")
        assert r.status_code == 200
        assert r.json()["status"] == "warn"
        assert r.json()["checks"]["optional-cache"]["status"] == "warn"

    app, health = make()

    @health.check("flag")
    async def flag() -> bool:
        return False

    with TestClient(app) as client:
        r = client.get("/health/ready")
    assert r.status_code == 503
    assert r.json()["checks"]["flag"]["error"] == "CheckFailed: the check returned False"


def test_a_slow_check_times_out_and_does_not_hold_the_probe() -> None:
    app, health = make(timeout=5)

    @health.check("slow", timeout=0.05)
    async def slow() -> None:
        await asyncio.sleep(10)

    with TestClient(app) as client:
        start = time.monotonic()
        r = client.get("/health/ready")
        elapsed = time.monotonic() - start
    assert r.status_code == 503
    assert r.json()["checks"]["slow"] == {
        "status": "fail", "duration_ms": pytest.approx(50, abs=1000), "error": "timed out after 0.05s",
    }  # fmt: skip
    assert elapsed < 2


def test_checks_run_concurrently() -> None:
    """``waiter`` only passes if ``setter`` runs while it waits."""
    app, health = make(timeout=1)
    event: asyncio.Event | None = None

    @health.check("waiter")
    async def waiter() -> None:
        nonlocal event
        event = event or asyncio.Event()
        await event.wait()

    @health.check("setter")
    async def setter() -> None:
        nonlocal event
        event = event or asyncio.Event()
        event.set()

    with TestClient(app) as client:
        r = client.get("/health/ready")
    assert r.status_code == 200, r.text


async def test_results_are_cached_and_a_probe_storm_runs_the_checks_once() -> None:
    app, health = make(cache_ttl=60)
    calls = 0

    @health.check("db")
    async def db() -> None:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.02)

    async with AsyncTestClient(app) as client:
        answers = await asyncio.gather(*(client.get("/health/ready") for _ in range(20)))
        assert {a.status_code for a in answers} == {200}
        assert calls == 1
        assert (await client.get("/health/ready")).status_code == 200
        assert calls == 1


async def test_cache_ttl_zero_runs_every_probe() -> None:
    app, health = make(cache_ttl=0)
    calls = 0

    @health.check("db")
    async def db() -> None:
        nonlocal calls
        calls += 1

    async with AsyncTestClient(app) as client:
        for _ in range(3):
            await client.get("/health/ready")
    assert calls == 3


async def test_a_failure_is_cached_too_then_recovers(caplog: pytest.LogCaptureFixture) -> None:
    app, health = make(cache_ttl=0.05)
    up = False

    @health.check("flaky")
    async def flaky() -> None:
        if not up:
            raise ConnectionRefusedError("refused")

    async with AsyncTestClient(app) as client:
        with caplog.at_level("INFO", logger="covet.monitoring"):
            assert (await client.get("/health/ready")).status_code == 503
            up = True
            assert (await client.get("/health/ready")).status_code == 503  # cached
            await asyncio.sleep(0.06)
            assert (await client.get("/health/ready")).status_code == 200
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["health check 'flaky' failed: ConnectionRefusedError: refused",
                        "health check 'flaky' passes again"]  # fmt: skip


def test_not_ready_during_startup_and_shutdown() -> None:
    app, health = make()
    seen: dict[str, tuple[int, dict[str, object]]] = {}

    async def probe(label: str) -> None:
        status, body = await health.readiness()
        seen[label] = (status, json.loads(body))

    @app.on_event("startup")
    async def during_startup() -> None:
        await probe("startup")

    @app.on_event("shutdown")
    async def during_shutdown() -> None:
        await probe("shutdown")

    assert health.phase is None
    with TestClient(app) as client:
        assert health.phase == "started"
        assert client.get("/health/ready").status_code == 200
    assert health.phase == "stopped"
    assert seen["startup"] == (503, {"status": "fail", "phase": "starting", "checks": {}})
    assert seen["shutdown"] == (503, {"status": "fail", "phase": "stopping", "checks": {}})


def test_without_a_lifespan_the_checks_decide() -> None:
    app, _ = make()
    client = TestClient(app)  # no `with`: no lifespan
    try:
        assert client.get("/health/ready").status_code == 200
    finally:
        client.close()


def test_failed_startup_is_reported() -> None:
    app, health = make()

    @app.on_event("startup")
    async def broken() -> None:
        raise RuntimeError("no config")

    with pytest.raises(RuntimeError, match="start-up failed"), TestClient(app):
        pass
    assert health.phase == "failed"


def test_routes_stay_out_of_openapi_unless_asked() -> None:
    app, _ = make()
    assert not any(p.startswith("/health") for p in app.openapi()["paths"])
    app, _ = make(prefix="/_status", include_in_schema=True)
    assert {"/_status/live", "/_status/ready"} <= set(app.openapi()["paths"])
    assert app.url_path_for("health_ready") == "/_status/ready"


def test_sqlite_database_check_and_registry_discovery(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'a.db'}", alias="main")
    other = Database(f"sqlite:///{tmp_path / 'b.db'}", alias="reports")
    app, _ = make()
    queries: list[str] = []
    db.add_query_listener(lambda event: queries.append(event.sql))
    with TestClient(app) as client:
        r = client.get("/health/ready")
    assert r.status_code == 200, r.text
    assert set(r.json()["checks"]) == {"database:main", "database:reports"}
    assert queries == ["SELECT 1"]

    app, health = make(databases=[other])
    health.add_database(db, name="primary-db", critical=False)
    with TestClient(app) as client:
        assert set(client.get("/health/ready").json()["checks"]) == {"primary-db", "database:reports"}


def test_unreachable_sqlite_database_is_named_without_a_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "x.db"
    db = Database(f"sqlite:///{missing}", alias="ghost")
    db.unregister()  # the app's lifespan would fail to connect it
    app, _ = make(databases=[db])
    with TestClient(app) as client:
        r = client.get("/health/ready")
    assert r.status_code == 503
    result = r.json()["checks"]["database:ghost"]
    assert result["status"] == "fail"
    assert result["error"].split(":")[0] in ("OperationalError", "InterfaceError")
    assert "Traceback" not in r.text


def test_redis_backends_are_discovered_from_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("redis")
    from covet.cache import CacheMiddleware, RedisCache, TieredCache, decorators

    monkeypatch.setattr(decorators, "_default_cache", None)  # a memory cache: not checked
    from covet.ratelimit import RateLimitMiddleware
    from covet.ratelimit.redis import RedisBackend
    from covet.sessions import RedisStore, SessionMiddleware

    url = "redis://:pw0rd@127.0.0.1:1/0"
    app = Covet()
    app.add_middleware(CacheMiddleware, cache=TieredCache(RedisCache(url)))
    app.add_middleware(RateLimitMiddleware, backend=RedisBackend(url))
    app.add_middleware(SessionMiddleware, secret_key="k" * 32, store=RedisStore(url))
    health = HealthChecks(app, databases=False)
    checks = health._current_checks()
    assert [c.name for c in checks] == ["redis:cache", "redis:ratelimit", "redis:sessions"]
    assert all("pw0rd" in c.secrets for c in checks)

    app = Covet()  # a store given a client keeps it private: not discovered
    app.add_middleware(SessionMiddleware, secret_key="k" * 32, store=RedisStore(client=object()))
    assert HealthChecks(app, databases=False)._current_checks() == []


def test_add_redis_accepts_a_client_with_ping() -> None:
    app, health = make()
    pings = 0

    class FakeRedis:  # anything with an async ping(): here, a stand-in for redis.asyncio.Redis
        async def ping(self) -> bool:
            nonlocal pings
            pings += 1
            return True

    health.add_redis("redis:queue", FakeRedis())
    with TestClient(app) as client:
        assert client.get("/health/ready").json()["checks"]["redis:queue"]["status"] == "pass"
    assert pings == 1
    with pytest.raises(ImproperlyConfigured, match="cannot check"):
        health.add_redis("bad", 42)


def test_misconfiguration_is_refused_at_setup() -> None:
    _app, health = make()

    @health.check("x")
    async def x() -> None:
        return None

    with pytest.raises(ImproperlyConfigured, match="exists already"):
        health.add_check("x", x)
    with pytest.raises(ImproperlyConfigured, match="async function"):
        health.add_check("sync", lambda: None)  # type: ignore[arg-type]
    with pytest.raises(ImproperlyConfigured, match="positive"):
        health.add_check("y", x, timeout=0)
    with pytest.raises(ImproperlyConfigured, match="prefix"):
        HealthChecks(Covet(), prefix="health/")
    with pytest.raises(ImproperlyConfigured, match="cache_ttl"):
        HealthChecks(Covet(), cache_ttl=-1)


def test_describe_error() -> None:
    long = RuntimeError("x" * 500)
    assert len(describe_error(long)) == 200 and describe_error(long).endswith("...")
    assert describe_error(ValueError()) == "ValueError"
    assert describe_error(OSError("pw is s3cr3t"), ["s3cr3t"]) == "OSError: pw is ***"
    assert describe_error(OSError("PASSWORD: abc def")) == "OSError: PASSWORD: *** def"
    assert describe_error(OSError("redis://:abc@h:6379")) == "OSError: redis://:***@h:6379"
