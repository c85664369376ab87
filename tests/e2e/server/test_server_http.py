"""HTTP/1.1 end to end: httpx, raw sockets and h11 (a strict peer) against the server."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from typing import Any

import h11
import httpx
import pytest

pytestmark = pytest.mark.e2e


def test_httpx_get_post_head(serve: Any, echo: Any) -> None:
    with serve(echo) as (host, port), httpx.Client(base_url=f"http://{host}:{port}") as client:
        r = client.get("/a/b%20c", params={"q": "1"})
        assert r.status_code == 200
        assert r.text == "GET /a/b c q=1 "
        assert r.headers["server"] == "covet"
        assert r.headers["date"].endswith("GMT")
        assert r.headers["content-length"] == str(len(r.content))
        r = client.post("/p", content=b"x" * 5000)
        assert r.headers["x-body-length"] == "5000"
        r = client.head("/h")
        assert r.status_code == 200 and r.content == b""


def test_keep_alive_reuses_connection(serve: Any, echo: Any, raw_client: Any) -> None:
    with serve(echo) as (host, port):
        client = raw_client(host, port)
        for i in range(5):
            client.send(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % i)
            status, headers, body = client.read_response()
            assert status == 200 and body == b"GET /%d  " % i
            assert b"connection" not in headers
        client.send(b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status, headers, _ = client.read_response()
        assert headers[b"connection"] == b"close"
        assert client.is_closed()


def test_http10_closes_unless_keep_alive(serve: Any, echo: Any, raw_client: Any) -> None:
    with serve(echo) as (host, port):
        client = raw_client(host, port)
        client.send(b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        _, headers, _ = client.read_response()
        assert headers[b"connection"] == b"keep-alive"
        client.send(b"GET /b HTTP/1.0\r\n\r\n")
        _, headers, body = client.read_response()
        assert body == b"GET /b  "
        assert client.is_closed()


def test_pipelining_answers_in_order(serve: Any, echo: Any, raw_client: Any) -> None:
    with serve(echo) as (host, port):
        client = raw_client(host, port)
        client.send(
            b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
            b"POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
            b"POST /3 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
            b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /5 HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        bodies = [client.read_response()[2] for _ in range(5)]
        assert bodies == [
            b"GET /1  ",
            b"POST /2  hello",
            b"POST /3  abc",
            b"one,two,three",
            b"GET /5  ",
        ]


def test_chunked_request_and_response(serve: Any, echo: Any) -> None:
    def parts() -> Any:
        for i in range(50):
            yield b"%04d" % i

    with serve(echo) as (host, port), httpx.Client(base_url=f"http://{host}:{port}") as client:
        r = client.post("/up", content=parts())
        assert r.headers["x-body-length"] == "200"
        r = client.get("/stream")
        assert r.headers["transfer-encoding"] == "chunked"
        assert r.text == "one,two,three"


def test_expect_100_continue(serve: Any, echo: Any, raw_client: Any) -> None:
    with serve(echo) as (host, port):
        client = raw_client(host, port)
        client.send(
            b"POST /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"
        )
        assert client.read_until(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
        client.send(b"data")
        status, _, body = client.read_response()
        assert status == 200 and body == b"POST /e  data"


def test_expect_100_not_sent_when_app_answers_first(serve: Any, raw_client: Any) -> None:
    async def refuse(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 413, "headers": []})
        await send({"type": "http.response.body", "body": b"too big"})

    with serve(refuse) as (host, port):
        client = raw_client(host, port)
        client.send(
            b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 999999\r\n\r\n"
        )
        status, headers, body = client.read_response()
        assert status == 413 and body == b"too big"
        assert headers[b"connection"] == b"close"
        assert client.is_closed()


def test_h11_strict_peer(serve: Any, echo: Any) -> None:
    with serve(echo) as (host, port), socket.create_connection((host, port), timeout=5) as sock:
        conn = h11.Connection(h11.CLIENT)
        for target, body in ((b"/one", b""), (b"/stream", b""), (b"/two", b"payload")):
            headers = [(b"host", b"x")]
            if body:
                headers.append((b"content-length", str(len(body)).encode()))
            sock.sendall(
                conn.send(
                    h11.Request(method="POST" if body else "GET", target=target, headers=headers)
                )
            )
            if body:
                sock.sendall(conn.send(h11.Data(data=body)))
            sock.sendall(conn.send(h11.EndOfMessage()))
            received = b""
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(sock.recv(65536))
                    continue
                if isinstance(event, h11.Response):
                    assert event.status_code == 200
                    names = {n for n, _ in event.headers}
                    assert b"date" in names and b"server" in names
                elif isinstance(event, h11.Data):
                    received += event.data
                elif isinstance(event, h11.EndOfMessage):
                    break
            assert received.endswith(body) if body else received
            conn.start_next_cycle()


def test_head_and_no_content(serve: Any, raw_client: Any) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        status = 204 if scope["path"] == "/204" else 200
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-length", b"5")] if status == 200 else [],
            }
        )
        await send({"type": "http.response.body", "body": b"hello" if status == 200 else b""})

    with serve(app) as (host, port):
        client = raw_client(host, port)
        client.send(
            b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /204 HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        head = client.read_until(b"\r\n\r\n")
        assert b"content-length: 5" in head
        assert client.read_until(b"\r\n\r\n").startswith(b"HTTP/1.1 204 No Content")
        status, _, body = client.read_response()
        assert status == 200 and body == b"hello"


def test_app_errors_become_500(serve: Any, raw_client: Any) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["path"] == "/raise":
            raise ValueError("boom")
        if scope["path"] == "/nothing":
            return
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"bad\nname", b"x")]}
        )

    with serve(app) as (host, port):
        for path in (b"/raise", b"/nothing", b"/badheader"):
            client = raw_client(host, port)
            client.send(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            status, _headers, body = client.read_response()
            assert status == 500 and body == b"Internal Server Error"
            assert client.is_closed()


def test_streaming_backpressure_large_response(serve: Any, raw_client: Any) -> None:
    chunk = b"z" * 65536
    finished: list[float] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(512):  # 32 MiB: more than the socket buffers hold
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        finished.append(time.monotonic())

    with serve(app) as (host, port):
        client = raw_client(host, port)
        client.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.5)  # a slow reader: send() must wait for the transport to drain
        started_reading = time.monotonic()
        status, _, body = client.read_response()
        assert status == 200 and len(body) == 512 * 65536
    assert finished and finished[0] > started_reading


def test_lifespan_state_reaches_requests(serve: Any) -> None:
    events: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    scope["state"]["db"] = "connected"
                    events.append("startup")
                    await send({"type": "lifespan.startup.complete"})
                else:
                    events.append("shutdown")
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["state"]["db"].encode()})

    with serve(app, lifespan="on") as (host, port):
        assert httpx.get(f"http://{host}:{port}/").text == "connected"
    assert events == ["startup", "shutdown"]


def test_access_log(serve: Any, echo: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="covet.server.access")
    with serve(echo, access_log=True) as (host, port):
        httpx.get(f"http://{host}:{port}/logged?x=1")
    assert any('"GET /logged?x=1 HTTP/1.1" 200' in r.getMessage() for r in caplog.records)


async def test_serve_coroutine_and_unix_socket(tmp_path: Any) -> None:
    from covet.server import Config, Server

    path = str(tmp_path / "covet.sock")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"over unix"})

    server = Server(app, Config(uds=path, lifespan="off", access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    async with httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(uds=path)) as client:
        r = await client.get("http://localhost/")
    assert r.text == "over unix"
    server.should_exit = True
    await task


def _self_signed(tmp_path: Any) -> tuple[str, str]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_path), str(key_path)


def test_tls(serve: Any, tmp_path: Any) -> None:
    pytest.importorskip("cryptography")
    certfile, keyfile = _self_signed(tmp_path)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["scheme"].encode()})

    import ssl

    context = ssl.create_default_context(cafile=certfile)
    with (
        serve(app, ssl_certfile=certfile, ssl_keyfile=keyfile) as (host, port),
        httpx.Client(verify=context) as client,
    ):
        assert client.get(f"https://{host}:{port}/").text == "https"
        assert client.get(f"https://{host}:{port}/again").text == "https"


def test_half_closed_client_still_gets_responses(serve: Any, echo: Any, raw_client: Any) -> None:
    with serve(echo) as (host, port):
        client = raw_client(host, port)
        client.send(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        client.sock.shutdown(socket.SHUT_WR)
        assert client.read_response()[2] == b"GET /a  "
        assert client.read_response()[2] == b"GET /b  "
        assert client.is_closed()
