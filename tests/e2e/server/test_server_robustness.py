"""Hostile clients over raw sockets: smuggling, oversized heads, slowloris, timeouts,
graceful shutdown and worker supervision."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.e2e

SMUGGLING = {
    "cl-and-te": (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    "conflicting-cl": (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        400,
    ),
    "te-obfuscated": (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    "bad-chunk-size": (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nabcde\r\n0\r\n\r\n",
        400,
    ),
    "obs-fold": (b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n", 400),
    "bare-lf": (b"GET / HTTP/1.1\nHost: x\n\n", 400),
    "bad-header-name": (b"GET / HTTP/1.1\r\nHost: x\r\nX A: b\r\n\r\n", 400),
    "ctl-in-value": (b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n", 400),
    "missing-host": (b"GET / HTTP/1.1\r\n\r\n", 400),
    "huge-request-line": (b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    "huge-headers": (
        b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"b" * 20000 + b"\r\n\r\n",
        431,
    ),
    "too-big-body": (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", 413),
}


@pytest.mark.parametrize("case", sorted(SMUGGLING))
def test_malformed_requests_answered_and_closed(
    serve: Any, echo: Any, raw_client: Any, case: str
) -> None:
    data, status = SMUGGLING[case]
    with serve(echo, max_body_size=1_000_000) as (host, port):
        client = raw_client(host, port)
        client.send(data)
        got, headers, _ = client.read_response()
        assert got == status
        assert headers[b"connection"] == b"close"
        assert client.is_closed()


def test_smuggled_request_after_valid_one_never_reaches_app(serve: Any, raw_client: Any) -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    with serve(app) as (host, port):
        client = raw_client(host, port)
        client.send(
            b"GET /first HTTP/1.1\r\nHost: x\r\n\r\n"
            b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        assert client.read_response()[0] == 200
        assert client.read_response()[0] == 400
        assert client.is_closed()
    assert seen == ["/first"]


def test_slowloris_cut_off_while_others_served(serve: Any, echo: Any, raw_client: Any) -> None:
    with serve(echo, timeout_header=1.0) as (host, port):
        slow = raw_client(host, port)
        result: dict[str, Any] = {}

        def drip() -> None:
            start = time.monotonic()
            try:
                for byte in b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
                    slow.send(bytes([byte]))
                    time.sleep(0.2)
            except OSError:
                pass
            result["elapsed"] = time.monotonic() - start

        thread = threading.Thread(target=drip)
        thread.start()
        with httpx.Client(base_url=f"http://{host}:{port}") as client:
            for i in range(20):
                assert client.get(f"/ok{i}").status_code == 200
        thread.join(10)
        assert result["elapsed"] < 3.0
        status, _, _ = slow.read_response()
        assert status == 408


def test_idle_keep_alive_connection_closed(serve: Any, echo: Any, raw_client: Any) -> None:
    with serve(echo, timeout_keep_alive=0.3) as (host, port):
        client = raw_client(host, port)
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert client.read_response()[0] == 200
        start = time.monotonic()
        assert client.is_closed(timeout=3)
        assert time.monotonic() - start < 2


def test_stalled_body_times_out(serve: Any, echo: Any, raw_client: Any) -> None:
    with serve(echo, timeout_read=0.3) as (host, port):
        client = raw_client(host, port)
        client.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-part")
        assert client.is_closed(timeout=3)


def test_pipelined_flood_is_bounded(serve: Any, echo: Any, raw_client: Any) -> None:
    with serve(echo, max_pipelined_requests=4) as (host, port):
        client = raw_client(host, port)
        client.send(b"GET /p HTTP/1.1\r\nHost: x\r\n\r\n" * 200)
        for _ in range(200):
            assert client.read_response()[0] == 200


def _write_app(tmp_path: Path) -> Path:
    app = tmp_path / "slowapp.py"
    app.write_text(
        textwrap.dedent(
            """
            import asyncio, os, pathlib

            MARK = pathlib.Path(__file__).with_name("lifespan.log")

            async def app(scope, receive, send):
                if scope["type"] == "lifespan":
                    while True:
                        message = await receive()
                        if message["type"] == "lifespan.startup":
                            await send({"type": "lifespan.startup.complete"})
                        else:
                            with MARK.open("a") as fh:
                                fh.write(f"shutdown {os.getpid()}\\n")
                            await send({"type": "lifespan.shutdown.complete"})
                            return
                if scope["path"] == "/slow":
                    with MARK.with_name("inflight.log").open("a") as fh:
                        fh.write("started\\n")
                    await asyncio.sleep(1.0)
                await send({"type": "http.response.start", "status": 200, "headers": []})
                await send({"type": "http.response.body", "body": str(os.getpid()).encode()})
            """
        )
    )
    return app


def _start(tmp_path: Path, port: int, **options: Any) -> subprocess.Popen[bytes]:
    _write_app(tmp_path)
    opts = {
        "port": port,
        "app_dir": str(tmp_path),
        "access_log": False,
        "timeout_graceful_shutdown": 5,
        **options,
    }
    code = f"from covet.server import run; run('slowapp:app', **{opts!r})"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=0.5)
            return proc
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server did not start")


def test_graceful_shutdown_loses_no_in_flight_request(tmp_path: Path, free_port: int) -> None:
    proc = _start(tmp_path, free_port)
    try:
        results: list[Any] = []

        def slow_request() -> None:
            try:
                results.append(httpx.get(f"http://127.0.0.1:{free_port}/slow", timeout=10))
            except httpx.HTTPError as exc:
                results.append(exc)

        threads = [threading.Thread(target=slow_request) for _ in range(5)]
        for thread in threads:
            thread.start()
        inflight = tmp_path / "inflight.log"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if inflight.exists() and len(inflight.read_text().splitlines()) == 5:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
        for thread in threads:
            thread.join(10)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(results) == 5
    assert all(isinstance(r, httpx.Response) and r.status_code == 200 for r in results), results
    assert (tmp_path / "lifespan.log").read_text().startswith("shutdown")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{free_port}/", timeout=1)


def test_workers_share_socket_dead_worker_replaced_and_sighup_restarts(
    tmp_path: Path, free_port: int
) -> None:
    proc = _start(tmp_path, free_port, workers=2, worker_restart_delay=0.1)
    try:
        pids = set()
        for _ in range(40):
            with httpx.Client() as client:  # a new connection each time
                pids.add(int(client.get(f"http://127.0.0.1:{free_port}/").text))
            if len(pids) == 2:
                break
        victim = next(iter(pids))
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 10
        new_pids: set[int] = set()
        while time.monotonic() < deadline and not (new_pids - pids):
            try:
                with httpx.Client() as client:
                    new_pids.add(int(client.get(f"http://127.0.0.1:{free_port}/", timeout=1).text))
            except httpx.TransportError:
                time.sleep(0.05)
        assert new_pids - pids, "no replacement worker served a request"
        assert victim not in new_pids
        before_hup = pids | new_pids
        proc.send_signal(signal.SIGHUP)  # rolling restart of every worker
        deadline = time.monotonic() + 15
        after_hup: set[int] = set()
        while time.monotonic() < deadline and len(after_hup - before_hup) < 2:
            try:
                with httpx.Client() as client:
                    after_hup.add(int(client.get(f"http://127.0.0.1:{free_port}/", timeout=1).text))
            except httpx.TransportError:
                time.sleep(0.05)
        assert len(after_hup - before_hup) >= 2, (before_hup, after_hup)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    log = (tmp_path / "lifespan.log").read_text().splitlines()
    assert len(log) >= 2  # every surviving worker ran lifespan shutdown


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.parametrize("http_parser", ["python", "httptools"])
@pytest.mark.parametrize("chunked", [False, True])
def test_big_upload_streams_with_flat_memory(
    tmp_path: Path, free_port: int, http_parser: str, chunked: bool
) -> None:
    (tmp_path / "counter.py").write_text(
        textwrap.dedent(
            """
            async def app(scope, receive, send):
                if scope["type"] != "http":
                    return
                total = 0
                while True:
                    message = await receive()
                    total += len(message.get("body", b""))
                    if not message.get("more_body"):
                        break
                await send({"type": "http.response.start", "status": 200, "headers": []})
                await send({"type": "http.response.body", "body": str(total).encode()})
            """
        )
    )
    opts = {
        "port": free_port,
        "app_dir": str(tmp_path),
        "access_log": False,
        "lifespan": "off",
        "http_parser": http_parser,
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", f"from covet.server import run; run('counter:app', **{opts!r})"]
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{free_port}/", timeout=0.5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        baseline = _rss_kib(proc.pid)
        size = 256 * 1024 * 1024
        block = b"u" * (1024 * 1024)
        peak = [baseline]

        def body() -> Any:
            for i in range(size // len(block)):
                if i % 16 == 0:
                    peak.append(_rss_kib(proc.pid))
                yield block

        headers = {} if chunked else {"content-length": str(size)}
        response = httpx.post(
            f"http://127.0.0.1:{free_port}/", content=body(), headers=headers, timeout=60
        )
        assert response.text == str(size)
        growth_mib = (max(peak) - baseline) / 1024
        assert growth_mib < 24, f"server RSS grew by {growth_mib:.1f} MiB for a 256 MiB upload"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)


def test_partial_pipelined_head_does_not_kill_slow_response(serve: Any, raw_client: Any) -> None:
    async def slow(scope: Any, receive: Any, send: Any) -> None:
        import asyncio

        if scope["path"] == "/slow":
            await asyncio.sleep(0.8)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["path"].encode()})

    with serve(slow, timeout_header=0.3) as (host, port):
        client = raw_client(host, port)
        client.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\n")
        time.sleep(0.1)
        client.send(b"Host: x\r\n")
        assert client.read_response()[2] == b"/slow"
        client.send(b"\r\n")
        assert client.read_response()[2] == b"/next"
