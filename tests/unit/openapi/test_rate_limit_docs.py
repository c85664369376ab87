"""Routes limited with ``@rate_limit`` document their 429 answer and its headers."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from openapi_spec_validator import validate

from covet import Covet
from covet.openapi import generate_openapi
from covet.openapi._errors import rate_limits_of
from covet.ratelimit import RateLimitMiddleware, rate_limit
from covet.testing import TestClient


def _app() -> Covet:
    app = Covet()
    app.add_middleware(RateLimitMiddleware, limit=None)

    @app.post("/login")
    @rate_limit("2/minute")
    async def login() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/search")
    @rate_limit("10/second", cost=2)
    @rate_limit("100/hour")
    async def search(q: str = "") -> dict[str, str]:
        return {"q": q}

    @app.get("/free")
    async def free() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/custom", responses={429: {"description": "Slow down"}})
    @rate_limit("1/second")
    async def custom() -> dict[str, bool]:
        return {"ok": True}

    return app


def _doc() -> dict[str, Any]:
    doc = generate_openapi(_app())
    validate(doc)
    return doc


def test_limited_route_documents_429_with_headers() -> None:
    response = _doc()["paths"]["/login"]["post"]["responses"]["429"]
    assert "2 per 60 s" in response["description"]
    assert set(response["headers"]) == {
        "Retry-After",
        "RateLimit-Limit",
        "RateLimit-Remaining",
        "RateLimit-Reset",
    }
    assert response["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"
    }


def test_stacked_limits_are_all_described() -> None:
    description = _doc()["paths"]["/search"]["get"]["responses"]["429"]["description"]
    assert "10 per 1 s (each call costs 2)" in description
    assert "100 per 3600 s" in description


def test_unlimited_route_has_no_429() -> None:
    assert "429" not in _doc()["paths"]["/free"]["get"]["responses"]


def test_declared_429_response_wins() -> None:
    response = _doc()["paths"]["/custom"]["get"]["responses"]["429"]
    assert response["description"] == "Slow down"
    assert "headers" not in response


def test_documented_headers_are_the_ones_sent() -> None:
    app = _app()
    documented = app.openapi()["paths"]["/login"]["post"]["responses"]["429"]["headers"]
    with TestClient(app) as client:
        for _ in range(2):
            assert client.post("/login").status_code == 200
        denied = client.post("/login")
    assert denied.status_code == 429
    assert set(denied.json()) <= {"error", "trace_id"}
    for name in documented:
        assert int(denied.headers[name]) >= 0


def test_malformed_attribute_is_ignored() -> None:
    odd = SimpleNamespace(__covet_rate_limits__=(SimpleNamespace(rate="5/minute"), 3))
    assert rate_limits_of(odd, None) == []
    assert rate_limits_of(SimpleNamespace(__covet_rate_limits__="5/minute")) == []
