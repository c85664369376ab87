"""Security review of SessionMiddleware and the stores: revival after log-out, fixation."""

from __future__ import annotations

import asyncio
import json

import pytest
from sess_helpers import SECRET

from covet._types import Receive, Scope, Send
from covet.sessions import MemoryStore, SessionMiddleware
from covet.testing import AsyncTestClient


def slow_app(gate: asyncio.Event, started: asyncio.Event) -> object:
    """``/login`` signs in; ``/slow`` waits for ``gate`` then writes the session (a slow
    upload or a long handler); ``/logout`` clears it; anything else shows it."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        session = scope["session"]
        if scope["path"] == "/login":
            session["user"] = "alice"
        elif scope["path"] == "/slow":
            started.set()
            await gate.wait()
            session["last_seen"] = "now"
        elif scope["path"] == "/logout":
            session.clear()
        body = json.dumps(dict(session)).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    return app


async def run_logout_race(rolling: bool) -> tuple[MemoryStore, AsyncTestClient, str]:
    gate, started = asyncio.Event(), asyncio.Event()
    store = MemoryStore()
    stack = SessionMiddleware(slow_app(gate, started), secret_key=SECRET, store=store, rolling=rolling)  # type: ignore[arg-type]
    owner = AsyncTestClient(stack)
    await owner.get("/login")
    stolen = owner.cookies["session"]
    thief = AsyncTestClient(stack, cookies={"session": stolen})
    in_flight = asyncio.ensure_future(thief.get("/slow"))
    await started.wait()
    assert (await owner.get("/logout")).json() == {}
    assert len(store) == 0
    gate.set()
    await in_flight
    return store, thief, stolen


async def test_request_in_flight_during_logout_cannot_revive_the_session() -> None:
    """A stolen cookie used for a slow request that spans the owner's log-out must not
    write the deleted session back (the old cookie would be valid again, signed in)."""
    store, thief, stolen = await run_logout_race(rolling=False)
    assert len(store) == 0
    replay = AsyncTestClient(thief.app, cookies={"session": stolen})
    assert (await replay.get("/me")).json() == {}


async def test_rolling_sessions_are_not_revived_either() -> None:
    store, thief, stolen = await run_logout_race(rolling=True)
    assert len(store) == 0
    assert (await AsyncTestClient(thief.app, cookies={"session": stolen}).get("/me")).json() == {}


async def test_memory_store_update_only_touches_live_entries() -> None:
    store = MemoryStore()
    assert await store.update("gone", {"a": 1}, 60) is False
    assert await store.load("gone") is None
    await store.save("sid", {"a": 1}, 60)
    assert await store.update("sid", {"a": 2}, 60) is True
    assert await store.load("sid") == {"a": 2}
    await store.save("old", {"a": 1}, 0)
    assert await store.update("old", {"a": 2}, 60) is False
    assert await store.load("old") is None


async def test_oversized_cookie_session_is_dropped_not_left_stale(caplog: pytest.LogCaptureFixture) -> None:
    """An over-4 KB cookie was sent anyway: browsers ignore it and keep the previous
    cookie, which still verifies, so a privilege the handler just removed lived on."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        session = scope["session"]
        if scope["path"] == "/grant":
            session["admin"] = True
            session["notes"] = "n" * 2000
        elif scope["path"] == "/revoke":
            del session["admin"]
            session["notes"] = "n" * 5000  # grows past what a browser keeps
        body = json.dumps(dict(session)).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    c = AsyncTestClient(SessionMiddleware(app, secret_key=SECRET))
    granted = await c.get("/grant")
    assert "session=" in granted.headers["set-cookie"]
    assert c.cookies["session"]
    revoked = await c.get("/revoke")
    cookie = revoked.headers["set-cookie"]
    assert cookie.startswith("session=;") and "Max-Age=0" in cookie
    assert any("session was dropped" in rec.getMessage() for rec in caplog.records)
    assert "session" not in c.cookies  # the browser no longer holds the admin cookie
    assert (await c.get("/me")).json() == {}


async def test_oversized_first_session_sets_no_cookie(caplog: pytest.LogCaptureFixture) -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scope["session"]["blob"] = "x" * 5000
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    r = await AsyncTestClient(SessionMiddleware(app, secret_key=SECRET)).get("/")
    assert "set-cookie" not in r.headers
    assert any("over the 4096" in rec.getMessage() for rec in caplog.records)
