"""The middleware inside a real ``Covet`` app, through ``TestClient``: ordering, error
bodies with ``trace_id``, ``request.session`` and ``@csrf_exempt`` through the router."""

from __future__ import annotations

import asyncio
import json

from covet import Covet, HTTPException, Request
from covet.csrf import CSRFMiddleware, csrf_exempt, get_csrf_token
from covet.http import StreamingResponse
from covet.middleware.bodylimit import BodySizeLimitMiddleware
from covet.middleware.cors import CORSMiddleware
from covet.middleware.gzip import GZipMiddleware
from covet.middleware.requestid import RequestIDMiddleware
from covet.middleware.security import SecurityHeadersMiddleware
from covet.middleware.timeout import TimeoutMiddleware
from covet.sessions import MemoryStore, SessionMiddleware, rotate
from covet.testing import TestClient

SECRET = "covet-app-secret-key-0123456789"


def build() -> Covet:
    app = Covet()

    @app.get("/items")
    async def items() -> list[dict[str, int]]:
        return [{"id": i} for i in range(100)]

    @app.get("/fail")
    async def fail() -> None:
        raise HTTPException(418, "teapot")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail")

    @app.get("/slow")
    async def slow() -> None:
        await asyncio.sleep(2)

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def gen():  # type: ignore[no-untyped-def]
            for i in range(3):
                yield b"chunk %d " % i * 50

        return StreamingResponse(gen(), media_type="text/plain")

    @app.post("/login")
    async def login(request: Request) -> dict[str, str]:
        form = await request.form()
        rotate(request)
        request.session["user"] = str(form["user"])
        return {"user": str(form["user"])}

    @app.get("/me")
    async def me(request: Request) -> dict[str, object]:
        return {"user": request.session.get("user"), "csrf": get_csrf_token(request)}

    @app.post("/webhook")
    @csrf_exempt
    async def webhook(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    app.add_middleware(CSRFMiddleware, secret_key=SECRET)
    app.add_middleware(SessionMiddleware, secret_key=SECRET, store=MemoryStore())
    app.add_middleware(BodySizeLimitMiddleware, max_body_size=1000)
    app.add_middleware(TimeoutMiddleware, timeout=0.5)
    app.add_middleware(GZipMiddleware, minimum_size=200)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(CORSMiddleware, allow_origins=["https://spa.example"])
    app.add_middleware(RequestIDMiddleware)
    return app


def test_json_endpoint_through_the_stack() -> None:
    with TestClient(build()) as c:
        r = c.get("/items", headers={"accept-encoding": "gzip", "origin": "https://spa.example"})
        assert r.status_code == 200
        assert r.headers["content-encoding"] == "gzip"
        assert json.loads(r.content)[99] == {"id": 99}
        assert r.headers["access-control-allow-origin"] == "https://spa.example"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert len(r.headers["x-request-id"]) == 32


def test_error_bodies_carry_the_request_id_as_trace_id() -> None:
    with TestClient(build(), raise_server_exceptions=False) as c:
        r = c.get("/boom", headers={"x-request-id": "trace-abc"})
        assert r.status_code == 500
        assert r.json()["trace_id"] == "trace-abc"
        assert "secret detail" not in r.text
        assert c.get("/slow", headers={"x-request-id": "trace-slow"}).json() == {
            "error": "Request timed out",
            "trace_id": "trace-slow",
        }
        assert c.get("/fail").status_code == 418


def test_streaming_response_is_compressed() -> None:
    with TestClient(build()) as c:
        r = c.get("/stream", headers={"accept-encoding": "gzip"})
        assert r.headers["content-encoding"] == "gzip"
        assert r.content.startswith(b"chunk 0 chunk 0")


def test_session_login_csrf_and_exempt_route() -> None:
    with TestClient(build()) as c:
        token = c.get("/me").json()["csrf"]
        assert c.post("/login", data={"user": "ann"}).status_code == 403
        assert c.post("/login", data={"user": "ann", "csrf_token": token}).json() == {"user": "ann"}
        assert c.get("/me").json()["user"] == "ann"
        # @csrf_exempt on the handler is found before routing runs
        assert c.post("/webhook", content=b"x" * 10).json() == {"size": 10}
        assert c.post("/webhook", content=b"x" * 2000).status_code == 413


def test_forged_session_cookie_is_anonymous() -> None:
    with TestClient(build()) as c:
        r = c.get("/me", headers={"cookie": "session=forged.value"})
        assert r.status_code == 200
        assert r.json()["user"] is None
