"""Two uvicorn processes sharing one Redis enforce one rate limit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.servers import serve

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.redis]

HERE = Path(__file__).parent


def _wait_healthy(url: str) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{url} did not become healthy in time")
        time.sleep(0.05)


@pytest.fixture
def two_servers(redis_url: str, redis_prefix: str) -> Iterator[list[str]]:
    env = {"RL_LIMIT": "5/minute", "RL_REDIS_URL": redis_url, "RL_PREFIX": redis_prefix}
    with serve("ratelimit_e2e_app:app", pythonpath=[HERE], env=env) as a, \
            serve("ratelimit_e2e_app:app", pythonpath=[HERE], env=env) as b:
        for url in (a, b):
            _wait_healthy(url)
        yield [a, b]


def test_one_limit_across_two_processes(two_servers: list[str]) -> None:
    a, b = two_servers
    with httpx.Client(timeout=5) as client:
        pids = {client.get(a + "/health").json()["pid"], client.get(b + "/health").json()["pid"]}
        assert len(pids) == 2  # really two processes
        codes = [client.get(url + "/").status_code for url in (a, b, a, b, a, b)]
        assert codes == [200, 200, 200, 200, 200, 429]
        limited = client.get(a + "/")
        assert limited.status_code == 429
        assert limited.headers["ratelimit-limit"] == "5"
        assert limited.headers["ratelimit-remaining"] == "0"
        assert int(limited.headers["retry-after"]) >= 1


def test_route_limit_shared_across_processes(two_servers: list[str]) -> None:
    a, b = two_servers
    with httpx.Client(timeout=5) as client:
        codes = [client.get(url + "/login").status_code for url in (a, b, a)]
    assert codes == [200, 200, 429]
