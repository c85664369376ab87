"""Server-side session stores against the real services: Redis, SQLite, PostgreSQL, MariaDB.

Every store passes the same contract and the same middleware flow (through
``AsyncTestClient``, so the store's client lives on the test's event loop).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from covet._types import Receive, Scope, Send
from covet.db import Database
from covet.sessions import DatabaseStore, MemoryStore, RedisStore, SessionMiddleware, rotate
from covet.testing import AsyncTestClient

pytestmark = pytest.mark.integration
SECRET = "integration-secret-key-0123456789"
BACKENDS = [
    pytest.param("memory", id="memory"),
    pytest.param("redis", id="redis", marks=pytest.mark.redis),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mysql", marks=pytest.mark.mysql),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """``(kind, url)``, resolved synchronously (the service fixtures run their own loop)."""
    kind = request.param
    if kind == "memory":
        return kind, ""
    if kind == "redis":
        return kind, request.getfixturevalue("redis_url")
    if kind == "sqlite":
        return kind, f"sqlite:///{tmp_path / 'sessions.db'}"
    return kind, request.getfixturevalue(f"{kind}_url")


@pytest.fixture
async def store(backend: tuple[str, str], request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    kind, url = backend
    if kind == "memory":
        yield MemoryStore()
        return
    if kind == "redis":
        redis_store = RedisStore(url, prefix=request.getfixturevalue("redis_prefix"))
        yield redis_store
        await redis_store.close()
        return
    db = Database(url, alias=f"sessions-{kind}-{id(request)}")
    await db.connect()
    table = f"covet_sessions_{abs(hash(request.node.name)) % 10**8}"
    try:
        yield DatabaseStore(db, table=table)
        await db.execute(f"DROP TABLE IF EXISTS {db.dialect.quote(table)}")
    finally:
        await db.disconnect()
        db.unregister()


async def test_store_contract(store: Any) -> None:
    assert await store.load("missing") is None
    await store.save("sid-1", {"user": "alice", "n": 1, "nested": {"a": [1, 2]}}, 60)
    assert await store.load("sid-1") == {"user": "alice", "n": 1, "nested": {"a": [1, 2]}}
    await store.save("sid-1", {"user": "bob"}, 60)  # replaces (upsert)
    assert await store.load("sid-1") == {"user": "bob"}
    await store.delete("sid-1")
    assert await store.load("sid-1") is None
    await store.delete("sid-1")  # deleting twice is fine


async def test_store_expiry(store: Any) -> None:
    if isinstance(store, RedisStore):
        await store.save("short", {"a": 1}, 1)
        await asyncio.sleep(1.2)
    else:
        await store.save("short", {"a": 1}, 0)
    assert await store.load("short") is None


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    session = scope["session"]
    if scope["path"] == "/login":
        rotate(scope)
        session["user"] = "alice"
    elif scope["path"] == "/cart":
        session["cart"] = [1, 2]
    elif scope["path"] == "/logout":
        session.clear()
    body = json.dumps({"session": dict(session), "id": session.session_id}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


async def test_middleware_flow(store: Any) -> None:
    client = AsyncTestClient(SessionMiddleware(app, secret_key=SECRET, store=store))
    await client.get("/cart")
    anon_id = (await client.get("/me")).json()["id"]
    assert await store.load(anon_id) == {"cart": [1, 2]}
    await client.get("/login")
    me = (await client.get("/me")).json()
    assert me["session"] == {"cart": [1, 2], "user": "alice"}
    assert me["id"] != anon_id
    assert await store.load(anon_id) is None  # fixation defence: old entry deleted
    # a client replaying the pre-login cookie gets nothing
    stale = AsyncTestClient(SessionMiddleware(app, secret_key=SECRET, store=store))
    await stale.get("/cart")
    assert (await stale.get("/me")).json()["session"] == {"cart": [1, 2]}
    await client.get("/logout")
    assert await store.load(me["id"]) is None
    assert (await client.get("/me")).json()["session"] == {}


async def test_database_store_purge(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'purge.db'}", alias="sessions-purge")
    try:
        store = DatabaseStore(db, purge_every=2)
        await store.save("old", {"a": 1}, 0)
        await store.save("new", {"a": 2}, 60)  # second save triggers the purge
        assert await db.fetch_val("SELECT COUNT(*) FROM covet_sessions") == 1
        assert await store.purge() == 0
    finally:
        await db.disconnect()
        db.unregister()


async def test_redis_store_with_existing_client(redis_url: str, redis_prefix: str) -> None:
    import redis.asyncio as redis_asyncio

    client = redis_asyncio.Redis.from_url(redis_url)
    try:
        store = RedisStore(client=client, prefix=redis_prefix)
        await store.save("x", {"v": 1}, 30)
        assert 0 < await client.ttl(redis_prefix + "x") <= 30
        await client.set(redis_prefix + "corrupt", b"not json")
        assert await store.load("corrupt") is None
        await store.close()  # does not close a client it did not create
        assert await client.ping()
    finally:
        await client.aclose()


@pytest.mark.redis
def test_redis_store_used_from_two_event_loops(redis_url: str, redis_prefix: str) -> None:
    store = RedisStore(redis_url, prefix=redis_prefix)

    async def save() -> None:
        await store.save("shared", {"n": 1}, 30)

    async def load_then_close() -> dict[str, Any] | None:
        try:
            return await store.load("shared")
        finally:
            await store.close()

    asyncio.run(save())  # client bound to the first loop, which is now closed
    assert asyncio.run(load_then_close()) == {"n": 1}


async def test_store_update_never_revives_a_deleted_entry(store: Any) -> None:
    """``update`` rewrites live entries only: a session deleted by a log-out while
    another request ran must stay deleted when that request writes back."""
    assert await store.update("never", {"a": 1}, 60) is False
    assert await store.load("never") is None
    await store.save("sid-u", {"a": 1}, 60)
    assert await store.update("sid-u", {"a": 2}, 60) is True
    assert await store.update("sid-u", {"a": 2}, 60) is True  # identical rewrite (MySQL: 0 rows changed)
    assert await store.load("sid-u") == {"a": 2}
    await store.delete("sid-u")
    assert await store.update("sid-u", {"a": 3}, 60) is False
    assert await store.load("sid-u") is None


async def test_logout_during_a_slow_request_stays_logged_out(store: Any) -> None:
    gate, started = asyncio.Event(), asyncio.Event()

    async def slow(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] == "/slow":
            started.set()
            await gate.wait()
            scope["session"]["seen"] = 1
        await app(scope, receive, send)

    stack = SessionMiddleware(slow, secret_key=SECRET, store=store)
    owner = AsyncTestClient(stack)
    await owner.get("/login")
    stolen = owner.cookies["session"]
    in_flight = asyncio.ensure_future(AsyncTestClient(stack, cookies={"session": stolen}).get("/slow"))
    await started.wait()
    await owner.get("/logout")
    gate.set()
    await in_flight
    replay = AsyncTestClient(stack, cookies={"session": stolen})
    assert (await replay.get("/me")).json()["session"] == {}
