"""Security review of CSRFMiddleware: exemption resolution, login rotation, hostile input."""

from __future__ import annotations

import json

import pytest
from sess_helpers import SECRET

from covet import Covet
from covet._types import Receive, Scope, Send
from covet.csrf import CSRFMiddleware, csrf_exempt, get_csrf_token
from covet.sessions import MemoryStore, SessionMiddleware, rotate
from covet.testing import TestClient


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
