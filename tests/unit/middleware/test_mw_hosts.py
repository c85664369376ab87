"""TrustedHostMiddleware and HTTPSRedirectMiddleware."""

from __future__ import annotations

import pytest
from mw_helpers import drive, echo_app, start_headers

from covet.exceptions import ImproperlyConfigured
from covet.middleware.httpsredirect import HTTPSRedirectMiddleware
from covet.middleware.trustedhost import TrustedHostMiddleware, split_host
from covet.testing import TestClient


def test_split_host() -> None:
    assert split_host("Example.COM:8080") == ("example.com", "8080")
    assert split_host("[::1]:8000") == ("[::1]", "8000")
    assert split_host("example.com.") == ("example.com", "")
    assert split_host("[::1") == ("", "")


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("example.com", 200),
        ("EXAMPLE.com:8000", 200),
        ("api.example.com", 200),
        ("a.b.example.com", 200),
        ("evil.com", 400),
        ("example.com.evil.com", 400),
        ("notexample.com", 400),
        ("exa mple.com", 400),
        ("", 400),
    ],
)
def test_allowed_hosts(host: str, status: int) -> None:
    mw = TrustedHostMiddleware(echo_app, allowed_hosts=["example.com", "*.example.com"])
    r = TestClient(mw).get("/", headers={"host": host})
    assert r.status_code == status
    if status == 400:
        assert r.json() == {"error": "Invalid host header"}


def test_www_redirect() -> None:
    mw = TrustedHostMiddleware(echo_app, allowed_hosts=["www.example.com"])
    r = TestClient(mw, base_url="https://example.com").get("/a b?x=1", follow_redirects=False)
    assert r.status_code == 308
    assert r.headers["location"] == "https://www.example.com/a%20b?x=1"
    off = TrustedHostMiddleware(echo_app, allowed_hosts=["www.example.com"], www_redirect=False)
    assert TestClient(off, base_url="https://example.com").get("/", follow_redirects=False).status_code == 400


async def test_websocket_with_bad_host_is_refused() -> None:
    mw = TrustedHostMiddleware(echo_app, allowed_hosts=["example.com"])
    sent, _ = await drive(mw, scope_type="websocket", headers=[(b"host", b"evil.com")])
    assert sent == [{"type": "websocket.close", "code": 1008}]


@pytest.mark.parametrize("hosts", [[], "example.com", ["exa mple.com"], ["*example.com"], ["http://x.com"]])
def test_trusted_host_bad_configuration(hosts: object) -> None:
    with pytest.raises(ImproperlyConfigured):
        TrustedHostMiddleware(echo_app, allowed_hosts=hosts)  # type: ignore[arg-type]


def test_https_redirect_keeps_path_and_query() -> None:
    c = TestClient(HTTPSRedirectMiddleware(echo_app), base_url="http://example.com:8080")
    r = c.post("/p/q?x=1&y=%20", follow_redirects=False)
    assert r.status_code == 308
    assert r.headers["location"] == "https://example.com/p/q?x=1&y=%20"


def test_https_redirect_custom_port_and_https_passthrough() -> None:
    c = TestClient(HTTPSRedirectMiddleware(echo_app, https_port=8443), base_url="http://example.com")
    assert c.get("/x", follow_redirects=False).headers["location"] == "https://example.com:8443/x"
    secure = TestClient(HTTPSRedirectMiddleware(echo_app), base_url="https://example.com")
    assert secure.get("/x").json()["scheme"] == "https"


async def test_websocket_redirect_with_extension_and_refusal_without() -> None:
    mw = HTTPSRedirectMiddleware(echo_app)
    sent, _ = await drive(
        mw,
        scope_type="websocket",
        scheme="ws",
        path="/chat",
        headers=[(b"host", b"example.com")],
        extra={"extensions": {"websocket.http.response": {}}},
    )
    assert sent[0]["type"] == "websocket.http.response.start"
    assert dict(sent[0]["headers"])[b"location"] == b"wss://example.com/chat"
    sent, _ = await drive(mw, scope_type="websocket", scheme="ws", headers=[(b"host", b"example.com")])
    assert sent == [{"type": "websocket.close", "code": 1008}]


async def test_redirect_without_host_uses_server() -> None:
    sent, _ = await drive(HTTPSRedirectMiddleware(echo_app), headers=[])
    assert start_headers(sent)["location"] == "https://testserver/"


@pytest.mark.parametrize("options", [{"https_port": 0}, {"status_code": 302.5}, {"status_code": 200}])
def test_https_redirect_bad_configuration(options: dict[str, object]) -> None:
    with pytest.raises(ImproperlyConfigured):
        HTTPSRedirectMiddleware(echo_app, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(("path", "expected"), [("/api/x", "https://h.example/api/x"), ("/x", "https://h.example/api/x")])
async def test_redirect_with_root_path(path: str, expected: str) -> None:
    sent, _ = await drive(HTTPSRedirectMiddleware(echo_app), path=path, headers=[(b"host", b"h.example")], extra={"root_path": "/api"})
    assert start_headers(sent)["location"] == expected


def test_ipv6_literal_host() -> None:
    mw = TrustedHostMiddleware(echo_app, allowed_hosts=["[::1]"])
    assert TestClient(mw).get("/", headers={"host": "[::1]:8000"}).status_code == 200
    assert TestClient(mw).get("/", headers={"host": "[::2]:8000"}).status_code == 400
