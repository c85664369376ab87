"""Every middleware hands scope types it does not handle to the app untouched."""

from __future__ import annotations

from typing import Any

import pytest

from covet.csrf import CSRFMiddleware
from covet.middleware import (
    AccessLogMiddleware,
    BodySizeLimitMiddleware,
    CORSMiddleware,
    GZipMiddleware,
    HTTPSRedirectMiddleware,
    ProxyHeadersMiddleware,
    RequestIDMiddleware,
    SecurityHeadersMiddleware,
    SessionMiddleware,
    TimeoutMiddleware,
    TrustedHostMiddleware,
)

SECRET = "passthrough-secret-key-0123456789"
ALL: list[tuple[Any, dict[str, Any]]] = [
    (AccessLogMiddleware, {}),
    (BodySizeLimitMiddleware, {}),
    (CORSMiddleware, {"allow_origins": ["https://a.example"]}),
    (CSRFMiddleware, {"secret_key": SECRET}),
    (GZipMiddleware, {}),
    (HTTPSRedirectMiddleware, {}),
    (ProxyHeadersMiddleware, {}),
    (RequestIDMiddleware, {}),
    (SecurityHeadersMiddleware, {}),
    (SessionMiddleware, {"secret_key": SECRET}),
    (TimeoutMiddleware, {"timeout": 1}),
    (TrustedHostMiddleware, {"allowed_hosts": ["example.com"]}),
]


@pytest.mark.parametrize(("cls", "options"), ALL, ids=[c.__name__ for c, _ in ALL])
async def test_lifespan_passes_through(cls: Any, options: dict[str, Any]) -> None:
    seen: list[tuple[Any, Any, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope, receive, send))

    async def receive() -> dict[str, Any]:
        return {"type": "lifespan.startup"}

    async def send(message: Any) -> None:
        return None

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    await cls(app, **options)(scope, receive, send)
    assert len(seen) == 1
    got_scope, got_receive, got_send = seen[0]
    assert got_scope is scope and got_scope == {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    assert got_receive is receive and got_send is send
