"""RateLimitMiddleware and @rate_limit through the app (TestClient) and raw ASGI."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from covet import Covet
from covet._types import Receive, Scope, Send
from covet.exceptions import ImproperlyConfigured
from covet.http import Request
from covet.ratelimit import MemoryBackend, RateLimitMiddleware, RedisBackend, rate_limit
from covet.testing import TestClient


class FakeClock:
    def __init__(self) -> None:
        self.now = 6000.0

    def __call__(self) -> float:
        return self.now


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": b"hi"})


def raw_client(app: Any, client: tuple[str, int] = ("10.0.0.1", 1234)) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=client)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_app_wide_limit_with_headers() -> None:
    clock = FakeClock()
    app = RateLimitMiddleware(hello, limit="3/minute", backend=MemoryBackend(clock=clock))
    async with raw_client(app) as c:
        responses = [await c.get("/") for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["ratelimit-remaining"] for r in responses] == ["2", "1", "0", "0"]
    assert all(r.headers["ratelimit-limit"] == "3" for r in responses)
    assert responses[0].headers["ratelimit-reset"] == "60"
    limited = responses[3]
    assert limited.headers["retry-after"] == "60" and limited.json() == {
        "error": "Too Many Requests"
    }
    assert "retry-after" not in responses[0].headers
    clock.now += 60
    async with raw_client(app) as c:
        assert (await c.get("/")).status_code == 200


async def test_informational_headers_can_be_disabled_but_429_keeps_them() -> None:
    app = RateLimitMiddleware(hello, limit="1/minute", headers=False)
    async with raw_client(app) as c:
        ok = await c.get("/")
        limited = await c.head("/")
    assert "ratelimit-limit" not in ok.headers
    assert limited.status_code == 429 and limited.headers["ratelimit-limit"] == "1"
    assert limited.content == b""  # HEAD: no body


async def test_keys_per_ip_ignore_spoofed_forwarding_headers() -> None:
    app = RateLimitMiddleware(hello, limit="2/minute")
    async with raw_client(app, ("10.0.0.1", 1)) as a, raw_client(app, ("10.0.0.2", 1)) as b:
        codes = []
        for i in range(4):  # rotating X-Forwarded-For must not mint new keys
            codes.append(
                (
                    await a.get(
                        "/", headers={"x-forwarded-for": f"1.1.1.{i}", "x-real-ip": f"2.2.2.{i}"}
                    )
                ).status_code
            )
        assert codes == [200, 200, 429, 429]
        assert (await b.get("/")).status_code == 200


async def test_behind_a_trusted_proxy_the_forwarded_client_is_the_key() -> None:
    from covet.middleware import ProxyHeadersMiddleware

    limited = RateLimitMiddleware(hello, limit="1/minute")
    app = ProxyHeadersMiddleware(limited, trusted_hosts=["10.0.0.1"])
    async with (
        raw_client(app, ("10.0.0.1", 1)) as proxy,
        raw_client(app, ("10.9.9.9", 1)) as direct,
    ):
        assert (await proxy.get("/", headers={"x-forwarded-for": "203.0.113.5"})).status_code == 200
        assert (await proxy.get("/", headers={"x-forwarded-for": "203.0.113.5"})).status_code == 429
        assert (await proxy.get("/", headers={"x-forwarded-for": "203.0.113.6"})).status_code == 200
        # an untrusted peer cannot pick its key with the header
        assert (
            await direct.get("/", headers={"x-forwarded-for": "198.51.100.1"})
        ).status_code == 200
        assert (
            await direct.get("/", headers={"x-forwarded-for": "198.51.100.2"})
        ).status_code == 429


async def test_ipv6_clients_are_grouped_by_prefix() -> None:
    app = RateLimitMiddleware(hello, limit="2/minute")
    codes = []
    for suffix in ("1", "2", "3"):  # same /64, different addresses
        async with raw_client(app, (f"2001:db8:1:2::{suffix}", 1)) as c:
            codes.append((await c.get("/")).status_code)
    assert codes == [200, 200, 429]
    async with raw_client(app, ("2001:db8:1:3::1", 1)) as c:
        assert (await c.get("/")).status_code == 200


async def test_user_key_and_custom_key_function() -> None:
    class User:
        is_authenticated = True

        def __init__(self, identity: str) -> None:
            self.identity = identity

    async def with_user(scope: Scope, receive: Receive, send: Send) -> None:
        name = dict(scope["headers"]).get(b"x-user")
        scope["user"] = User(name.decode()) if name else None
        await limited(scope, receive, send)

    limited = RateLimitMiddleware(hello, limit="1/minute", key="user")
    async with raw_client(with_user) as c:
        assert (await c.get("/", headers={"x-user": "ann"})).status_code == 200
        assert (await c.get("/", headers={"x-user": "ann"})).status_code == 429
        assert (await c.get("/", headers={"x-user": "bob"})).status_code == 200
        assert (await c.get("/")).status_code == 200  # anonymous: keyed by IP
        assert (await c.get("/")).status_code == 429

    async def api_key(request: Request) -> str | None:
        return request.headers.get("x-api-key")  # None: not limited

    app = RateLimitMiddleware(hello, limit="1/minute", key=api_key)
    async with raw_client(app) as c:
        assert (await c.get("/", headers={"x-api-key": "k1"})).status_code == 200
        assert (await c.get("/", headers={"x-api-key": "k1"})).status_code == 429
        assert (await c.get("/", headers={"x-api-key": "k2"})).status_code == 200
        assert [(await c.get("/")).status_code for _ in range(3)] == [200] * 3


async def test_huge_client_controlled_keys_are_hashed() -> None:
    backend = MemoryBackend()
    app = RateLimitMiddleware(
        hello, limit="1/minute", key=lambda r: r.headers.get("x-api-key"), backend=backend
    )
    async with raw_client(app) as c:
        assert (await c.get("/", headers={"x-api-key": "k" * 8000})).status_code == 200
        assert (await c.get("/", headers={"x-api-key": "k" * 8000})).status_code == 429
        assert (await c.get("/", headers={"x-api-key": "k" * 7999})).status_code == 200
    assert all(len(key) < 100 for _, key in backend._data)


async def test_exempt_paths_and_function() -> None:
    app = RateLimitMiddleware(hello, limit="1/minute", exempt=["/health", "/static/*"])
    async with raw_client(app) as c:
        assert [(await c.get("/health")).status_code for _ in range(3)] == [200] * 3
        assert [(await c.get("/static/a.css")).status_code for _ in range(3)] == [200] * 3
        assert [(await c.get("/x")).status_code for _ in range(2)] == [200, 429]
    app = RateLimitMiddleware(
        hello, limit="1/minute", exempt=lambda request: request.method == "OPTIONS"
    )
    async with raw_client(app) as c:
        assert [(await c.options("/")).status_code for _ in range(3)] == [200] * 3


async def test_non_http_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    await RateLimitMiddleware(app, limit="1/minute")({"type": "websocket"}, None, None)  # type: ignore[arg-type]
    assert seen == ["websocket"]


async def test_fail_open_and_fail_closed_with_redis_down(free_port: int) -> None:
    down = f"redis://127.0.0.1:{free_port}/0"
    open_app = RateLimitMiddleware(
        hello, limit="1/minute", backend=RedisBackend(down, socket_timeout=0.3)
    )
    closed_app = RateLimitMiddleware(
        hello, limit="1/minute", backend=RedisBackend(down, socket_timeout=0.3), fail_open=False
    )
    async with raw_client(open_app) as c:
        assert [(await c.get("/")).status_code for _ in range(3)] == [200] * 3
    async with raw_client(closed_app) as c:
        r = await c.get("/")
        assert r.status_code == 503 and r.headers["retry-after"] == "5"


def test_configuration_errors() -> None:
    with pytest.raises(ImproperlyConfigured):
        RateLimitMiddleware(hello, limit="lots")
    with pytest.raises(ImproperlyConfigured):
        RateLimitMiddleware(hello, algorithm="leaky_bucket")
    with pytest.raises(ImproperlyConfigured):
        RateLimitMiddleware(hello, key="cookie")
    with pytest.raises(ImproperlyConfigured):
        rate_limit("5/minute", cost=6)
    with pytest.raises(ImproperlyConfigured):
        rate_limit("5/minute", key=42)  # type: ignore[arg-type]


def build_app(**options: Any) -> Covet:
    app = Covet()
    app.add_middleware(RateLimitMiddleware, **options)

    @app.get("/login")
    @rate_limit("2/minute")
    async def login() -> dict[str, str]:
        return {"ok": "login"}

    @app.get("/search")
    @rate_limit("3/minute", algorithm="token_bucket", key="ip+route")
    def search(q: str = "") -> dict[str, str]:  # sync handlers work too
        return {"q": q}

    @app.get("/items/{item_id:int}")
    @rate_limit("1/minute", key="route")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @app.get("/free")
    async def free() -> dict[str, bool]:
        return {"free": True}

    return app


def test_per_route_limits_through_the_app() -> None:
    with TestClient(build_app(limit=None)) as client:
        login = [client.get("/login") for _ in range(3)]
        assert [r.status_code for r in login] == [200, 200, 429]
        assert login[0].json() == {"ok": "login"}
        assert login[1].headers["ratelimit-remaining"] == "0"
        assert login[2].headers["retry-after"] and login[2].headers["ratelimit-limit"] == "2"
        assert "error" in login[2].json()
        assert [client.get("/search", params={"q": "x"}).status_code for _ in range(4)] == [
            200
        ] * 3 + [429]
        limited = client.get("/search")
        assert limited.status_code == 429 and limited.json()["error"] == "Too Many Requests"
        # key="route": every path matching the template shares one counter
        assert client.get("/items/1").status_code == 200
        assert client.get("/items/2").status_code == 429
        assert [client.get("/free").status_code for _ in range(5)] == [200] * 5
        assert "ratelimit-limit" not in client.get("/free").headers


def test_route_limits_combine_with_app_limit() -> None:
    with TestClient(build_app(limit="4/minute")) as client:
        first = client.get("/login")
        # the tighter of the two limits is reported
        assert (
            first.headers["ratelimit-limit"] == "2" and first.headers["ratelimit-remaining"] == "1"
        )
        assert client.get("/free").headers["ratelimit-remaining"] == "2"
        assert client.get("/login").status_code == 200
        assert client.get("/login").status_code == 429  # route limit
        assert client.get("/free").status_code == 429  # app limit: 4 already counted
        assert client.get("/free").json() == {"error": "Too Many Requests"}


def test_route_limit_marker_and_signature_are_preserved() -> None:
    import inspect

    @rate_limit("5/minute", name="custom")
    async def handler(user_id: int, q: str = "x") -> dict[str, int]:
        return {}

    assert list(inspect.signature(handler).parameters) == ["user_id", "q"]
    (limit,) = handler.__covet_rate_limits__  # type: ignore[attr-defined]
    assert limit.name == "custom" and limit.rate.limit == 5
