"""The ORM-backed API key store on SQLite, PostgreSQL and MariaDB: the same behaviour as
the in-memory store, through real tables, and the handler dependency on top of it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from covet import Covet, Depends
from covet.auth.api_keys import APIKeyRecord, APIKeys, ExpiredAPIKey, InvalidAPIKey, RevokedAPIKey
from covet.auth.api_keys_orm import APIKeyModel, ORMAPIKeyStore
from covet.db import Database
from covet.db.exceptions import IntegrityError
from covet.orm import create_all
from covet.security import APIKeyHeader
from covet.testing import AsyncTestClient
from support.backends import SQL_BACKENDS, sql_backend_url

pytestmark = pytest.mark.integration

ALIAS = "auth_api_keys"
SECRET = "integration secret, long enough"


class StoredAPIKey(APIKeyModel):
    """A concrete table, as an application declares it."""

    class Meta:
        table = "auth_test_api_keys"
        database = ALIAS


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=SQL_BACKENDS)
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return sql_backend_url(request, tmp_path / "keys.db")


@pytest.fixture
async def db(backend_url: str) -> AsyncIterator[Database]:
    database = Database(backend_url, alias=ALIAS)
    await database.connect()
    try:
        await create_all(database, [StoredAPIKey])
        await StoredAPIKey.objects.delete()
        yield database
    finally:
        await database.disconnect()
        database.unregister()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def keys(db: Database, clock: Clock) -> APIKeys:
    return APIKeys(ORMAPIKeyStore(StoredAPIKey), secret=SECRET, clock=clock)


def test_the_model_is_abstract_and_the_store_wants_a_concrete_one() -> None:
    assert APIKeyModel._meta.abstract and not StoredAPIKey._meta.abstract
    with pytest.raises(TypeError, match="concrete"):
        ORMAPIKeyStore(APIKeyModel)
    with pytest.raises(TypeError):
        ORMAPIKeyStore(Database)  # type: ignore[arg-type]
    fields = {f.name: f for f in StoredAPIKey._meta.fields}
    assert fields["key_id"].unique and fields["principal"].index
    assert fields["scopes"].kind == "json" and fields["expires_at"].nullable


async def test_round_trip(keys: APIKeys, clock: Clock) -> None:
    key, record = await keys.create(
        "user:42", scopes=["orders:*", "users:read"], name="deploy bot", expires_in=timedelta(days=30)
    )
    row = await StoredAPIKey.objects.get(key_id=record.key_id)
    assert row.key_hash == keys.hash(key) and key not in str(row.to_dict())
    stored = await keys.store.get(record.key_id)
    assert stored == record
    assert stored is not None and stored.scopes == ("orders:*", "users:read")
    assert stored.created_at == clock.now and stored.created_at.tzinfo is not None
    assert stored.expires_at == clock.now + timedelta(days=30)
    assert await keys.store.get("unknownkey12") is None


async def test_verify_touch_revoke_expire(keys: APIKeys, clock: Clock) -> None:
    key, record = await keys.create("p", expires_in=timedelta(hours=1))
    clock.now += timedelta(minutes=5)
    assert (await keys.verify(key)).last_used_at == clock.now
    assert (await keys.store.get(record.key_id)).last_used_at == clock.now  # type: ignore[union-attr]
    with pytest.raises(InvalidAPIKey):
        await keys.verify(key[:-1] + ("A" if key[-1] != "A" else "B"))
    clock.now += timedelta(hours=1)
    with pytest.raises(ExpiredAPIKey):
        await keys.verify(key)

    other, other_record = await keys.create("p")
    assert await keys.revoke(other_record.key_id)
    revoked_at = (await keys.store.get(other_record.key_id)).revoked_at  # type: ignore[union-attr]
    assert revoked_at == clock.now
    clock.now += timedelta(minutes=1)
    assert await keys.revoke(other_record.key_id)  # keeps the first time
    assert (await keys.store.get(other_record.key_id)).revoked_at == revoked_at  # type: ignore[union-attr]
    with pytest.raises(RevokedAPIKey):
        await keys.verify(other)
    assert not await keys.revoke("unknownkey12")


async def test_rotation_rehash_is_stored(db: Database) -> None:
    store = ORMAPIKeyStore(StoredAPIKey)
    key, record = await APIKeys(store, secret="the old secret, long enough").create("p")
    rotating = APIKeys(store, secret=SECRET, previous_secrets=["the old secret, long enough"])
    await rotating.verify(key)
    assert (await StoredAPIKey.objects.get(key_id=record.key_id)).key_hash == rotating.hash(key)


async def test_store_contract(keys: APIKeys, clock: Clock) -> None:
    store = keys.store
    _, first = await keys.create("ada")
    clock.now += timedelta(seconds=1)
    _, second = await keys.create("ada")
    await keys.create("bob")
    assert [r.key_id for r in await store.for_principal("ada")] == [first.key_id, second.key_id]
    assert await store.update(first.key_id, name="renamed", scopes=("a:b",))
    renamed = await store.get(first.key_id)
    assert renamed is not None and (renamed.name, renamed.scopes) == ("renamed", ("a:b",))
    assert await store.update(first.key_id)  # nothing to change, but it exists
    assert not await store.update("unknownkey12", name="x")
    assert not await store.update("unknownkey12")
    with pytest.raises(ValueError, match="cannot update"):
        await store.update(first.key_id, prefix="pk")
    assert await store.delete(first.key_id) and not await store.delete(first.key_id)
    assert [r.key_id for r in await store.for_principal("ada")] == [second.key_id]
    with pytest.raises(IntegrityError):  # key ids are unique in the table too
        await store.add(APIKeyRecord(second.key_id, "h" * 64, "sk_live", "eve"))


async def test_dependency_over_the_database(keys: APIKeys) -> None:
    key, _ = await keys.create("svc:" + uuid.uuid4().hex[:6], scopes=["orders:read"])
    app = Covet()
    readers = keys.dependency(APIKeyHeader(name="X-API-Key"), scopes=["orders:read"])
    writers = keys.dependency(APIKeyHeader(name="X-API-Key"), scopes=["orders:write"])

    @app.get("/orders")
    async def orders(api_key: APIKeyRecord = Depends(readers)) -> dict:
        return {"principal": api_key.principal}

    @app.post("/orders", dependencies=[Depends(writers)])
    async def create_order() -> dict:
        return {}

    async with AsyncTestClient(app) as client:
        ok = await client.get("/orders", headers={"X-API-Key": key})
        assert ok.status_code == 200 and ok.json()["principal"].startswith("svc:")
        assert (await client.post("/orders", headers={"X-API-Key": key})).status_code == 403
        assert (await client.get("/orders", headers={"X-API-Key": key + "x"})).status_code == 401
