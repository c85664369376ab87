"""Two uvicorn processes sharing one Redis enforce one rate limit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.redis]

HERE = Path(__file__).parent


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def two_servers(redis_url: str, redis_prefix: str) -> Iterator[list[str]]:
    env = {
        **os.environ,
        "RL_LIMIT": "5/minute",
        "RL_REDIS_URL": redis_url,
        "RL_PREFIX": redis_prefix,
        "PYTHONPATH": str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    ports = [_port(), _port()]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "ratelimit_e2e_app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--lifespan",
                "on",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        deadline = time.monotonic() + 20
        for url, proc in zip(urls, procs, strict=True):
            while True:
                if proc.poll() is not None:
                    out = proc.stdout.read().decode() if proc.stdout else ""
                    pytest.fail(f"server exited early: {out}")
                try:
                    if httpx.get(url + "/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail("server did not start in time")
                time.sleep(0.05)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


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
