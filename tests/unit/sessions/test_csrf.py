"""CSRFMiddleware: double-submit cookie, session tokens, forms, origins, exemptions."""

from __future__ import annotations

import json
import re

import pytest
from sess_helpers import SECRET

from covet._types import Receive, Scope, Send
from covet.csrf import CSRFMiddleware, csrf_exempt, get_csrf_token
from covet.exceptions import ImproperlyConfigured
from covet.routing.routes import Route
from covet.sessions import SessionMiddleware
from covet.testing import TestClient


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    """GET answers a fresh masked token; anything else echoes the body it could read."""
    if scope["method"] == "GET":
        payload = {"token": get_csrf_token(scope)}
    else:
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        payload = {"body": body.decode("latin-1"), "session": dict(scope.get("session", {}))}
    data = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": data})


def make(base_url: str = "http://testserver", **options: object) -> TestClient:
    return TestClient(CSRFMiddleware(app, secret_key=SECRET, **options), base_url=base_url)  # type: ignore[arg-type]


def prime(c: TestClient) -> str:
    """First GET: returns a masked token (the cookie is now in the jar)."""
    return c.get("/").json()["token"]


def test_first_contact_sets_a_readable_signed_cookie() -> None:
    c = make()
    r = c.get("/")
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("csrftoken=")
    assert "HttpOnly" not in cookie
    assert "SameSite=Lax" in cookie
    assert "set-cookie" not in c.get("/").headers  # sent once


def test_post_without_token_is_403() -> None:
    c = make()
    prime(c)
    r = c.post("/submit", content=b"x")
    assert r.status_code == 403
    assert "CSRF token missing" in r.json()["error"]


def test_post_without_cookie_is_403() -> None:
    r = make().post("/submit", headers={"x-csrf-token": "whatever"})
    assert r.status_code == 403
    assert "no CSRF cookie" in r.json()["error"]


def test_spa_echoes_cookie_in_header() -> None:
    c = make()
    prime(c)
    r = c.post("/submit", content=b"payload", headers={"x-csrf-token": c.cookies["csrftoken"]})
    assert r.status_code == 200
    assert r.json()["body"] == "payload"


def test_masked_template_token_in_header() -> None:
    c = make()
    token = prime(c)
    other = c.get("/").json()["token"]
    assert token != other  # masked differently each time
    assert c.post("/submit", headers={"x-csrf-token": token}).status_code == 200
    assert c.post("/submit", headers={"x-csrf-token": other}).status_code == 200


@pytest.mark.parametrize("bad", ["", "abc", "a.b", "A" * 43, "A" * 86, "ü"])
def test_wrong_token_is_403(bad: str) -> None:
    c = make()
    prime(c)
    r = c.post("/submit", headers={"x-csrf-token": bad})
    assert r.status_code == 403
    assert r.json()["error"] in ("CSRF token invalid",) or "missing" in r.json()["error"]


def test_token_from_another_client_is_403() -> None:
    alice, mallory = make(), make()
    prime(alice)
    mallory_token = prime(mallory)
    assert alice.post("/submit", headers={"x-csrf-token": mallory_token}).json()["error"] == "CSRF token invalid"


def test_forged_unsigned_cookie_is_rejected() -> None:
    c = make()
    token = prime(c)
    forged = "A" * 43 + ".AAAA"
    r = c.post("/submit", headers={"x-csrf-token": token, "cookie": f"csrftoken={forged}"})
    assert r.status_code == 403


def test_urlencoded_field_and_body_still_readable() -> None:
    c = make()
    token = prime(c)
    r = c.post("/submit", data={"csrf_token": token, "name": "widget"})
    assert r.status_code == 200
    assert "name=widget" in r.json()["body"]
    assert "csrf_token=" in r.json()["body"]


def test_urlencoded_wrong_field() -> None:
    c = make()
    prime(c)
    assert c.post("/submit", data={"csrf_token": "nope", "a": "b"}).status_code == 403
    assert c.post("/submit", data={"a": "b"}).status_code == 403


def multipart(fields: list[tuple[str, bytes, str | None]], boundary: str = "XyZ") -> tuple[bytes, str]:
    out = b""
    for name, value, filename in fields:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += f"--{boundary}\r\nContent-Disposition: {disp}\r\n\r\n".encode() + value + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def test_multipart_field_first_then_file() -> None:
    c = make()
    token = prime(c)
    big = b"\x00\xff" * 50_000
    body, ctype = multipart([("csrf_token", token.encode(), None), ("upload", big, "a.bin")])
    r = c.post("/submit", content=body, headers={"content-type": ctype})
    assert r.status_code == 200
    assert r.json()["body"].encode("latin-1") == body


def test_multipart_field_after_file_within_scan_limit() -> None:
    c = make()
    token = prime(c)
    body, ctype = multipart([("upload", b"x" * 2000, "a.txt"), ("csrf_token", token.encode(), None)])
    assert c.post("/submit", content=body, headers={"content-type": ctype}).status_code == 200


def test_multipart_file_named_like_the_field_does_not_count() -> None:
    c = make()
    token = prime(c)
    body, ctype = multipart([("csrf_token", token.encode(), "token.txt")])
    assert c.post("/submit", content=body, headers={"content-type": ctype}).status_code == 403


def test_multipart_field_past_scan_limit_is_403() -> None:
    c = make(max_form_scan=4096)
    token = prime(c)
    body, ctype = multipart([("upload", b"x" * 10_000, "a.txt"), ("csrf_token", token.encode(), None)])
    assert c.post("/submit", content=body, headers={"content-type": ctype}).status_code == 403


def test_multipart_without_boundary_is_403() -> None:
    c = make()
    prime(c)
    r = c.post("/submit", content=b"--x--", headers={"content-type": "multipart/form-data"})
    assert r.status_code == 403


async def test_streamed_multipart_replays_every_chunk() -> None:
    mw = CSRFMiddleware(app, secret_key=SECRET)
    c = make()
    token = prime(c)
    cookie = c.cookies["csrftoken"]
    body, ctype = multipart([("csrf_token", token.encode(), None), ("tail", b"y" * 3000, None)])
    chunks = [body[i : i + 100] for i in range(0, len(body), 100)]
    incoming = [{"type": "http.request", "body": ch, "more_body": i < len(chunks) - 1} for i, ch in enumerate(chunks)]
    sent: list[dict[str, object]] = []

    async def receive():  # type: ignore[no-untyped-def]
        return incoming.pop(0)

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    scope = {
        "type": "http", "method": "POST", "path": "/submit", "scheme": "http",
        "headers": [(b"host", b"testserver"), (b"content-type", ctype.encode()), (b"cookie", f"csrftoken={cookie}".encode())],
    }
    await mw(scope, receive, send)
    assert sent[0]["status"] == 200
    assert json.loads(sent[1]["body"])["body"].encode("latin-1") == body  # type: ignore[arg-type]


def test_origin_checks() -> None:
    c = make(trusted_origins=["https://partner.example"])
    token = prime(c)
    assert c.post("/s", headers={"x-csrf-token": token, "origin": "http://testserver"}).status_code == 200
    r = c.post("/s", headers={"x-csrf-token": token, "origin": "https://evil.example"})
    assert r.status_code == 403 and "origin" in r.json()["error"]
    assert c.post("/s", headers={"x-csrf-token": token, "origin": "https://partner.example"}).status_code == 200
    assert c.post("/s", headers={"x-csrf-token": token, "origin": "null"}).status_code == 403


def test_https_requires_same_origin_referer_without_origin() -> None:
    c = make(base_url="https://shop.example")
    r = c.get("/")
    assert "Secure" in r.headers["set-cookie"]
    token = r.json()["token"]
    assert c.post("/s", headers={"x-csrf-token": token}).status_code == 403
    assert c.post("/s", headers={"x-csrf-token": token, "referer": "https://shop.example/form"}).status_code == 200
    assert c.post("/s", headers={"x-csrf-token": token, "referer": "http://shop.example/form"}).status_code == 403
    assert c.post("/s", headers={"x-csrf-token": token, "referer": "https://evil.example/"}).status_code == 403


def test_safe_methods_pass_without_token() -> None:
    c = make()
    for method in ("HEAD", "OPTIONS"):
        assert c.request(method, "/").status_code == 200


def test_exempt_paths() -> None:
    c = make(exempt_paths=["/webhooks/*", re.compile(r"/api/v\d+/hook")])
    assert c.post("/webhooks/stripe", content=b"x").status_code == 200
    assert c.post("/api/v2/hook").status_code == 200
    assert c.post("/api/v2/hook/more").status_code == 403


async def hook(request: object) -> dict[str, bool]:
    return {"ok": True}


async def other(request: object) -> dict[str, bool]:
    return {"ok": True}


csrf_exempt(hook)


def test_exempt_decorator_via_scope_route() -> None:
    route = Route("/hook", hook, methods=["POST"])

    async def routed(scope: Scope, receive: Receive, send: Send) -> None:
        await app(scope, receive, send)

    mw = CSRFMiddleware(routed, secret_key=SECRET)

    async def with_route(scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = route
        await mw(scope, receive, send)

    assert TestClient(with_route).post("/hook").status_code == 200


def test_exempt_decorator_resolved_from_app_routes() -> None:
    class FakeApp:
        routes = [Route("/hooks/{name}", hook, methods=["POST"]), Route("/hooks/{name}", other, methods=["PUT"])]

    mw = CSRFMiddleware(app, secret_key=SECRET)

    async def outer(scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = fake
        await mw(scope, receive, send)

    fake = FakeApp()
    c = TestClient(outer)
    assert c.post("/hooks/github").status_code == 200
    assert c.put("/hooks/github").status_code == 403  # same path, not exempt for PUT
    assert c.post("/other").status_code == 403


def test_session_mode_synchronizer_token() -> None:
    stack = SessionMiddleware(CSRFMiddleware(app, secret_key=SECRET), secret_key=SECRET)
    c = TestClient(stack)
    token = c.get("/").json()["token"]
    assert "session" in c.cookies and "csrftoken" in c.cookies
    r = c.post("/s", headers={"x-csrf-token": token})
    assert r.status_code == 200
    assert "_csrf_token" in r.json()["session"]
    # a new session (cookie dropped) invalidates the old token
    c.cookies.delete("session")
    assert c.post("/s", headers={"x-csrf-token": token}).status_code == 403


def test_session_mode_required_but_missing() -> None:
    c = TestClient(CSRFMiddleware(app, secret_key=SECRET, use_session=True), raise_server_exceptions=True)
    with pytest.raises(ImproperlyConfigured):
        c.get("/")


def test_get_csrf_token_without_middleware() -> None:
    with pytest.raises(ImproperlyConfigured):
        get_csrf_token({"type": "http"})


@pytest.mark.parametrize(
    "options",
    [
        {"secret_key": "short"},
        {"secret_key": SECRET, "cookie_name": "bad name"},
        {"secret_key": SECRET, "header_name": "X Bad"},
        {"secret_key": SECRET, "trusted_origins": ["partner.example"]},
        {"secret_key": SECRET, "trusted_origins": "https://a.example"},
        {"secret_key": SECRET, "max_form_scan": 10},
        {"secret_key": SECRET, "cookie_samesite": "none", "cookie_secure": False},
    ],
)
def test_bad_configuration(options: dict[str, object]) -> None:
    with pytest.raises(ImproperlyConfigured):
        CSRFMiddleware(app, **options)  # type: ignore[arg-type]


async def test_streamed_urlencoded_token_found_before_the_scan_limit() -> None:
    c = make()
    token = prime(c)
    cookie = c.cookies["csrftoken"]
    first = f"csrf_token={token}&a=1&".encode()
    rest = b"b=" + b"x" * 5000
    sent: list[dict[str, object]] = []
    incoming = [
        {"type": "http.request", "body": first, "more_body": True},
        {"type": "http.request", "body": rest[:2500], "more_body": True},
        {"type": "http.request", "body": rest[2500:], "more_body": False},
    ]

    async def receive():  # type: ignore[no-untyped-def]
        return incoming.pop(0)

    async def send(message):  # type: ignore[no-untyped-def]
        sent.append(message)

    scope = {
        "type": "http", "method": "POST", "path": "/f", "scheme": "http",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"cookie", f"csrftoken={cookie}".encode()),
        ],
    }
    await CSRFMiddleware(app, secret_key=SECRET, max_form_scan=1024)(scope, receive, send)
    assert sent[0]["status"] == 200
    assert json.loads(sent[1]["body"])["body"].encode() == first + rest  # type: ignore[arg-type]


def test_urlencoded_token_past_the_scan_limit_is_403() -> None:
    c = make(max_form_scan=1024)
    token = prime(c)
    body = b"pad=" + b"x" * 2000 + f"&csrf_token={token}".encode()
    r = c.post("/f", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 403


def test_host_prefixed_cookie_needs_secure() -> None:
    with pytest.raises(ImproperlyConfigured):
        CSRFMiddleware(app, secret_key=SECRET, cookie_name="__Host-csrftoken")
    c = TestClient(
        CSRFMiddleware(app, secret_key=SECRET, cookie_name="__Host-csrftoken", cookie_secure=True),
        base_url="https://shop.example",
    )
    r = c.get("/")
    assert r.headers["set-cookie"].startswith("__Host-csrftoken=")
    assert "Secure" in r.headers["set-cookie"]
