"""``PrometheusMetrics``: request metrics by route template, WebSocket and database
metrics, the ``/metrics`` endpoint, and set-up errors."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("prometheus_client")

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from covet import Covet, Depends, HTTPException, Request, Router, WebSocket
from covet.db import Database
from covet.db import database as db_registry
from covet.exceptions import ImproperlyConfigured, MissingDependency
from covet.http import PlainTextResponse
from covet.monitoring import PrometheusMetrics
from covet.monitoring.metrics import UNMATCHED
from covet.testing import TestClient


@pytest.fixture(autouse=True)
def empty_db_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(db_registry, "_registry", {})
    yield


def build(**options: Any) -> tuple[Covet, PrometheusMetrics]:
    app = Covet()

    @app.get("/users/{user_id:int}")
    async def get_user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    @app.post("/users", status_code=201)
    async def create_user() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/teapot")
    async def teapot() -> None:
        raise HTTPException(418)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("bug")

    @app.websocket("/ws/{room}")
    async def chat(ws: WebSocket, room: str) -> None:
        await ws.accept()
        await ws.send_text(str(metrics.registry.get_sample_value("covet_websocket_connections",
                                                                 {"route": "/ws/{room}"})))  # fmt: skip
        await ws.receive_text()
        await ws.close()

    api = Router(prefix="/api/v1")

    @api.get("/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        return {"id": item_id}

    app.include_router(api)

    async def static(scope: Any, receive: Any, send: Any) -> None:
        await PlainTextResponse("file")(scope, receive, send)

    app.mount("/static", static)
    metrics = PrometheusMetrics(app, **options)
    return app, metrics


def requests_total(metrics: PrometheusMetrics, method: str, route: str, status: str) -> float | None:
    return metrics.registry.get_sample_value(
        "covet_http_requests_total", {"method": method, "route": route, "status": status}
    )


def test_requests_are_counted_by_route_template_method_and_status() -> None:
    app, metrics = build()
    with TestClient(app, raise_server_exceptions=False) as client:
        for i in range(3):
            assert client.get(f"/users/{i}").status_code == 200
        client.post("/users")
        client.get("/teapot")
        assert client.get("/boom").status_code == 500
        client.get("/api/v1/items/abc")
        client.get("/api/v1/items/xyz")
        client.get("/static/css/site.css")
        client.get("/nowhere/1")
        client.get("/nowhere/2")
        client.post("/users/1")  # 405: the path matched, no route for the method
        client.request("BREW", "/users/1")
    assert requests_total(metrics, "GET", "/users/{user_id:int}", "200") == 3
    assert requests_total(metrics, "POST", "/users", "201") == 1
    assert requests_total(metrics, "GET", "/teapot", "418") == 1
    assert requests_total(metrics, "GET", "/boom", "500") == 1
    assert requests_total(metrics, "GET", "/api/v1/items/{item_id}", "200") == 2
    assert requests_total(metrics, "GET", "/static/{path:path}", "200") == 1
    assert requests_total(metrics, "GET", UNMATCHED, "404") == 2
    assert requests_total(metrics, "POST", UNMATCHED, "405") == 1
    assert requests_total(metrics, "OTHER", UNMATCHED, "405") == 1
    text = generate_latest(metrics.registry).decode()
    labels = {s.labels["route"] for f in text_string_to_metric_families(text) for s in f.samples
              if "route" in s.labels}  # fmt: skip
    assert not any(r.startswith(("/users/0", "/users/1", "/nowhere", "/static/css")) for r in labels)


def test_latency_histogram_and_in_progress_gauge() -> None:
    app, metrics = build(buckets=(0.5, 10.0))
    with TestClient(app) as client:
        client.get("/users/1")
        client.get("/users/2")
    labels = {"method": "GET", "route": "/users/{user_id:int}", "status": "200"}
    sample = metrics.registry.get_sample_value
    assert sample("covet_http_request_duration_seconds_count", labels) == 2
    assert sample("covet_http_request_duration_seconds_bucket", {**labels, "le": "10.0"}) == 2
    assert 0 < (sample("covet_http_request_duration_seconds_sum", labels) or 0) < 10
    assert sample("covet_http_requests_in_progress") == 0


def test_websocket_connections_gauge() -> None:
    app, metrics = build()
    with TestClient(app) as client:
        with client.websocket_connect("/ws/lobby") as ws:
            assert ws.receive_text() == "1.0"  # counted once accepted
            ws.send_text("bye")
        assert metrics.registry.get_sample_value("covet_websocket_connections", {"route": "/ws/{room}"}) == 0


def test_database_statements_errors_and_pool_gauges(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'm.db'}", alias="main", max_size=3)
    app, metrics = build()

    @app.get("/count")
    async def count() -> dict[str, int]:
        await db.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY)")
        await db.fetch_all("SELECT id FROM t")
        try:
            await db.fetch_all("SELECT nope FROM t")
        except Exception:
            pass
        return {"n": 0}

    sample = metrics.registry.get_sample_value
    with TestClient(app) as client:
        client.get("/count")
        assert sample("covet_db_queries_total", {"database": "main", "method": "fetch_all"}) == 2
        assert sample("covet_db_queries_total", {"database": "main", "method": "execute"}) == 1
        assert sample("covet_db_query_duration_seconds_count", {"database": "main", "method": "fetch_all"}) == 2
        assert sample("covet_db_query_errors_total",
                      {"database": "main", "method": "fetch_all", "error": "ProgrammingError"}) == 1  # fmt: skip
        pool = {"database": "main", "pool": "primary"}
        assert sample("covet_db_pool_max_size", pool) == 3
        assert sample("covet_db_pool_size", pool) == 1
        assert sample("covet_db_pool_in_use", pool) == 0
        assert sample("covet_db_pool_waiting", pool) == 0
    # after shutdown the listener is gone: statements are no longer counted
    assert not db._observers.listeners
    assert sample("covet_db_pool_size", {"database": "main", "pool": "primary"}) is None


def test_metrics_endpoint_formats_and_openapi() -> None:
    app, _metrics = build()
    with TestClient(app) as client:
        client.get("/users/7")
        r = client.get("/metrics")
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
        families = {f.name: f for f in text_string_to_metric_families(r.text)}
        assert "process_cpu_seconds" in families or "python_info" in families
        counts = {tuple(sorted(s.labels.items())): s.value
                  for s in families["covet_http_requests"].samples if s.name.endswith("_total")}  # fmt: skip
        assert counts[(("method", "GET"), ("route", "/users/{user_id:int}"), ("status", "200"))] == 1
        om = client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
        assert om.headers["content-type"].startswith("application/openmetrics-text")
        assert om.text.endswith("# EOF\n")
    assert "/metrics" not in app.openapi()["paths"]


def test_two_apps_have_separate_registries() -> None:
    app_a, metrics_a = build()
    app_b, metrics_b = build(process_metrics=False, namespace="shop")
    with TestClient(app_a) as a, TestClient(app_b) as b:
        a.get("/users/1")
        b.get("/users/1")
        b.get("/users/2")
    assert requests_total(metrics_a, "GET", "/users/{user_id:int}", "200") == 1
    assert metrics_b.registry.get_sample_value(
        "shop_http_requests_total", {"method": "GET", "route": "/users/{user_id:int}", "status": "200"}
    ) == 2
    assert metrics_b.registry.get_sample_value("process_cpu_seconds_total") is None


def test_metrics_route_can_be_guarded_or_left_out() -> None:
    async def token(request: Request) -> None:
        if request.headers.get("authorization") != "Bearer scrape":
            raise HTTPException(401)

    app, _ = build(dependencies=[Depends(token)], path="/internal/metrics")
    with TestClient(app) as client:
        assert client.get("/internal/metrics").status_code == 401
        assert client.get("/internal/metrics", headers={"Authorization": "Bearer scrape"}).status_code == 200
    app, _ = build(path=None)
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 404


def test_missing_prometheus_client_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)
    with pytest.raises(MissingDependency, match=r"covetpy\[metrics\]"):
        PrometheusMetrics(Covet())


def test_multiprocess_dir_set_too_late_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    with pytest.raises(ImproperlyConfigured, match="before the process starts"):
        PrometheusMetrics(Covet())


MULTIPROCESS_CHILD = """
import os, sys
from covet import Covet
from covet.db import Database
from covet.monitoring import PrometheusMetrics
from covet.testing import TestClient

app = Covet()
db = Database("sqlite:///" + os.environ["APP_DB"], alias="main")

@app.get("/users/{user_id:int}")
async def get_user(user_id: int) -> dict:
    await db.fetch_val("SELECT 1")
    return {"id": user_id}

metrics = PrometheusMetrics(app)
with TestClient(app) as client:
    for i in range(int(sys.argv[1])):
        client.get(f"/users/{i}")
    if sys.argv[2] == "scrape":
        print(client.get("/metrics").text)
"""


def test_multiprocess_mode_aggregates_processes(tmp_path: Path) -> None:
    """Two processes write to one PROMETHEUS_MULTIPROC_DIR; a third scrapes the sum."""
    (tmp_path / "metrics").mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), "APP_DB": str(tmp_path / "app.db"),
           "PATH": "/usr/bin:/bin"}  # fmt: skip
    for n in ("3", "4"):
        subprocess.run([sys.executable, "-c", MULTIPROCESS_CHILD, n, "quiet"], env=env, check=True, timeout=60)
    out = subprocess.run([sys.executable, "-c", MULTIPROCESS_CHILD, "5", "scrape"], env=env,
                         check=True, timeout=60, capture_output=True, text=True).stdout  # fmt: skip
    totals = {
        (s.labels["route"], s.labels["status"]): s.value
        for f in text_string_to_metric_families(out) if f.name == "covet_http_requests"
        for s in f.samples if s.name == "covet_http_requests_total"
    }  # fmt: skip
    assert totals[("/users/{user_id:int}", "200")] == 12
    gauges = [s for f in text_string_to_metric_families(out) if f.name == "covet_http_requests_in_progress"
              for s in f.samples]  # fmt: skip
    assert [g.value for g in gauges] == [1.0]  # only the scraping request, dead workers left out
    values = {(s.name, tuple(sorted(s.labels.items()))): s.value
              for f in text_string_to_metric_families(out) for s in f.samples}  # fmt: skip
    assert values[("covet_db_queries_total", (("database", "main"), ("method", "fetch_one")))] == 12
    pool = (("database", "main"), ("pool", "primary"))
    assert values[("covet_db_pool_size", pool)] == 1  # sampled by the live (scraping) process
    assert values[("covet_db_pool_max_size", pool)] == 10
