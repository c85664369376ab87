"""Security review of CSRFMiddleware: exemption resolution, login rotation, hostile input."""

from __future__ import annotations

import hashlib
import json
import time

import pytest
from sess_helpers import SECRET
from test_csrf import app

from covet import Covet
from covet._types import Receive, Scope, Send
from covet.csrf import CSRFMiddleware, csrf_exempt, get_csrf_token
from covet.sessions import MemoryStore, SessionMiddleware, rotate
from covet.sessions.signing import b64encode
from covet.testing import TestClient
from covet.websockets import WebSocketDisconnect


def test_static_route_does_not_borrow_exemption_of_parametrised_route() -> None:
    """``POST /items/new`` is a protected handler even though ``POST /items/{id}`` is
    exempt: the router sends it to the static route, so the token must be checked."""
    app = Covet()
    app.add_middleware(CSRFMiddleware, secret_key=SECRET)

    @app.post("/items/new")
    async def create() -> dict[str, bool]:
        return {"created": True}

    @app.post("/items/{item_id}")
    @csrf_exempt
    async def hook(item_id: str) -> dict[str, str]:
        return {"hook": item_id}

    c = TestClient(app)
    r = c.post("/items/new")
    assert r.status_code == 403
    assert r.json()["error"].startswith("CSRF token missing")
    assert c.post("/items/abc").json() == {"hook": "abc"}


async def login_app(scope: Scope, receive: Receive, send: Send) -> None:
    """``GET /`` hands out a token; ``POST /login`` rotates the session (as a log-in
    must); ``POST /logout`` clears and rotates; other POSTs echo the session."""
    session = scope["session"]
    payload: dict[str, object] = {}
    if scope["method"] == "GET":
        payload["token"] = get_csrf_token(scope)
    elif scope["path"] == "/login":
        rotate(scope)
        session["user"] = "victim"
        if scope["query_string"] == b"render":
            payload["token"] = get_csrf_token(scope)
    elif scope["path"] == "/logout":
        session.clear()
        rotate(scope)
    payload["session"] = dict(session)
    body = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def login_stack(store: MemoryStore | None) -> TestClient:
    return TestClient(SessionMiddleware(CSRFMiddleware(login_app, secret_key=SECRET), secret_key=SECRET, store=store))


@pytest.mark.parametrize("store", [None, MemoryStore()], ids=["cookie", "memory"])
def test_login_rotation_replaces_a_planted_csrf_token(store: MemoryStore | None) -> None:
    """Session fixation + CSRF: the attacker plants their own session (and so knows its
    CSRF token) in the victim's browser; after the victim logs in that token is dead."""
    attacker = login_stack(store)
    known = attacker.get("/").json()["token"]
    planted = attacker.cookies["session"]

    victim = login_stack(store)
    victim.cookies.set("session", planted)
    r = victim.post("/login", headers={"x-csrf-token": known})
    assert r.status_code == 200
    assert r.json()["session"]["user"] == "victim"
    assert victim.cookies["session"] != planted

    forged = victim.post("/transfer", headers={"x-csrf-token": known})
    assert forged.status_code == 403
    # the victim's own pages carry the new token, which works
    fresh = victim.get("/").json()["token"]
    assert victim.post("/transfer", headers={"x-csrf-token": fresh}).status_code == 200
    # and the cookie an SPA reads was re-issued with the new token
    assert victim.post("/transfer", headers={"x-csrf-token": victim.cookies["csrftoken"]}).status_code == 200


def test_token_rendered_after_rotation_in_the_same_request_is_the_new_one() -> None:
    c = login_stack(MemoryStore())
    old = c.get("/").json()["token"]
    rendered = c.post("/login?render", headers={"x-csrf-token": old}).json()["token"]
    assert c.post("/transfer", headers={"x-csrf-token": rendered}).status_code == 200
    assert c.post("/transfer", headers={"x-csrf-token": old}).status_code == 403


def test_logout_rotation_drops_the_token_and_the_session() -> None:
    store = MemoryStore()
    c = login_stack(store)
    token = c.get("/").json()["token"]
    c.post("/login", headers={"x-csrf-token": token})
    token = c.get("/").json()["token"]
    r = c.post("/logout", headers={"x-csrf-token": token})
    assert r.json()["session"] == {}
    assert len(store) == 0
    assert "session" not in c.cookies


def _multipart(parts: list[tuple[str, bytes]], boundary: str = "XyZ") -> bytes:
    out = b""
    for name, value in parts:
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


async def _post_chunked(mw: CSRFMiddleware, body: bytes, chunk: int, cookie: str) -> tuple[int, bytes]:
    """Send ``body`` in ``chunk``-byte messages; the status and the body the app read."""
    chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)]
    position = 0

    async def receive() -> dict[str, object]:
        nonlocal position
        position += 1
        if position > len(chunks):
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunks[position - 1], "more_body": True}

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "method": "POST", "path": "/submit", "scheme": "http", "query_string": b"",
        "headers": [(b"content-type", b"multipart/form-data; boundary=XyZ"), (b"cookie", f"csrftoken={cookie}".encode())],
    }
    await mw(scope, receive, send)  # type: ignore[arg-type]
    start = sent[0]
    body_read = b"".join(m.get("body", b"") for m in sent[1:])  # type: ignore[misc]
    return int(start["status"]), body_read  # type: ignore[call-overload]


def _token_pair(mw: CSRFMiddleware) -> tuple[str, str]:
    raw = bytes(range(32))
    return mw.signer.sign(raw), b64encode(raw)


async def test_multipart_scan_is_linear_in_small_chunks() -> None:
    """1 MB of multipart in 512-byte messages was rescanned from the start on every
    message (quadratic: ~0.7 s of CPU per request, before any token check)."""
    mw = CSRFMiddleware(app, secret_key=SECRET)
    cookie, _ = _token_pair(mw)
    body = _multipart([("upload", b"a" * (1024 * 1024 - 100))])
    started = time.process_time()
    status, _ = await _post_chunked(mw, body, 512, cookie)
    spent = time.process_time() - started
    assert status == 403
    assert spent < 0.2, f"{spent:.3f}s of CPU for one 1 MB form"


async def test_multipart_token_found_whatever_the_chunking() -> None:
    mw = CSRFMiddleware(app, secret_key=SECRET)
    cookie, token = _token_pair(mw)
    parts = [(f"f{i}", b"v" * i) for i in range(30)] + [("csrf_token", token.encode()), ("after", b"x")]
    body = _multipart(parts)
    for chunk in (1, 2, 3, 7, 64, len(body)):
        status, echoed = await _post_chunked(mw, body, chunk, cookie)
        assert status == 200, chunk
        assert json.loads(echoed)["body"] == body.decode("latin-1"), chunk
    wrong = _multipart([("csrf_token", b"A" * 43)])
    assert (await _post_chunked(mw, wrong, 5, cookie))[0] == 403


async def test_replay_of_a_trickled_form_is_linear_and_intact() -> None:
    """The buffered messages of a form sent in tiny pieces were replayed one by one with
    ``list.pop(0)`` (quadratic: seconds of CPU for 1 MB in 4-byte messages); the app now
    gets what the scan read as one message."""
    reads: list[int] = []

    async def counting_app(scope: Scope, receive: Receive, send: Send) -> None:
        received = bytearray()
        while True:
            message = await receive()
            reads.append(len(message.get("body", b"")))
            received += message.get("body", b"")
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": hashlib.sha256(received).hexdigest().encode()})

    mw = CSRFMiddleware(counting_app, secret_key=SECRET)
    cookie, token = _token_pair(mw)
    body = b"a=" + b"b" * (64 * 1024) + b"&csrf_token=" + token.encode()
    chunks = [body[i : i + 4] for i in range(0, len(body), 4)]
    chunks.append(b"&tail=1")
    position = 0

    async def receive() -> dict[str, object]:
        nonlocal position
        position += 1
        return {"type": "http.request", "body": chunks[position - 1], "more_body": position < len(chunks)}

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "method": "POST", "path": "/", "scheme": "http", "query_string": b"",
        "headers": [
            (b"content-type", b"application/x-www-form-urlencoded"),
            (b"cookie", f"csrftoken={cookie}".encode()),
        ],
    }
    await mw(scope, receive, send)  # type: ignore[arg-type]
    assert sent[0]["status"] == 200
    assert sent[1]["body"] == hashlib.sha256(b"".join(chunks)).hexdigest().encode()
    assert reads == [len(body) + len(b"&tail=1")]  # one message, not 16 000


async def ws_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Accepts and tells the signed-in user (what a hijacking page would read)."""
    await receive()
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": str(scope["session"].get("user"))})
    await send({"type": "websocket.close", "code": 1000})


def ws_stack(**options: object) -> TestClient:
    options.setdefault("check_websocket_origin", True)
    csrf = CSRFMiddleware(ws_app, secret_key=SECRET, **options)  # type: ignore[arg-type]
    return TestClient(SessionMiddleware(csrf, secret_key=SECRET), base_url="https://app.example.com")


def _ws_text(c: TestClient, origin: str | None) -> str:
    headers = {"origin": origin} if origin is not None else None
    with c.websocket_connect("/ws", headers=headers) as ws:
        return str(ws.receive_text())


def test_cross_site_websocket_handshake_is_refused() -> None:
    """The session cookie rides along on a handshake opened by any page; without an
    Origin check a hostile page (e.g. a sibling subdomain: same-site, so even SameSite
    cookies are sent) could talk to the socket as the signed-in user."""
    c = ws_stack()
    c.cookies.set("session", SessionMiddleware(ws_app, secret_key=SECRET).signer.dumps({"user": "alice"}))
    for hostile in ("https://evil.example.com", "null", "http://app.example.com", "https://app.example.com.evil.io"):
        with pytest.raises(WebSocketDisconnect) as refused:
            _ws_text(c, hostile)
        assert refused.value.code == 1008, hostile
    assert _ws_text(c, "https://app.example.com") == "alice"
    assert _ws_text(c, "https://APP.example.com:443") == "alice"
    assert _ws_text(c, None) == "alice"  # not a browser: no ambient-credential attack


def test_websocket_origin_check_is_opt_in() -> None:
    """Off by default (CORSMiddleware may already decide which origins may connect)."""
    c = ws_stack(check_websocket_origin=False)
    assert _ws_text(c, "https://evil.example.com") == "None"


def test_websocket_trusted_and_exempt_origins() -> None:
    c = ws_stack(trusted_origins=["https://admin.example.com"], exempt_paths=["/public/*"])
    assert _ws_text(c, "https://admin.example.com") == "None"
    with c.websocket_connect("/public/feed", headers={"origin": "https://elsewhere.io"}) as ws:
        assert ws.receive_text() == "None"


def test_exempt_decorator_inside_a_mounted_sub_app_with_its_own_middleware() -> None:
    """The parent's Mount left in ``scope["route"]`` hid the sub-app's exempt routes."""
    sub = Covet(openapi_url=None)
    sub.add_middleware(CSRFMiddleware, secret_key=SECRET)

    @sub.post("/hook")
    @csrf_exempt
    async def hook() -> dict[str, bool]:
        return {"hook": True}

    @sub.post("/form")
    async def form() -> dict[str, bool]:
        return {"form": True}

    outer = Covet()
    outer.mount("/api", sub)
    c = TestClient(outer)
    assert c.post("/api/hook").json() == {"hook": True}
    assert c.post("/api/form").status_code == 403
