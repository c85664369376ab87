"""The monitoring endpoints under real servers, scraped with httpx and parsed with
prometheus_client's parser: route-template labels and exact counts."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from support.servers import serve

pytestmark = pytest.mark.e2e
httpx = pytest.importorskip("httpx")
pytest.importorskip("prometheus_client")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

HERE = Path(__file__).parent
TEMPLATES = {"/users/{user_id:int}", "/users", "/api/items/{slug:slug}", "/metrics",
             "/health/live", "/health/ready", "<unmatched>"}  # fmt: skip


def scrape(client: httpx.Client, url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = client.get(url + "/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text) for s in family.samples
    }  # fmt: skip


def requests_total(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> Counter[tuple[str, str, str]]:
    out: Counter[tuple[str, str, str]] = Counter()
    for (name, labels), value in samples.items():
        if name == "covet_http_requests_total":
            d = dict(labels)
            out[(d["method"], d["route"], d["status"])] += int(value)
    return out


def wait_live(client: httpx.Client, url: str) -> None:
    deadline = time.monotonic() + 20
    while client.get(url + "/health/live").status_code != 200:  # pragma: no cover - start-up race
        if time.monotonic() > deadline:
            pytest.fail("the app did not become live")
        time.sleep(0.05)


def test_uvicorn_metrics_and_health(tmp_path: Path) -> None:
    with serve("monitoring_e2e_app:app", server="uvicorn", pythonpath=[HERE],
               env={"MON_DB": str(tmp_path / "app.db")}) as url, httpx.Client(timeout=10) as client:  # fmt: skip
        assert client.get(url + "/health/live").json() == {"status": "pass"}
        ready = client.get(url + "/health/ready")
        assert ready.status_code == 200
        assert ready.json()["checks"]["database:e2e"]["status"] == "pass"
        for i in range(5):
            assert client.get(f"{url}/users/{i}").status_code == 200
        assert client.post(url + "/users").status_code == 201
        for path in ("/api/items/red-shoe", "/api/items/blue-hat"):
            assert client.get(url + path).status_code == 200
        for path in ("/nope", "/users/abc", "/api/items/a/b"):
            assert client.get(url + path).status_code == 404
        assert client.delete(url + "/users/1").status_code == 405
        samples = scrape(client, url)

    counts = requests_total(samples)
    assert counts == {
        ("GET", "/health/live", "200"): 1,
        ("GET", "/health/ready", "200"): 1,
        ("GET", "/users/{user_id:int}", "200"): 5,
        ("POST", "/users", "201"): 1,
        ("GET", "/api/items/{slug:slug}", "200"): 2,
        ("GET", "<unmatched>", "404"): 3,
        ("DELETE", "<unmatched>", "405"): 1,
    }
    route = (("method", "GET"), ("route", "/users/{user_id:int}"), ("status", "200"))
    assert samples[("covet_http_request_duration_seconds_count", route)] == 5
    assert samples[("covet_http_requests_in_progress", ())] == 1  # the scrape itself
    routes = {dict(labels).get("route") for _, labels in samples} - {None}
    assert routes <= TEMPLATES
    # five handler queries plus the readiness probe's SELECT 1
    assert samples[("covet_db_queries_total", (("database", "e2e"), ("method", "fetch_one")))] == 6
    assert samples[("covet_db_pool_size", (("database", "e2e"), ("pool", "primary")))] == 1


def test_covet_run_workers_share_one_multiprocess_registry(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "prom"
    metrics_dir.mkdir()
    env = {"MON_DB": str(tmp_path / "app.db"), "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    with serve("monitoring_e2e_app:app", server="builtin", pythonpath=[HERE], env=env,
               extra_args=["--workers", "2", "--no-access-log"]) as url, httpx.Client(timeout=10) as client:  # fmt: skip
        wait_live(client, url)
        pids = set()
        for i in range(20):  # a fresh connection each: any worker may accept it
            r = httpx.get(f"{url}/users/{i}", timeout=10)
            assert r.status_code == 200
            pids.add(r.json()["pid"])
        first = requests_total(scrape(httpx.Client(timeout=10), url))
        second = requests_total(scrape(httpx.Client(timeout=10), url))
    assert first[("GET", "/users/{user_id:int}", "200")] == 20
    assert second[("GET", "/users/{user_id:int}", "200")] == 20
    assert second[("GET", "/metrics", "200")] == first[("GET", "/metrics", "200")] + 1
    # each worker wrote its own files; stopping gracefully took its live gauges out
    files = {p.name for p in metrics_dir.iterdir()}
    assert {f"counter_{pid}.db" for pid in pids} <= files
    assert not {f"gauge_livesum_{pid}.db" for pid in pids} & files
