"""Review: CacheMiddleware conditional requests and what may be shared."""

from __future__ import annotations

import httpx

from covet._types import Receive, Scope, Send
from covet.cache import CacheMiddleware, MemoryCache


async def _with_cookie(scope: Scope, receive: Receive, send: Send) -> None:
    headers = [
        (b"content-type", b"text/plain"),
        (b"etag", b'"v1"'),
        (b"set-cookie", b"session=rotated; Path=/; HttpOnly"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"page"})


def _client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")  # type: ignore[arg-type]


async def test_304_from_a_fresh_response_keeps_its_set_cookie() -> None:
    async with _client(CacheMiddleware(_with_cookie, cache=MemoryCache())) as c:
        response = await c.get("/", headers={"if-none-match": '"v1"'})
    assert response.status_code == 304
    assert response.headers["set-cookie"] == "session=rotated; Path=/; HttpOnly"


async def test_response_with_set_cookie_is_never_shared() -> None:
    cache = MemoryCache()
    async with _client(CacheMiddleware(_with_cookie, cache=cache)) as c:
        await c.get("/")
        second = await c.get("/")
    assert second.headers["x-cache"] == "MISS"
    assert len(cache) == 0


async def test_host_is_part_of_the_key() -> None:
    async def echo_host(scope: Scope, receive: Receive, send: Send) -> None:
        host = dict(scope["headers"]).get(b"host", b"")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": host})

    async with _client(CacheMiddleware(echo_host, cache=MemoryCache())) as c:
        assert (await c.get("/", headers={"host": "a.example"})).content == b"a.example"
        assert (await c.get("/", headers={"host": "b.example"})).content == b"b.example"


async def _pathsend_app(scope: Scope, receive: Receive, send: Send) -> None:
    headers = [(b"content-type", b"text/css"), (b"content-length", b"4")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.pathsend", "path": "/srv/static/app.css"})


async def test_pathsend_response_start_is_forwarded_first_and_not_stored() -> None:
    cache = MemoryCache()
    middleware = CacheMiddleware(_pathsend_app, cache=cache)
    scope = {
        "type": "http", "method": "GET", "scheme": "http", "path": "/app.css", "root_path": "",
        "query_string": b"", "headers": [(b"host", b"t")],
        "extensions": {"http.response.pathsend": {}},
    }  # fmt: skip
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    await middleware(scope, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.pathsend"]
    assert (b"x-cache", b"MISS") in sent[0]["headers"]  # type: ignore[operator]
    assert len(cache) == 0


async def _reflect_forwarded_host(scope: Scope, receive: Receive, send: Send) -> None:
    """Like an app behind an inner ProxyHeadersMiddleware: links built from X-Forwarded-Host."""
    headers = dict(scope["headers"])
    host = headers.get(b"x-forwarded-host") or headers.get(b"host", b"")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"<a href='https://" + host + b"/login'>"})


async def test_forged_forwarding_headers_cannot_poison_other_clients() -> None:
    async with _client(CacheMiddleware(_reflect_forwarded_host, cache=MemoryCache())) as c:
        poisoned = await c.get("/", headers={"x-forwarded-host": "evil.example"})
        assert b"evil.example" in poisoned.content
        victim = await c.get("/")
        assert b"evil.example" not in victim.content
        assert victim.headers["x-cache"] == "MISS"
        again = await c.get("/")
        assert again.headers["x-cache"] == "HIT"
