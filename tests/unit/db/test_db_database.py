"""``Database`` on in-memory SQLite: construction, registry, lifecycle (offline, fast)."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Iterator

import pytest

from covet.db import (
    Database,
    InterfaceError,
    ProgrammingError,
    UniqueViolation,
    get_database,
    registered_databases,
)
from covet.exceptions import ImproperlyConfigured


@pytest.fixture
def alias() -> Iterator[str]:
    name = f"unit-{uuid.uuid4().hex[:8]}"
    yield name
    try:
        get_database(name).unregister()
    except ImproperlyConfigured:
        pass


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_size": 0}, "max_size"),
        ({"min_size": 5, "max_size": 2}, "min_size"),
        ({"acquire_timeout": 0}, "acquire_timeout"),
        ({"recycle": -1}, "recycle"),
        ({"idle_ping": -1}, "idle_ping"),
    ],
)
def test_bad_pool_options_fail_at_construction(
    kwargs: dict[str, float], message: str, alias: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Database("sqlite:///:memory:", alias=alias, **kwargs)  # type: ignore[arg-type]


def test_replicas_must_match_the_primary(alias: str) -> None:
    with pytest.raises(InterfaceError, match="replica"):
        Database("sqlite:///a.db", alias=alias, replicas=["postgresql://u:pw@h/db"])
    with pytest.raises(InterfaceError, match="in-memory"):
        Database("sqlite:///:memory:", alias=alias, replicas=["sqlite:///:memory:"])


def test_repr_masks_password(alias: str) -> None:
    db = Database(
        "postgresql://bob:hunter2@db.local/app",
        alias=alias,
        replicas=["postgresql://bob:hunter3@r/app"],
    )
    assert "hunter2" not in repr(db) and "hunter3" not in repr(db.replica_urls)
    assert repr(db) == f"<Database {alias!r} postgresql://bob:***@db.local/app disconnected>"


async def test_memory_database_lifecycle(alias: str) -> None:
    db = Database("sqlite:///:memory:", alias=alias)
    assert get_database(alias) is db and not db.is_connected
    with pytest.raises(InterfaceError, match="not connected"):
        db.primary_pool  # noqa: B018
    async with db:
        await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)")
        assert await db.insert_returning_id("INSERT INTO t (v) VALUES (?)", ["a"]) == 1
        with pytest.raises(UniqueViolation, match=r"UNIQUE constraint failed: t\.v") as info:
            await db.execute("INSERT INTO t (v) VALUES (?)", ["a"])
        assert info.value.table == "t"
        with pytest.raises(ProgrammingError):
            await db.execute("INSERT INTO nowhere VALUES (1)")
        rows = await db.fetch_all("SELECT id, v FROM t")
        assert [dict(r) for r in rows] == [{"id": 1, "v": "a"}]
        results = await asyncio.gather(*(db.fetch_val("SELECT ?", [i]) for i in range(20)))
        assert results == list(range(20))
    assert not db.is_connected


def test_default_database_is_the_default_alias_or_the_first(alias: str) -> None:
    db = Database("sqlite:///:memory:", alias=alias)
    registered = registered_databases()
    assert registered[alias] is db
    expected = registered.get("default") or next(iter(registered.values()))
    assert get_database() is expected
    db.unregister()
    assert alias not in registered_databases()
    with pytest.raises(ImproperlyConfigured, match=alias):
        get_database(alias)


def test_survives_a_change_of_event_loop(alias: str, tmp_path: object) -> None:
    db = Database(f"sqlite:///{tmp_path}/loops.db", alias=alias)

    async def use() -> int:
        return int(await db.fetch_val("SELECT 1"))

    assert asyncio.run(use()) == 1  # connects under the first loop, which then closes
    assert asyncio.run(use()) == 1  # reconnects under the second
    asyncio.run(db.disconnect())  # from a third loop: closes without I/O
    assert not db.is_connected


async def test_memory_database_queries_inside_an_iterate_loop(alias: str) -> None:
    async with Database("sqlite:///:memory:", alias=alias, acquire_timeout=2) as db:
        await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER)")
        await db.execute_many("INSERT INTO t (n) VALUES (?)", [(i,) for i in range(5)])
        async for row in db.iterate("SELECT id, n FROM t ORDER BY id", chunk_size=2):
            await db.execute("UPDATE t SET n = n * 10 WHERE id = ?", [row["id"]])
        assert await db.fetch_val("SELECT SUM(n) FROM t") == 100
        assert db.primary_pool.in_use == 0


async def test_missing_driver_names_the_extra(alias: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from covet.exceptions import MissingDependency

    monkeypatch.setitem(sys.modules, "asyncpg", None)
    db = Database("postgresql://u@127.0.0.1:1/db", alias=alias)
    with pytest.raises(MissingDependency, match=r"covetpy\[postgres\]"):
        await db.connect()
    for name in ("asyncmy", "asyncmy.cursors", "asyncmy.errors", "aiomysql"):
        monkeypatch.setitem(sys.modules, name, None)
    db = Database("mysql://u@127.0.0.1:1/db", alias=alias)
    with pytest.raises(MissingDependency, match=r"covetpy\[mysql\]"):
        await db.connect()


def test_a_later_database_without_an_alias_does_not_take_the_default() -> None:
    saved = registered_databases()
    for db in saved.values():
        db.unregister()
    try:
        first = Database("sqlite:///:memory:")
        second = Database("sqlite:///:memory:")
        third = Database("sqlite:///:memory:")
        assert (first.alias, second.alias, third.alias) == ("default", "db2", "db3")
        assert get_database() is first and get_database("db3") is third
        second.unregister()
        assert Database("sqlite:///:memory:").alias == "db2"  # a free name is reused
        replacement = Database("sqlite:///:memory:", alias="default")  # explicit: replaces
        assert get_database() is replacement
    finally:
        for db in registered_databases().values():
            db.unregister()
        for db in saved.values():
            db._register()
