"""The full middleware stack under a real server (uvicorn) with a real client (httpx)."""

from __future__ import annotations

import json
import socket
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from mw_e2e_server import serve
from websockets.sync.client import connect

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def access_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mw") / "access.log"


@pytest.fixture(scope="module")
def base_url(access_log: Path) -> Iterator[str]:
    with serve(1, MW_TRUSTED="127.0.0.1", MW_ACCESS_LOG=str(access_log)) as urls:
        yield urls[0]


def test_gzip_streaming_reaches_the_client_chunk_by_chunk(base_url: str) -> None:
    decoder = zlib.decompressobj(31)
    arrivals: list[tuple[float, bytes]] = []
    start = time.monotonic()
    with httpx.stream("GET", base_url + "/stream", headers={"accept-encoding": "gzip"}, timeout=10) as r:
        assert r.headers["content-encoding"] == "gzip"
        assert "content-length" not in r.headers
        assert "Accept-Encoding" in r.headers["vary"]
        for raw in r.iter_raw():
            data = decoder.decompress(raw)
            if data:
                arrivals.append((time.monotonic() - start, data))
    text = b"".join(d for _, d in arrivals)
    assert text == b"first chunk " * 10 + b"second chunk " * 10
    first_at = next(t for t, d in arrivals if d)
    assert first_at < 0.9  # the first chunk was not held back until the 1 s sleep ended
    assert arrivals[-1][0] >= 0.9


def test_timeout_answers_504_with_the_request_id_as_trace_id(base_url: str) -> None:
    r = httpx.get(base_url + "/slow", headers={"x-request-id": "e2e-trace-1"}, timeout=10)
    assert r.status_code == 504
    assert r.headers["x-request-id"] == "e2e-trace-1"
    assert r.json() == {"error": "Request timed out", "trace_id": "e2e-trace-1"}


def test_body_limit_on_declared_and_streamed_bodies(base_url: str) -> None:
    assert httpx.post(base_url + "/upload", content=b"x" * 1000).json() == {"size": 1000}
    declared = httpx.post(base_url + "/upload", content=b"x" * 70_000)
    assert declared.status_code == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"y" * 16_384

    streamed = httpx.post(base_url + "/upload", content=chunks(), timeout=10)
    assert streamed.status_code == 413
    assert "65536" in streamed.json()["error"]


def test_proxy_headers_pick_the_right_most_untrusted_address(base_url: str) -> None:
    r = httpx.get(base_url + "/whoami", headers={"x-forwarded-for": "6.6.6.6, 203.0.113.5", "x-forwarded-proto": "https"})
    assert r.json()["client"] == "203.0.113.5"
    assert r.json()["scheme"] == "https"
    assert "strict-transport-security" in r.headers  # the app now sees https


def test_cors_preflights(base_url: str) -> None:
    ok = httpx.options(
        base_url + "/me", headers={"origin": "https://spa.example", "access-control-request-method": "POST"}
    )
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://spa.example"
    assert ok.headers["access-control-allow-credentials"] == "true"
    bad = httpx.options(
        base_url + "/me", headers={"origin": "https://evil.example", "access-control-request-method": "POST"}
    )
    assert bad.status_code == 400
    assert "access-control-allow-origin" not in bad.headers


def test_session_and_csrf_flow(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as client:
        me = client.get("/me")
        assert me.headers["x-frame-options"] == "DENY"
        token = me.json()["csrf"]
        assert client.post("/login", data={"user": "bob"}).status_code == 403
        assert client.post("/login", data={"user": "bob", "csrf_token": "forged"}).status_code == 403
        r = client.post("/login", data={"user": "bob", "csrf_token": token})
        assert r.status_code == 200, r.text
        assert client.get("/me").json()["user"] == "bob"
        assert client.post("/hook").json() == {"hooked": True}  # @csrf_exempt
    # a tampered session cookie is an anonymous session, not an error
    tampered = httpx.get(base_url + "/me", cookies={"session": "eyJ0IjoxLCJkIjp7InVzZXIiOiJhZG1pbiJ9fQ.AAAA"})
    assert tampered.status_code == 200
    assert tampered.json()["user"] is None


def test_websocket_through_the_stack(base_url: str) -> None:
    ws_url = base_url.replace("http://", "ws://") + "/ws"
    with httpx.Client(base_url=base_url) as client:
        token = client.get("/me").json()["csrf"]
        client.post("/login", data={"user": "wendy", "csrf_token": token})
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    with connect(ws_url, additional_headers={"origin": "https://spa.example", "cookie": cookie}) as ws:
        ws.send("hi")
        assert ws.recv(timeout=5) == "hi:wendy:True"  # session and request id reach WebSockets


def test_websocket_from_a_disallowed_origin_or_host_is_refused(base_url: str) -> None:
    ws_url = base_url.replace("http://", "ws://") + "/ws"
    with pytest.raises(websockets.exceptions.InvalidStatus) as exc:
        connect(ws_url, additional_headers={"origin": "https://evil.example"}, open_timeout=5)
    assert exc.value.response.status_code == 403
    # a handshake for another host (raw socket: client libraries always send the real Host)
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            b"GET /ws HTTP/1.1\r\nHost: evil.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        assert sock.recv(1024).split(b"\r\n", 1)[0] == b"HTTP/1.1 403 Forbidden"


def test_bad_host_header_is_400(base_url: str) -> None:
    r = httpx.get(base_url + "/health", headers={"host": "evil.example"})
    assert r.status_code == 400
    assert r.json()["error"] == "Invalid host header"


def test_access_log_writes_one_json_line_per_request(base_url: str, access_log: Path) -> None:
    r = httpx.get(
        base_url + "/whoami?x=1",
        headers={"x-request-id": "log-line-1", "user-agent": "e2e-agent", "x-forwarded-for": "198.51.100.20"},
    )
    assert r.status_code == 200
    deadline = time.monotonic() + 5
    entry = None
    while entry is None and time.monotonic() < deadline:
        lines = access_log.read_text().splitlines() if access_log.exists() else []
        entry = next((json.loads(line) for line in lines if '"log-line-1"' in line), None)
        time.sleep(0.02)
    assert entry is not None
    assert entry["method"] == "GET" and entry["path"] == "/whoami" and entry["status"] == 200
    assert entry["bytes"] == len(r.content)
    assert entry["user_agent"] == "e2e-agent"
    assert entry["client"].startswith("198.51.100.20:")  # proxy headers ran outside the log
    assert entry["duration_ms"] >= 0
