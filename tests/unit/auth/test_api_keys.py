"""covet.auth.api_keys: key format, hashed storage, verification, expiry, revocation,
last use, secret rotation, scopes, and the handler dependency (401/403, OpenAPI)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import re
from collections.abc import Coroutine
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import pytest

from covet import Covet, Depends
from covet.auth import api_keys
from covet.auth.api_keys import (
    APIKeyRecord,
    APIKeys,
    ExpiredAPIKey,
    InvalidAPIKey,
    MemoryAPIKeyStore,
    RevokedAPIKey,
)
from covet.security import APIKeyCookie, APIKeyHeader, APIKeyQuery, HTTPBearer
from covet.testing import TestClient

T = TypeVar("T")
SECRET = "server-side secret, 32+ bytes long"
START = datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc)
KEY_FORMAT = re.compile(r"sk_live_[0-9A-Za-z]{12}_[0-9A-Za-z]{32}")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class CountingStore(MemoryAPIKeyStore):
    __slots__ = ("updates",)

    def __init__(self) -> None:
        super().__init__()
        self.updates: list[dict[str, Any]] = []

    async def update(self, key_id: str, **changes: Any) -> bool:
        self.updates.append(changes)
        return await super().update(key_id, **changes)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store() -> CountingStore:
    return CountingStore()


@pytest.fixture
def keys(store: CountingStore, clock: Clock) -> APIKeys:
    return APIKeys(store, secret=SECRET, clock=clock)


# -- issuing ------------------------------------------------------------------------------


async def test_key_format_and_stored_hash(keys: APIKeys, store: CountingStore) -> None:
    key, record = await keys.create("user:7", scopes=["orders:read"], name="CI")
    assert KEY_FORMAT.fullmatch(key)
    assert key.split("_")[2] == record.key_id and record.prefix == "sk_live"
    assert record.key_hash == hmac.new(SECRET.encode(), key.encode(), hashlib.sha256).hexdigest()
    stored = await store.get(record.key_id)
    assert stored == record
    assert all(key not in str(value) and key.split("_")[3] not in str(value)
               for value in dataclasses.asdict(stored).values())  # fmt: skip
    assert "key_hash" not in repr(record) and record.key_hash not in repr(record)
    assert (record.principal, record.scopes, record.name) == ("user:7", ("orders:read",), "CI")
    assert (record.created_at, record.expires_at, record.revoked_at, record.last_used_at) == (
        START, None, None, None)


async def test_keys_are_unique(keys: APIKeys) -> None:
    made = [await keys.create("p") for _ in range(20)]
    assert len({k for k, _ in made}) == len({r.key_id for _, r in made}) == 20


async def test_custom_prefix(store: CountingStore) -> None:
    test_keys = APIKeys(store, secret=SECRET, prefix="acme_test")
    key, record = await test_keys.create("p")
    assert key.startswith("acme_test_") and record.prefix == "acme_test"
    assert (await test_keys.verify(key)).key_id == record.key_id


@pytest.mark.parametrize("prefix", ["", "SK", "sk-live", "_sk", "sk_", "9sk", "sk__live", "x" * 33])
def test_bad_prefixes(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        APIKeys(MemoryAPIKeyStore(), secret=SECRET, prefix=prefix)


@pytest.mark.parametrize("secret", ["", "short", b"0123456789abcde"])
def test_hashing_secret_must_be_long_enough(secret: str | bytes) -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        APIKeys(MemoryAPIKeyStore(), secret=secret)
    with pytest.raises(ValueError, match="16 bytes"):
        APIKeys(MemoryAPIKeyStore(), secret=SECRET, previous_secrets=[secret])


async def test_create_checks_its_arguments(keys: APIKeys) -> None:
    with pytest.raises(ValueError, match="principal"):
        await keys.create("")
    with pytest.raises(ValueError, match="principal"):
        await keys.create("x" * 256)
    with pytest.raises(ValueError, match="name"):
        await keys.create("p", name="n" * 101)
    with pytest.raises(TypeError, match="scopes"):
        await keys.create("p", scopes="orders:read")
    with pytest.raises(ValueError, match="invalid permission"):
        await keys.create("p", scopes=["orders read"])
    with pytest.raises(ValueError, match="positive"):
        await keys.create("p", expires_in=timedelta(0))
    with pytest.raises(TypeError, match="not both"):
        await keys.create("p", expires_in=timedelta(days=1), expires_at=START)
    with pytest.raises(ValueError, match="timezone-aware"):
        await keys.create("p", expires_at=datetime(2031, 1, 1))
    _, record = await keys.create("p", scopes=["a:*", "b", "a:*"], expires_at=START + timedelta(days=1))
    assert record.scopes == ("a:*", "b") and record.expires_at == START + timedelta(days=1)


# -- verifying ----------------------------------------------------------------------------


async def test_verify_returns_the_record_and_records_use(keys: APIKeys, clock: Clock) -> None:
    key, record = await keys.create("user:7")
    clock.now += timedelta(seconds=5)
    verified = await keys.verify(key)
    assert verified.key_id == record.key_id and verified.last_used_at == clock.now


def tamper(key: str) -> str:
    return key[:-1] + ("A" if key[-1] != "A" else "B")


async def test_wrong_unknown_and_malformed_keys(keys: APIKeys) -> None:
    key, _ = await keys.create("p")
    _, _, key_id, secret = key.split("_")
    other_id = ("Z" if key_id[0] != "Z" else "Y") + key_id[1:]
    bad = [
        tamper(key),                                  # wrong secret
        f"sk_live_{other_id}_{secret}",               # unknown id
        f"sk_test_{key_id}_{secret}",                 # other prefix
        key + "A", key[:-1], key.upper(), " " + key, key + "\n",
        "", "sk_live", "sk_live__", f"sk_live_{key_id}", key.replace("_", "-"),
        key[:-1] + "é", "x" * 10_000, key + "_" + secret,
    ]
    for candidate in bad:
        with pytest.raises(InvalidAPIKey) as info:
            await keys.verify(candidate)
        assert type(info.value) is InvalidAPIKey and info.value.message == "Invalid API key", candidate
    for not_a_string in (None, 12, b"sk_live"):
        with pytest.raises(InvalidAPIKey):
            await keys.verify(not_a_string)  # type: ignore[arg-type]


async def test_malformed_keys_never_reach_the_store(store: CountingStore) -> None:
    looked_up: list[str] = []

    class Spy(MemoryAPIKeyStore):
        async def get(self, key_id: str) -> APIKeyRecord | None:
            looked_up.append(key_id)
            return None

    spy = APIKeys(Spy(), secret=SECRET)
    for candidate in ("nope", "sk_test_" + "a" * 12 + "_" + "b" * 32, "sk_live_" + "a" * 12 + "_" + "b" * 31):
        with pytest.raises(InvalidAPIKey):
            await spy.verify(candidate)
    assert looked_up == []


async def test_hashes_are_compared_in_constant_time(keys: APIKeys, monkeypatch: pytest.MonkeyPatch) -> None:
    key, record = await keys.create("p")
    calls: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(api_keys.hmac, "compare_digest", spy)
    await keys.verify(key)
    with pytest.raises(InvalidAPIKey):
        await keys.verify(tamper(key))
    assert len(calls) == 2
    assert all(isinstance(a, bytes) and b == record.key_hash.encode() for a, b in calls)


async def test_expiry(keys: APIKeys, clock: Clock) -> None:
    key, record = await keys.create("p", expires_in=timedelta(hours=1))
    assert record.expires_at == START + timedelta(hours=1)
    clock.now = START + timedelta(minutes=59, seconds=59)
    assert not record.is_expired(clock.now)
    await keys.verify(key)
    clock.now = START + timedelta(hours=1)  # expires_at itself is too late
    with pytest.raises(ExpiredAPIKey, match="API key has expired"):
        await keys.verify(key)
    with pytest.raises(InvalidAPIKey) as info:  # the secret is checked first
        await keys.verify(tamper(key))
    assert type(info.value) is InvalidAPIKey


async def test_revocation(keys: APIKeys, store: CountingStore, clock: Clock) -> None:
    key, record = await keys.create("p")
    assert await keys.revoke(record.key_id)
    with pytest.raises(RevokedAPIKey, match="API key has been revoked"):
        await keys.verify(key)
    with pytest.raises(InvalidAPIKey) as info:
        await keys.verify(tamper(key))
    assert type(info.value) is InvalidAPIKey
    first = (await store.get(record.key_id)).revoked_at  # type: ignore[union-attr]
    clock.now += timedelta(days=1)
    assert await keys.revoke(record.key_id)  # idempotent: keeps the first time
    assert (await store.get(record.key_id)).revoked_at == first == START  # type: ignore[union-attr]
    assert not await keys.revoke("unknownkey12")


async def test_last_used_is_written_at_most_once_per_interval(
    keys: APIKeys, store: CountingStore, clock: Clock
) -> None:
    key, _ = await keys.create("p")
    await keys.verify(key)
    clock.now += timedelta(seconds=30)
    again = await keys.verify(key)
    assert again.last_used_at == START
    assert store.updates == [{"last_used_at": START}]
    clock.now += timedelta(seconds=30)
    assert (await keys.verify(key)).last_used_at == START + timedelta(minutes=1)
    assert len(store.updates) == 2


async def test_secret_rotation_rehashes_on_use(store: CountingStore) -> None:
    old_secret, new_secret = "the old secret, long enough", "the new secret, long enough"
    key, record = await APIKeys(store, secret=old_secret).create("p")
    assert not await _valid(APIKeys(store, secret=new_secret), key)
    rotating = APIKeys(store, secret=new_secret, previous_secrets=[old_secret])
    await rotating.verify(key)
    assert (await store.get(record.key_id)).key_hash == rotating.hash(key)  # type: ignore[union-attr]
    assert await _valid(APIKeys(store, secret=new_secret), key)            # old secret retired


async def _valid(keys: APIKeys, key: str) -> bool:
    try:
        await keys.verify(key)
    except InvalidAPIKey:
        return False
    return True


async def test_for_principal(keys: APIKeys, clock: Clock) -> None:
    _, first = await keys.create("ada")
    clock.now += timedelta(seconds=1)
    _, second = await keys.create("ada")
    await keys.create("bob")
    assert [r.key_id for r in await keys.for_principal("ada")] == [first.key_id, second.key_id]
    assert await keys.for_principal("nobody") == []


def test_record_scopes_use_permission_wildcards() -> None:
    record = APIKeyRecord("k", "h", "sk", "p", scopes=("orders:*", "users:read"))
    assert record.has_scope("orders:refund") and record.has_scope("users:read")
    assert not record.has_scope("users:write") and not record.has_scope("orders")


async def test_memory_store_contract() -> None:
    store = MemoryAPIKeyStore()
    record = APIKeyRecord("k1", "h", "sk", "p")
    await store.add(record)
    with pytest.raises(ValueError, match="exists"):
        await store.add(record)
    assert not await store.update("nope", name="x")
    with pytest.raises(ValueError, match="cannot update"):
        await store.update("k1", prefix="pk")
    with pytest.raises(ValueError, match="cannot update"):
        await store.update("k1", colour="red")
    assert await store.update("k1", name="renamed", scopes=["a:b"])
    assert (await store.get("k1")) == APIKeyRecord("k1", "h", "sk", "p", name="renamed", scopes=("a:b",),
                                                   created_at=record.created_at)
    assert await store.delete("k1") and not await store.delete("k1")
    assert await store.get("k1") is None


# -- the handler dependency ---------------------------------------------------------------

header = APIKeyHeader(name="X-API-Key")


def make_app(keys: APIKeys) -> Covet:
    app = Covet()
    any_key = keys.dependency(header)
    readers = keys.dependency(header, scopes=["orders:read"])
    writers = keys.dependency(header, scopes=["orders:write", "orders:read"])

    @app.get("/whoami")
    async def whoami(key: APIKeyRecord = Depends(any_key)) -> dict:
        return {"principal": key.principal, "scopes": list(key.scopes)}

    @app.get("/orders", dependencies=[Depends(readers)])
    async def orders() -> dict:
        return {"ok": True}

    @app.post("/orders")
    async def create_order(key: APIKeyRecord = Depends(writers)) -> dict:
        return {"by": key.principal}

    return app


def test_dependency_accepts_valid_keys(keys: APIKeys) -> None:
    key, _ = run(keys.create("svc:billing", scopes=["orders:*"]))
    with TestClient(make_app(keys)) as client:
        assert client.get("/whoami", headers={"X-API-Key": key}).json() == {
            "principal": "svc:billing", "scopes": ["orders:*"]}
        assert client.get("/orders", headers={"X-API-Key": key}).status_code == 200
        assert client.post("/orders", headers={"X-API-Key": key}).json() == {"by": "svc:billing"}


def test_dependency_401s_in_the_error_format(keys: APIKeys, clock: Clock) -> None:
    key, _ = run(keys.create("p", expires_in=timedelta(hours=1)))
    revoked, revoked_record = run(keys.create("p"))
    run(keys.revoke(revoked_record.key_id))
    with TestClient(make_app(keys)) as client:
        cases = [
            ({}, "Not authenticated"),
            ({"X-API-Key": "garbage"}, "Invalid API key"),
            ({"X-API-Key": tamper(key)}, "Invalid API key"),
            ({"X-API-Key": revoked}, "API key has been revoked"),
        ]
        clock.now = START + timedelta(hours=2)
        cases.append(({"X-API-Key": key}, "API key has expired"))
        for headers, message in cases:
            response = client.get("/whoami", headers=headers)
            assert response.status_code == 401, message
            assert response.headers["www-authenticate"] == "APIKey"
            body = response.json()
            assert set(body) == {"error", "trace_id"} and body["error"] == message


def test_dependency_403s_without_the_scopes(keys: APIKeys) -> None:
    reader, _ = run(keys.create("p", scopes=["orders:read"]))
    nothing, _ = run(keys.create("p"))
    with TestClient(make_app(keys)) as client:
        assert client.get("/orders", headers={"X-API-Key": reader}).status_code == 200
        denied = client.post("/orders", headers={"X-API-Key": reader})
        assert denied.status_code == 403
        assert set(denied.json()) == {"error", "trace_id"}
        assert denied.json()["error"] == "API key lacks scope: orders:write"
        assert client.get("/orders", headers={"X-API-Key": nothing}).json()["error"] == (
            "API key lacks scope: orders:read")
        assert client.get("/whoami", headers={"X-API-Key": nothing}).status_code == 200


def test_query_cookie_and_bearer_readers(keys: APIKeys) -> None:
    key, _ = run(keys.create("p"))
    app = Covet()
    by_query = keys.dependency(APIKeyQuery(name="api_key"))
    by_cookie = keys.dependency(APIKeyCookie(name="key"))
    by_bearer = keys.dependency(HTTPBearer())

    @app.get("/q")
    async def q(k: APIKeyRecord = Depends(by_query)) -> str:
        return k.principal

    @app.get("/c")
    async def c(k: APIKeyRecord = Depends(by_cookie)) -> str:
        return k.principal

    @app.get("/b")
    async def b(k: APIKeyRecord = Depends(by_bearer)) -> str:
        return k.principal

    with TestClient(app) as client:
        assert client.get(f"/q?api_key={key}").json() == "p"
        assert client.get("/c", cookies={"key": key}).json() == "p"
        assert client.get("/b", headers={"Authorization": f"Bearer {key}"}).json() == "p"
        bad = client.get("/b", headers={"Authorization": f"Bearer {tamper(key)}"})
        assert (bad.status_code, bad.headers["www-authenticate"]) == (401, "Bearer")


def test_optional_key(keys: APIKeys) -> None:
    key, _ = run(keys.create("p"))
    app = Covet()
    maybe = keys.dependency(APIKeyHeader(name="X-API-Key", auto_error=False))

    @app.get("/")
    async def index(k: APIKeyRecord | None = Depends(maybe)) -> dict:
        return {"principal": k.principal if k else None}

    with TestClient(app) as client:
        assert client.get("/").json() == {"principal": None}
        assert client.get("/", headers={"X-API-Key": key}).json() == {"principal": "p"}
        assert client.get("/", headers={"X-API-Key": "wrong"}).status_code == 401  # a bad key is not anonymous


def test_dependency_checks_scopes_at_definition(keys: APIKeys) -> None:
    with pytest.raises(ValueError):
        keys.dependency(header, scopes=["orders:*"])
    with pytest.raises(TypeError):
        keys.dependency(header, scopes="orders:read")


def test_openapi_lists_the_scopes_under_the_reader(keys: APIKeys) -> None:
    doc = make_app(keys).openapi()
    assert doc["paths"]["/whoami"]["get"]["security"] == [{"APIKeyHeader": []}]
    assert doc["paths"]["/orders"]["get"]["security"] == [{"APIKeyHeader": ["orders:read"]}]
    assert doc["paths"]["/orders"]["post"]["security"] == [{"APIKeyHeader": ["orders:write", "orders:read"]}]
    assert doc["components"]["securitySchemes"] == {
        "APIKeyHeader": {"type": "apiKey", "name": "X-API-Key", "in": "header"}}
