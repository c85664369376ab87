"""TestClient / AsyncTestClient against plain ASGI apps (no CovetPy app needed)."""

from __future__ import annotations

import json

import pytest

from covet.testing import AsyncTestClient, TestClient


async def echo_app(scope, receive, send):  # type: ignore[no-untyped-def]
    """Echoes the request as JSON; a few paths set cookies or redirect."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                scope["state"]["ready"] = True
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    path = scope["path"]
    headers = [(b"content-type", b"application/json")]
    status = 200
    if path == "/login":
        headers.append((b"set-cookie", b"sid=abc123; Path=/; HttpOnly"))
    elif path == "/logout":
        headers.append((b"set-cookie", b"sid=; Path=/; Max-Age=0"))
    elif path == "/see-other":
        status, headers = 303, [*headers, (b"location", b"/landed")]
    elif path == "/temporary":
        status, headers = 307, [*headers, (b"location", b"/landed")]
    payload = {
        "method": scope["method"],
        "path": path,
        "query": scope["query_string"].decode(),
        "headers": {k.decode(): v.decode() for k, v in scope["headers"]},
        "body": body.decode("latin-1"),
        "state": dict(scope.get("state", {})),
    }
    out = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": out})


def test_query_headers_and_json_body() -> None:
    client = TestClient(echo_app)
    r = client.post("/x", params={"tag": ["a", "b"], "flag": True}, json={"k": "ü"}, headers={"X-A": "1"})
    data = r.json()
    assert data["query"] == "tag=a&tag=b&flag=true"
    assert data["headers"]["x-a"] == "1"
    assert data["headers"]["content-type"] == "application/json"
    assert json.loads(data["body"].encode("latin-1")) == {"k": "ü"}
    assert data["headers"]["content-length"] == str(len(data["body"].encode("latin-1")))
    client.close()


def test_lifespan_runs_in_with_block_and_state_reaches_requests() -> None:
    with TestClient(echo_app) as client:
        assert client.get("/").json()["state"] == {"ready": True}


def test_cookies_persist_and_expire() -> None:
    with TestClient(echo_app) as client:
        client.get("/login")
        assert client.cookies["sid"] == "abc123"
        assert client.get("/me").json()["headers"]["cookie"] == "sid=abc123"
        client.get("/logout")
        assert "sid" not in client.cookies
        assert "cookie" not in client.get("/me").json()["headers"]


def test_redirects() -> None:
    with TestClient(echo_app) as client:
        r = client.post("/see-other", content=b"x")
        assert r.json()["method"] == "GET" and r.json()["path"] == "/landed"
        assert [h.status_code for h in r.history] == [303]
        r = client.post("/temporary", content=b"payload")
        assert r.json()["method"] == "POST" and r.json()["body"] == "payload"
        r = client.get("/see-other", follow_redirects=False)
        assert r.status_code == 303 and r.is_redirect


def test_form_and_multipart_encoding() -> None:
    with TestClient(echo_app) as client:
        r = client.post("/f", data={"a": "1", "b": ["x", "y"]}).json()
        assert r["headers"]["content-type"] == "application/x-www-form-urlencoded"
        assert r["body"] == "a=1&b=x&b=y"
        r = client.post("/f", data={"title": "t"}, files={"upload": ("a.txt", b"hello", "text/plain")}).json()
        assert r["headers"]["content-type"].startswith("multipart/form-data; boundary=")
        assert 'name="upload"; filename="a.txt"' in r["body"] and "hello" in r["body"]


async def test_async_client() -> None:
    async with AsyncTestClient(echo_app) as client:
        r = await client.get("/a", params={"q": "1"})
        assert r.json()["query"] == "q=1" and r.json()["state"] == {"ready": True}


def test_app_that_sends_nothing_is_an_error() -> None:
    async def silent(scope, receive, send):  # type: ignore[no-untyped-def]
        return None

    with pytest.raises(RuntimeError, match="without sending a response"):
        TestClient(silent).get("/")


def test_app_exception_propagates_or_becomes_500() -> None:
    async def broken(scope, receive, send):  # type: ignore[no-untyped-def]
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        TestClient(broken).get("/")
    assert TestClient(broken, raise_server_exceptions=False).get("/").status_code == 500


def test_websocket_session() -> None:
    async def ws_app(scope, receive, send):  # type: ignore[no-untyped-def]
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept", "subprotocol": "chat"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            await send({"type": "websocket.send", "text": (message.get("text") or "").upper()})

    with TestClient(ws_app) as client, client.websocket_connect("/ws", subprotocols=["chat"]) as ws:
        assert ws.accepted_subprotocol == "chat"
        ws.send_text("hi")
        assert ws.receive_text() == "HI"


def test_content_encoding_is_undone_like_an_http_client() -> None:
    import gzip

    payload = b"hello " * 100

    async def gz_app(scope, receive, send):  # type: ignore[no-untyped-def]
        body = gzip.compress(payload)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-encoding", b"gzip"), (b"content-length", b"%d" % len(body))]})
        await send({"type": "http.response.body", "body": body})

    r = TestClient(gz_app).get("/")
    assert r.content == payload and r.text == payload.decode()
    assert gzip.decompress(r.raw_content) == payload


def test_bytes_headers_are_sent_as_bytes_not_their_repr() -> None:
    with TestClient(echo_app) as client:
        headers = client.get("/", headers={b"x-raw": b"raw-value"}).json()["headers"]
    assert headers["x-raw"] == "raw-value"


def test_cookie_jar_behaves_like_a_mapping() -> None:
    with TestClient(echo_app) as client:
        client.get("/login")
        assert dict(client.cookies) == {"sid": "abc123"}
        assert list(client.cookies) == ["sid"] and len(client.cookies) == 1


def test_several_files_under_one_field() -> None:
    files = [("docs", ("a.txt", b"first", "text/plain")), ("docs", ("b.txt", b"second", "text/plain"))]
    with TestClient(echo_app) as client:
        body = client.post("/f", files=files).json()["body"]
    assert body.count('name="docs"') == 2 and "first" in body and "second" in body
