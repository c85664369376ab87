from __future__ import annotations

import pytest
from mw_helpers import body_app, drive, echo_app

from covet.exceptions import ImproperlyConfigured
from covet.middleware.cors import CORSMiddleware
from covet.testing import TestClient

ORIGIN = "https://app.example.com"


def client(**options: object) -> TestClient:
    return TestClient(CORSMiddleware(body_app(b"ok"), **options))


def preflight(c: TestClient, origin: str = ORIGIN, method: str = "PUT", headers: str | None = None):
    h = {"origin": origin, "access-control-request-method": method}
    if headers is not None:
        h["access-control-request-headers"] = headers
    return c.options("/things", headers=h)


def test_preflight_allowed_origin_gets_headers() -> None:
    c = client(allow_origins=[ORIGIN], allow_methods=["GET", "PUT"], allow_headers=["X-Token"], max_age=321)
    r = preflight(c, headers="x-token, content-type")
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert "PUT" in r.headers["access-control-allow-methods"]
    assert "x-token" in r.headers["access-control-allow-headers"]
    assert r.headers["access-control-max-age"] == "321"
    assert "Origin" in r.headers["vary"]


def test_preflight_from_disallowed_origin_is_400_without_cors_headers() -> None:
    c = client(allow_origins=[ORIGIN], allow_methods=["PUT"])
    r = preflight(c, origin="https://evil.example")
    assert r.status_code == 400
    assert not any(k.lower().startswith("access-control-") for k in r.headers)
    assert r.json()["error"] == "Disallowed CORS origin"


def test_preflight_disallowed_method_and_header() -> None:
    c = client(allow_origins=[ORIGIN], allow_methods=["GET"], allow_headers=["X-Token"])
    assert preflight(c, method="DELETE").status_code == 400
    r = preflight(c, method="GET", headers="x-other")
    assert r.status_code == 400
    assert "access-control-allow-origin" not in r.headers


def test_simple_request_allowed_and_disallowed() -> None:
    c = client(allow_origins=[ORIGIN], expose_headers=["X-Total"])
    r = c.get("/", headers={"origin": ORIGIN})
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert r.headers["access-control-expose-headers"] == "X-Total"
    assert r.text == "ok"
    bad = c.get("/", headers={"origin": "https://evil.example"})
    assert bad.status_code == 200
    assert "access-control-allow-origin" not in bad.headers
    assert "Origin" in bad.headers["vary"]


def test_wildcard_without_credentials_sends_star_and_no_vary() -> None:
    c = client(allow_origins=["*"])
    r = c.get("/", headers={"origin": "https://anything.example"})
    assert r.headers["access-control-allow-origin"] == "*"
    assert "vary" not in r.headers


def test_credentials_never_send_star() -> None:
    c = client(allow_origins=["*"], allow_credentials=True, allow_methods=["POST"])
    r = c.get("/", headers={"origin": ORIGIN})
    assert r.headers["access-control-allow-origin"] == ORIGIN
    assert r.headers["access-control-allow-credentials"] == "true"
    assert "Origin" in r.headers["vary"]
    p = preflight(c, method="POST")
    assert p.headers["access-control-allow-origin"] == ORIGIN
    assert p.headers["access-control-allow-credentials"] == "true"


def test_origin_regex() -> None:
    c = client(allow_origin_regex=r"https://[a-z]+\.example\.org", allow_methods=["GET"])
    assert c.get("/", headers={"origin": "https://shop.example.org"}).headers["access-control-allow-origin"] == (
        "https://shop.example.org"
    )
    # fullmatch: a suffix attack does not pass
    r = c.get("/", headers={"origin": "https://shop.example.org.evil.com"})
    assert "access-control-allow-origin" not in r.headers


def test_allow_all_headers_echoes_requested() -> None:
    c = client(allow_origins=[ORIGIN], allow_methods=["*"], allow_headers=["*"])
    r = preflight(c, method="PATCH", headers="X-Custom-One")
    assert r.status_code == 200
    assert r.headers["access-control-allow-headers"] == "x-custom-one"


def test_handler_cors_headers_are_kept() -> None:
    app = body_app(b"x", headers=[(b"access-control-allow-origin", b"https://mine.example")])
    c = TestClient(CORSMiddleware(app, allow_origins=[ORIGIN]))
    r = c.get("/", headers={"origin": ORIGIN})
    assert r.headers.getlist("access-control-allow-origin") == ["https://mine.example"]


def test_options_without_request_method_is_not_a_preflight() -> None:
    c = TestClient(CORSMiddleware(echo_app, allow_origins=[ORIGIN]))
    r = c.options("/", headers={"origin": ORIGIN})
    assert r.status_code == 200
    assert r.json()["path"] == "/"
    assert r.headers["access-control-allow-origin"] == ORIGIN


async def test_websocket_from_disallowed_origin_is_refused() -> None:
    async def ws_app(scope, receive, send):  # type: ignore[no-untyped-def]
        await receive()
        await send({"type": "websocket.accept"})

    mw = CORSMiddleware(ws_app, allow_origins=[ORIGIN])
    sent, _ = await drive(mw, scope_type="websocket", headers=[(b"origin", b"https://evil.example")])
    assert sent == [{"type": "websocket.close", "code": 1008}]
    sent, _ = await drive(mw, scope_type="websocket", headers=[(b"origin", ORIGIN.encode())])
    assert sent == [{"type": "websocket.accept"}]


@pytest.mark.parametrize(
    "options",
    [
        {"allow_origins": "https://a.example"},
        {"allow_origins": ["https://a.example/path"]},
        {"allow_origins": ["a.example"]},
        {"allow_origin_regex": "("},
        {"allow_methods": ["GET POST"]},
        {"max_age": -1},
    ],
)
def test_bad_configuration_fails_at_startup(options: dict[str, object]) -> None:
    with pytest.raises(ImproperlyConfigured):
        CORSMiddleware(echo_app, **options)  # type: ignore[arg-type]
