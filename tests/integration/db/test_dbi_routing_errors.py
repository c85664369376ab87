"""Replica routing, the registry, error mapping and credential masking."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from covet.db import (
    CheckViolation,
    Database,
    DatabaseError,
    DataError,
    ForeignKeyViolation,
    NotNullViolation,
    OperationalError,
    ProgrammingError,
    UniqueViolation,
    get_database,
)
from covet.exceptions import ImproperlyConfigured

pytestmark = pytest.mark.integration


@pytest.fixture
async def routed(backend: str) -> AsyncIterator[Database]:
    """A Database whose "replica" is a second URL to the same server."""
    db = Database(backend, alias=f"routed-{uuid.uuid4().hex[:6]}", replicas=[backend, backend])
    await db.connect()
    try:
        yield db
    finally:
        await db.disconnect()
        db.unregister()


def _acquired(db: Database) -> tuple[int, int]:
    return db.primary_pool.stats.acquired, sum(p.stats.acquired for p in db.replica_pools)


async def test_reads_go_to_replicas_writes_to_primary(routed: Database, table: str) -> None:
    d = routed.dialect
    t = d.quote(table)
    before = _acquired(routed)
    await routed.execute(f"INSERT INTO {t} (name, qty) VALUES ({d.placeholder(1)}, 1)", ["w"])
    assert _acquired(routed) == (before[0] + 1, before[1])
    await routed.fetch_all(f"SELECT * FROM {t}")
    await routed.fetch_one(f"SELECT * FROM {t}")
    await routed.fetch_val(f"SELECT COUNT(*) FROM {t}")
    assert _acquired(routed) == (before[0] + 1, before[1] + 3)
    # round robin over both replicas
    assert all(p.stats.acquired >= 1 for p in routed.replica_pools)
    # an explicit override
    await routed.fetch_val("SELECT 1", using="primary")
    assert _acquired(routed) == (before[0] + 2, before[1] + 3)
    # rows streamed by iterate come from a replica too
    assert [r["name"] async for r in routed.iterate(f"SELECT name FROM {t}")] == ["w"]
    assert _acquired(routed)[1] == before[1] + 4


async def test_reads_inside_a_transaction_use_the_primary(routed: Database, table: str) -> None:
    t = routed.dialect.quote(table)
    before = _acquired(routed)
    async with routed.transaction():
        await routed.execute(
            f"INSERT INTO {t} (name) VALUES ({routed.dialect.placeholder(1)})", ["tx"]
        )
        assert await routed.fetch_val(f"SELECT COUNT(*) FROM {t}") == 1
    assert _acquired(routed) == (before[0] + 1, before[1])


async def test_fetch_of_a_write_goes_to_the_primary(routed: Database, table: str) -> None:
    if not routed.dialect.supports_returning:
        pytest.skip("needs RETURNING")
    t, p = routed.dialect.quote(table), routed.dialect.placeholder
    before = _acquired(routed)
    row = await routed.fetch_one(f"INSERT INTO {t} (name) VALUES ({p(1)}) RETURNING id", ["r"])
    assert row is not None
    assert _acquired(routed) == (before[0] + 1, before[1])
    with pytest.raises(ValueError, match="using"):
        await routed.fetch_val("SELECT 1", using="elsewhere")


async def test_registry(backend: str) -> None:
    a = Database(backend, alias="registry-a")
    b = Database(backend, alias="registry-b")
    try:
        assert get_database("registry-a") is a and get_database("registry-b") is b
        with pytest.raises(ImproperlyConfigured, match="registry-zzz"):
            get_database("registry-zzz")
        replacement = Database(backend, alias="registry-a")
        assert get_database("registry-a") is replacement
        a.unregister()  # no longer registered: a no-op
        assert get_database("registry-a") is replacement
        replacement.unregister()
    finally:
        b.unregister()


async def test_error_mapping(db: Database) -> None:
    d = db.dialect
    q, p = d.quote, d.placeholder
    parent, child = f"dbp_{uuid.uuid4().hex[:8]}", f"dbc_{uuid.uuid4().hex[:8]}"
    await db.execute(
        f"CREATE TABLE {q(parent)} (id {d.column_type('int')} PRIMARY KEY, "
        f"code {d.column_type('str', max_length=5)} NOT NULL UNIQUE, "
        f"n {d.column_type('int')} CHECK (n > 0))"
    )
    await db.execute(
        f"CREATE TABLE {q(child)} (id {d.column_type('int')} PRIMARY KEY, "
        f"parent_id {d.column_type('int')} NOT NULL REFERENCES {q(parent)} (id))"
    )
    try:
        await db.execute(
            f"INSERT INTO {q(parent)} (id, code, n) VALUES ({p(1)}, {p(2)}, {p(3)})", [1, "a", 1]
        )
        with pytest.raises(UniqueViolation) as unique:
            await db.execute(
                f"INSERT INTO {q(parent)} (id, code, n) VALUES ({p(1)}, {p(2)}, {p(3)})",
                [2, "a", 1],
            )
        assert unique.value.to_dict()["error_code"] == "database_unique_violation"
        with pytest.raises(NotNullViolation):
            await db.execute(
                f"INSERT INTO {q(parent)} (id, code) VALUES ({p(1)}, {p(2)})", [3, None]
            )
        with pytest.raises(CheckViolation):
            await db.execute(
                f"INSERT INTO {q(parent)} (id, code, n) VALUES ({p(1)}, {p(2)}, {p(3)})",
                [4, "c", -1],
            )
        with pytest.raises(ForeignKeyViolation):
            await db.execute(
                f"INSERT INTO {q(child)} (id, parent_id) VALUES ({p(1)}, {p(2)})", [1, 999]
            )
        await db.execute(f"INSERT INTO {q(child)} (id, parent_id) VALUES ({p(1)}, {p(2)})", [1, 1])
        with pytest.raises(ForeignKeyViolation):
            await db.execute(f"DELETE FROM {q(parent)} WHERE id = {p(1)}", [1])
        with pytest.raises(ProgrammingError):
            await db.execute("SELEC 1")
        with pytest.raises(ProgrammingError):
            await db.fetch_all(f"SELECT * FROM {q('no_such_table_' + uuid.uuid4().hex[:6])}")
        if db.dialect.name != "sqlite":  # SQLite does not enforce VARCHAR lengths
            with pytest.raises(DataError):
                await db.execute(
                    f"INSERT INTO {q(parent)} (id, code, n) VALUES ({p(1)}, {p(2)}, {p(3)})",
                    [5, "toolong", 1],
                )
        # the pool is healthy after every error
        assert await db.fetch_val(f"SELECT COUNT(*) FROM {q(parent)}") == 1
        assert db.primary_pool.in_use == 0
    finally:
        await db.execute(f"DROP TABLE IF EXISTS {q(child)}")
        await db.execute(f"DROP TABLE IF EXISTS {q(parent)}")


@pytest.mark.parametrize(
    "url",
    [
        pytest.param(
            "postgresql://postgres:Sup3rS3cretPW@127.0.0.1:5432/covet_no_such_db",
            marks=pytest.mark.postgres,
        ),
        pytest.param("postgresql://postgres:Sup3rS3cretPW@127.0.0.1:1/db", id="pg-closed-port"),
        pytest.param(
            "mysql://nobody_covet:Sup3rS3cretPW@127.0.0.1:3306/test", marks=pytest.mark.mysql
        ),
        pytest.param("mysql://root:Sup3rS3cretPW@127.0.0.1:1/db", id="mysql-closed-port"),
    ],
)
async def test_credentials_never_leak(url: str) -> None:
    db = Database(url, alias=f"leak-{uuid.uuid4().hex[:6]}", connect_timeout=2)
    try:
        assert "Sup3rS3cretPW" not in repr(db) and "Sup3rS3cretPW" not in str(db.url)
        with pytest.raises(DatabaseError) as info:
            await db.connect()
        err = info.value
        assert isinstance(err, OperationalError | ProgrammingError | DatabaseError)
        for text in (
            str(err),
            repr(err),
            str(err.to_dict()),
            str(err.__cause__),
            str(err.__context__),
        ):
            assert "Sup3rS3cretPW" not in text
        assert not db.is_connected
    finally:
        db.unregister()


@pytest.mark.parametrize("scheme", ["postgresql", "mysql"])
async def test_connect_timeout_against_a_silent_server(scheme: str) -> None:
    stop = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await stop.wait()  # accept, then say nothing
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    db = Database(
        f"{scheme}://u:Sup3rS3cretPW@127.0.0.1:{port}/db",
        alias=f"silent-{uuid.uuid4().hex[:6]}",
        connect_timeout=0.3,
    )
    try:
        with pytest.raises(OperationalError) as info:
            await db.connect()
        assert "Sup3rS3cretPW" not in str(info.value)
    finally:
        db.unregister()
        stop.set()
        server.close()
        await server.wait_closed()
