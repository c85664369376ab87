"""Server-side sessions with the memory store: ids, rotation, deletion, expiry."""

from __future__ import annotations

import asyncio

import pytest
from sess_helpers import SECRET, session_app

from covet.exceptions import ImproperlyConfigured
from covet.sessions import MemoryStore, SessionMiddleware, SessionStore, Signer
from covet.testing import TestClient


def make(store: MemoryStore | None = None, **options: object) -> tuple[TestClient, MemoryStore]:
    store = store if store is not None else MemoryStore()
    return TestClient(SessionMiddleware(session_app, secret_key=SECRET, store=store, **options)), store


def test_cookie_holds_only_a_signed_id() -> None:
    c, store = make()
    r = c.get("/set?user=alice")
    assert r.json()["id"] is None  # ids are assigned when the response starts
    (sid,) = store._entries
    cookie = r.cookies["session"]
    assert "alice" not in cookie
    assert Signer(SECRET, salt="covet.sessions.id").unsign(cookie) == sid.encode()
    assert c.get("/get").json() == {"session": {"user": "alice"}, "id": sid}


def test_rotate_on_login_gives_new_id_and_deletes_old_entry() -> None:
    c, store = make()
    c.get("/set?cart=3")
    old = c.get("/get").json()["id"]
    assert c.get("/login").json()["id"] == old  # rotation happens on the response
    new = c.get("/get").json()["id"]
    assert new != old and new is not None
    assert asyncio.run(store.load(old)) is None
    assert asyncio.run(store.load(new)) == {"cart": "3", "user": "alice"}
    assert c.get("/get").json()["session"] == {"cart": "3", "user": "alice"}


def test_fixation_planted_id_is_worthless() -> None:
    # An attacker plants a valid-looking id they know; the server never adopts it.
    planted = Signer(SECRET, salt="covet.sessions.id").sign(b"attacker-chosen-id")
    c, store = make()
    c.get("/login", headers={"cookie": f"session={planted}"})
    assert "attacker-chosen-id" not in store._entries
    assert c.get("/get").json()["id"] != "attacker-chosen-id"
    assert asyncio.run(store.load("attacker-chosen-id")) is None


def test_clear_deletes_entry_and_cookie() -> None:
    c, store = make()
    c.get("/set?a=1")
    r = c.get("/clear")
    assert "Max-Age=0" in r.headers["set-cookie"]
    assert len(store) == 0


def test_forged_and_unknown_ids_give_empty_session() -> None:
    c, _store = make()
    unknown = Signer(SECRET, salt="covet.sessions.id").sign(b"no-such-id")
    assert c.get("/get", headers={"cookie": f"session={unknown}"}).json()["session"] == {}
    assert c.get("/get", headers={"cookie": "session=forged.value"}).json()["session"] == {}
    # a signed cookie-session payload is not accepted as an id (different salt)
    cookie_token = Signer(SECRET, salt="covet.sessions.cookie").dumps({"user": "admin"})
    assert c.get("/get", headers={"cookie": f"session={cookie_token}"}).json()["session"] == {}


def test_unmodified_session_is_not_written() -> None:
    writes: list[str] = []

    class CountingStore(MemoryStore):
        async def save(self, session_id, data, ttl):  # type: ignore[no-untyped-def]
            writes.append(session_id)
            await super().save(session_id, data, ttl)

    c, _ = make(CountingStore())
    c.get("/set?a=1")
    c.get("/get")
    c.get("/get")
    assert len(writes) == 1


def test_rolling_refreshes_store_and_cookie() -> None:
    c, _ = make(rolling=True)
    c.get("/set?a=1")
    assert "set-cookie" in c.get("/get").headers


async def test_memory_store_ttl_and_bound() -> None:
    store = MemoryStore(max_entries=2)
    await store.save("a", {"n": 1}, ttl=60)
    await store.save("b", {"n": 2}, ttl=60)
    await store.load("a")  # a becomes most recently used
    await store.save("c", {"n": 3}, ttl=60)
    assert await store.load("b") is None
    assert await store.load("a") == {"n": 1}
    await store.save("short", {"n": 4}, ttl=0)
    assert await store.load("short") is None
    await store.delete("missing")
    assert isinstance(store, SessionStore)


def test_memory_store_bad_configuration() -> None:
    with pytest.raises(ImproperlyConfigured):
        MemoryStore(max_entries=0)


def test_redis_store_configuration_errors() -> None:
    from covet.sessions import RedisStore

    with pytest.raises(ImproperlyConfigured):
        RedisStore()
    with pytest.raises(ImproperlyConfigured):
        RedisStore("http://localhost")
    with pytest.raises(ImproperlyConfigured):
        RedisStore("redis://x", client=object())


def test_rotate_without_middleware_is_a_configuration_error() -> None:
    from covet.sessions import rotate

    with pytest.raises(ImproperlyConfigured):
        rotate({"type": "http"})
