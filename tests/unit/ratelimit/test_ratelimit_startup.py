"""@rate_limit without RateLimitMiddleware is refused at start-up, not per request."""

from __future__ import annotations

import pytest

from covet import Covet
from covet.exceptions import ImproperlyConfigured
from covet.ratelimit import RateLimitMiddleware, rate_limit
from covet.testing import TestClient


def make_app() -> Covet:
    app = Covet(openapi_url=None)

    @app.get("/limited")
    @rate_limit("2/minute")
    async def limited() -> dict:
        return {"ok": True}

    return app


def test_missing_middleware_fails_start_up() -> None:
    app = make_app()
    with pytest.raises(RuntimeError, match="needs RateLimitMiddleware"), TestClient(app):
        pass
    with pytest.raises(ImproperlyConfigured, match="needs RateLimitMiddleware"):
        app.build()


def test_with_middleware_the_route_limit_applies() -> None:
    app = make_app()
    app.add_middleware(RateLimitMiddleware, limit=None)
    with TestClient(app) as client:
        assert [client.get("/limited").status_code for _ in range(3)] == [200, 200, 429]
