"""CacheMiddleware over tiny raw ASGI apps through httpx."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from covet import Covet
from covet._types import Receive, Scope, Send
from covet.cache import CacheMiddleware, MemoryCache, parse_cache_control
from covet.http import JSONResponse
from covet.testing import TestClient

Headers = list[tuple[bytes, bytes]]


class Counter:
    """An ASGI app answering ``body`` with configurable headers, counting calls."""

    def __init__(
        self,
        headers: Headers | None = None,
        status: int = 200,
        body: Callable[[Scope], bytes] = lambda scope: b"hello " + scope["path"].encode(),
        chunks: int = 1,
    ) -> None:
        self.calls = 0
        self.headers = headers or []
        self.status = status
        self.body = body
        self.chunks = chunks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        body = self.body(scope)
        headers = [(b"content-type", b"text/plain"), *self.headers]
        if self.chunks == 1:
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        if scope["method"] == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        step = max(1, len(body) // self.chunks)
        parts = [body[i : i + step] for i in range(0, len(body), step)] or [b""]
        for i, part in enumerate(parts):
            await send(
                {"type": "http.response.body", "body": part, "more_body": i < len(parts) - 1}
            )


def client(app: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")  # type: ignore[arg-type]


async def test_get_is_cached_and_head_served_from_it() -> None:
    app = Counter()
    async with client(CacheMiddleware(app, ttl=60)) as c:
        first = await c.get("/a?x=1")
        second = await c.get("/a?x=1")
        head = await c.head("/a?x=1")
        other = await c.get("/a?x=2")
    assert first.text == second.text == "hello /a"
    assert first.headers["x-cache"] == "MISS" and second.headers["x-cache"] == "HIT"
    assert second.headers["age"] == "0" and second.headers["etag"] == first.headers["etag"]
    assert first.headers["etag"].startswith('W/"')
    assert head.headers["x-cache"] == "HIT" and head.content == b""
    assert other.headers["x-cache"] == "MISS"
    assert app.calls == 2


@pytest.mark.parametrize(
    "cache_control",
    ["no-store", "private, max-age=60", "no-cache", "max-age=0", "max-age=bogus"],
)
async def test_uncacheable_responses(cache_control: str) -> None:
    app = Counter([(b"cache-control", cache_control.encode())])
    async with client(CacheMiddleware(app)) as c:
        await c.get("/")
        assert (await c.get("/")).headers["x-cache"] == "MISS"
    assert app.calls == 2


@pytest.mark.parametrize(
    "headers",
    [[(b"set-cookie", b"sid=1")], [(b"vary", b"*")]],
)
async def test_responses_with_cookies_or_vary_star_are_not_stored(headers: Headers) -> None:
    app = Counter(headers)
    async with client(CacheMiddleware(app)) as c:
        await c.get("/")
        await c.get("/")
    assert app.calls == 2


async def test_non_200_and_unsafe_methods_pass_through() -> None:
    app = Counter(status=404)
    async with client(CacheMiddleware(app)) as c:
        await c.get("/")
        r = await c.get("/")
        await c.post("/")
    assert r.status_code == 404 and "x-cache" in r.headers
    assert app.calls == 3


async def test_s_maxage_wins_over_max_age() -> None:
    cache = MemoryCache()
    app = Counter([(b"cache-control", b"public, max-age=5, s-maxage=300")])
    async with client(CacheMiddleware(app, cache=cache)) as c:
        await c.get("/")
    ttls = [await cache.ttl(k) for k in list(cache._data)]
    assert all(t is not None and 295 < t <= 300 for t in ttls)


async def test_request_no_cache_revalidates_and_no_store_bypasses() -> None:
    app = Counter()
    async with client(CacheMiddleware(app)) as c:
        await c.get("/")
        assert (await c.get("/", headers={"cache-control": "no-cache"})).headers[
            "x-cache"
        ] == "MISS"
        assert (await c.get("/", headers={"pragma": "no-cache"})).headers["x-cache"] == "MISS"
        assert (await c.get("/")).headers["x-cache"] == "HIT"
        await c.get("/new", headers={"cache-control": "no-store"})
        assert (await c.get("/new")).headers["x-cache"] == "MISS"
    assert app.calls == 5


async def test_vary_keys_on_request_headers() -> None:
    app = Counter(
        [(b"vary", b"Accept-Language")],
        body=lambda scope: dict(scope["headers"]).get(b"accept-language", b"-"),
    )
    async with client(CacheMiddleware(app)) as c:
        en = await c.get("/", headers={"accept-language": "en"})
        fr = await c.get("/", headers={"accept-language": "fr"})
        en2 = await c.get("/", headers={"accept-language": "en"})
    assert (en.text, fr.text, en2.text) == ("en", "fr", "en")
    assert en2.headers["x-cache"] == "HIT"
    assert app.calls == 2


async def test_personalised_requests_never_share_entries() -> None:
    app = Counter(body=lambda scope: dict(scope["headers"]).get(b"cookie", b"anon"))
    async with client(CacheMiddleware(app)) as c:
        alice = await c.get("/me", headers={"cookie": "sid=alice"})
        bob = await c.get("/me", headers={"cookie": "sid=bob"})
        await c.get("/me")
        anon2 = await c.get("/me")
        carol = await c.get("/me", headers={"authorization": "Bearer carol"})
    assert (alice.text, bob.text) == ("sid=alice", "sid=bob")
    assert anon2.headers["x-cache"] == "HIT"
    assert carol.headers["x-cache"] == "MISS"  # the anonymous entry is not public
    assert app.calls == 4


async def test_public_responses_are_shared_with_credentialed_requests() -> None:
    app = Counter([(b"cache-control", b"public, max-age=60")])
    async with client(CacheMiddleware(app)) as c:
        await c.get("/", headers={"cookie": "sid=1"})
        assert (await c.get("/", headers={"authorization": "x"})).headers["x-cache"] == "HIT"
    assert app.calls == 1


async def test_etag_and_304_on_fresh_and_cached() -> None:
    app = Counter()
    async with client(CacheMiddleware(app, etag="strong")) as c:
        first = await c.get("/")
        etag = first.headers["etag"]
        assert etag.startswith('"')
        hit = await c.get("/", headers={"if-none-match": etag})
        assert hit.status_code == 304 and hit.content == b"" and hit.headers["etag"] == etag
        assert "content-type" not in hit.headers
        assert (
            await c.get("/", headers={"if-none-match": '"other", W/' + etag})
        ).status_code == 304
        assert (await c.get("/", headers={"if-none-match": '"other"'})).status_code == 200
        fresh = await c.get("/x", headers={"if-none-match": "*"})
        assert fresh.status_code == 304 and fresh.headers["x-cache"] == "MISS"
        assert (await c.get("/x")).status_code == 200


async def test_existing_etag_is_kept_and_etag_can_be_disabled() -> None:
    app = Counter([(b"etag", b'"v1"')])
    async with client(CacheMiddleware(app)) as c:
        assert (await c.get("/")).headers["etag"] == '"v1"'
        assert (await c.get("/", headers={"if-none-match": '"v1"'})).status_code == 304
    async with client(CacheMiddleware(Counter(), etag=None)) as c:
        assert "etag" not in (await c.get("/")).headers


async def test_streaming_responses_are_cached_after_completion() -> None:
    app = Counter(body=lambda scope: b"0123456789" * 100, chunks=10)
    async with client(CacheMiddleware(app)) as c:
        first = await c.get("/stream")
        assert "etag" not in first.headers  # headers left before the body was known
        second = await c.get("/stream")
    assert second.headers["x-cache"] == "HIT" and second.content == first.content
    assert second.headers["etag"].startswith('W/"')
    assert app.calls == 1


async def test_bodies_over_the_limit_are_not_stored() -> None:
    app = Counter(body=lambda scope: b"x" * 5000, chunks=5)
    async with client(CacheMiddleware(app, max_body_size=4000)) as c:
        assert len((await c.get("/")).content) == 5000
        assert (await c.get("/")).headers["x-cache"] == "MISS"


async def test_websocket_and_lifespan_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    await CacheMiddleware(app)({"type": "lifespan"}, None, None)  # type: ignore[arg-type]
    assert seen == ["lifespan"]


def test_parse_cache_control() -> None:
    assert parse_cache_control('Public, max-age=60, no-cache="set-cookie", ,') == {
        "public": None,
        "max-age": "60",
        "no-cache": "set-cookie",
    }


def test_bad_options() -> None:
    with pytest.raises(ValueError):
        CacheMiddleware(Counter(), etag="medium")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        CacheMiddleware(Counter(), ttl=0)


def test_through_the_app_and_test_client() -> None:
    calls = {"n": 0}
    app = Covet()
    app.add_middleware(CacheMiddleware, ttl=30)

    @app.get("/products/{pid:int}")
    async def product(pid: int) -> dict[str, int]:
        calls["n"] += 1
        return {"id": pid, "n": calls["n"]}

    @app.get("/me")
    async def me() -> JSONResponse:
        calls["n"] += 1
        return JSONResponse({"n": calls["n"]}, headers={"Cache-Control": "private, max-age=60"})

    @app.post("/products")
    async def create() -> dict[str, bool]:
        calls["n"] += 1
        return {"created": True}

    with TestClient(app) as client:
        first = client.get("/products/1")
        second = client.get("/products/1")
        assert first.json() == second.json() == {"id": 1, "n": 1}
        assert second.headers["x-cache"] == "HIT"
        assert (
            client.get("/products/1", headers={"if-none-match": first.headers["etag"]}).status_code
            == 304
        )
        head = client.head("/products/1")
        assert head.status_code == 200 and head.content == b""
        assert client.get("/me").json() == {"n": 2}
        assert client.get("/me").json() == {"n": 3}
        assert client.post("/products").json() == {"created": True}
        assert client.post("/products").headers.get("x-cache") is None
    assert calls["n"] == 5
