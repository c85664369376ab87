from __future__ import annotations

import pytest
from mw_helpers import body_app, drive, start_headers

from covet.exceptions import ImproperlyConfigured
from covet.middleware.security import SecurityHeadersMiddleware, build_csp, build_permissions_policy
from covet.testing import TestClient


def test_defaults_on_http_have_no_hsts() -> None:
    r = TestClient(SecurityHeadersMiddleware(body_app(b"ok"))).get("/")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert r.headers["cross-origin-opener-policy"] == "same-origin"
    assert "strict-transport-security" not in r.headers
    assert "content-security-policy" not in r.headers


def test_hsts_only_on_https() -> None:
    mw = SecurityHeadersMiddleware(body_app(b"ok"), hsts_max_age=63072000, hsts_preload=True)
    r = TestClient(mw, base_url="https://example.com").get("/")
    assert r.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains; preload"


def test_handler_values_win() -> None:
    app = body_app(b"ok", headers=[(b"x-frame-options", b"SAMEORIGIN"), (b"Referrer-Policy", b"no-referrer")])
    r = TestClient(SecurityHeadersMiddleware(app)).get("/")
    assert r.headers.getlist("x-frame-options") == ["SAMEORIGIN"]
    assert r.headers.getlist("referrer-policy") == ["no-referrer"]


def test_csp_dict_builder_and_frame_ancestors() -> None:
    mw = SecurityHeadersMiddleware(
        body_app(b"ok"),
        content_security_policy={
            "default_src": ["'self'"],
            "img-src": ["'self'", "https://cdn.example"],
            "upgrade-insecure-requests": True,
            "sandbox": False,
        },
    )
    csp = TestClient(mw).get("/").headers["content-security-policy"]
    assert csp == (
        "default-src 'self'; img-src 'self' https://cdn.example; upgrade-insecure-requests; "
        "frame-ancestors 'none'"
    )


def test_csp_report_only_string() -> None:
    mw = SecurityHeadersMiddleware(body_app(b"ok"), content_security_policy="default-src 'self'", csp_report_only=True)
    r = TestClient(mw).get("/")
    assert r.headers["content-security-policy-report-only"] == "default-src 'self'"
    assert "content-security-policy" not in r.headers


def test_permissions_policy_and_opt_outs() -> None:
    mw = SecurityHeadersMiddleware(
        body_app(b"ok"),
        permissions_policy={"camera": [], "geolocation": ["self", "https://maps.example"], "fullscreen": "*"},
        frame_options=None,
        referrer_policy=None,
        cross_origin_opener_policy=None,
        content_type_options=False,
    )
    r = TestClient(mw).get("/")
    assert r.headers["permissions-policy"] == 'camera=(), geolocation=(self "https://maps.example"), fullscreen=*'
    for name in ("x-frame-options", "referrer-policy", "cross-origin-opener-policy", "x-content-type-options"):
        assert name not in r.headers


async def test_websocket_untouched() -> None:
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "websocket.accept", "headers": []})

    sent, _ = await drive(SecurityHeadersMiddleware(app), scope_type="websocket")
    assert sent == [{"type": "websocket.accept", "headers": []}]


async def test_streaming_response_keeps_streaming() -> None:
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await send({"type": "http.response.body", "body": b"b"})

    sent, _ = await drive(SecurityHeadersMiddleware(app))
    assert [m.get("body") for m in sent[1:]] == [b"a", b"b"]
    assert start_headers(sent)["x-frame-options"] == "DENY"


def test_builders_reject_injection() -> None:
    with pytest.raises(ImproperlyConfigured):
        build_csp({"default-src": ["'self'; script-src *"]})
    with pytest.raises(ImproperlyConfigured):
        build_csp({"bad directive": "x"})
    with pytest.raises(ImproperlyConfigured):
        build_permissions_policy({"camera": ['"x"']})


@pytest.mark.parametrize(
    "options",
    [
        {"frame_options": "ALLOW-FROM x"},
        {"referrer_policy": "sometimes"},
        {"cross_origin_opener_policy": "maybe"},
        {"hsts_max_age": -5},
        {"hsts_preload": True, "hsts_max_age": 600},
        {"content_security_policy": "default-src 'self'\r\nX-Evil: 1"},
    ],
)
def test_bad_configuration(options: dict[str, object]) -> None:
    with pytest.raises(ImproperlyConfigured):
        SecurityHeadersMiddleware(body_app(b""), **options)  # type: ignore[arg-type]


def test_hsts_can_be_turned_off() -> None:
    r = TestClient(SecurityHeadersMiddleware(body_app(b"ok"), hsts_max_age=0), base_url="https://example.com").get("/")
    assert "strict-transport-security" not in r.headers
    assert r.headers["x-frame-options"] == "DENY"
