"""The pool: exhaustion and acquire timeout, recycling, recovery from killed connections."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from covet.db import ConnectionLost, Database, InterfaceError, PoolTimeout, UniqueViolation
from covet.db.drivers.mysql import MySQLConnection

pytestmark = pytest.mark.integration


async def test_exhaustion_and_acquire_timeout(backend: str) -> None:
    db = Database(backend, alias=f"pool-{uuid.uuid4().hex[:6]}", max_size=2, acquire_timeout=0.2)
    release = asyncio.Event()

    async def holder() -> None:
        async with db.connection():
            await release.wait()

    try:
        async with db:
            holders = [asyncio.create_task(holder()) for _ in range(2)]
            while db.primary_pool.in_use < 2:
                await asyncio.sleep(0.005)
            with pytest.raises(PoolTimeout, match=r"within 0\.2s") as info:
                await db.fetch_val("SELECT 1")
            assert info.value.context["max_size"] == 2
            assert db.primary_pool.stats.timeouts == 1
            release.set()
            await asyncio.gather(*holders)
            assert await db.fetch_val("SELECT 1") == 1
            assert db.primary_pool.in_use == 0
    finally:
        db.unregister()


async def test_waiters_get_connections_as_they_free(backend: str) -> None:
    db = Database(backend, alias=f"pool-{uuid.uuid4().hex[:6]}", max_size=2, acquire_timeout=5)
    try:
        async with db:

            async def work(i: int) -> int:
                async with db.connection() as conn:
                    await asyncio.sleep(0.01)
                    return int(await conn.fetch_val(f"SELECT {i}"))

            results = await asyncio.gather(*(work(i) for i in range(10)))
            assert results == list(range(10))
            assert db.primary_pool.size <= 2
            assert db.primary_pool.stats.created <= 2
    finally:
        db.unregister()


async def test_recycle_replaces_old_connections(backend: str) -> None:
    db = Database(backend, alias=f"pool-{uuid.uuid4().hex[:6]}", max_size=1, recycle=0.05)
    try:
        async with db:
            await db.fetch_val("SELECT 1")
            created = db.primary_pool.stats.created
            await asyncio.sleep(0.1)
            await db.fetch_val("SELECT 1")
            assert db.primary_pool.stats.created == created + 1
    finally:
        db.unregister()


async def test_pool_options_from_url(backend: str) -> None:
    sep = "&" if "?" in backend else "?"
    db = Database(f"{backend}{sep}min_size=2&max_size=3", alias=f"pool-{uuid.uuid4().hex[:6]}")
    try:
        async with db:
            assert db.primary_pool.size == 2 and db.primary_pool.max_size == 3
    finally:
        db.unregister()


async def test_memory_sqlite_shares_one_connection() -> None:
    db = Database("sqlite:///:memory:", alias="memory-test", max_size=10)
    try:
        async with db:
            await db.execute("CREATE TABLE m (x INTEGER)")
            await asyncio.gather(*(db.execute("INSERT INTO m VALUES (?)", [i]) for i in range(5)))
            assert await db.fetch_val("SELECT COUNT(*) FROM m") == 5
            assert db.primary_pool.max_size == 1
    finally:
        db.unregister()


@pytest.mark.postgres
async def test_postgresql_recovers_after_backends_are_terminated(postgres_url: str) -> None:
    db = Database(postgres_url, alias=f"pg-kill-{uuid.uuid4().hex[:6]}", min_size=3, max_size=3)
    admin = Database(postgres_url, alias=f"pg-admin-{uuid.uuid4().hex[:6]}", max_size=1)
    try:
        async with db, admin:
            pids = []
            for raw in db.primary_pool.connections():
                pids.append(raw.raw.get_server_pid())  # type: ignore[attr-defined]
            assert len(pids) == 3
            killed = await admin.fetch_val(
                "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid) s",
                [pids],
            )
            assert killed == 3
            await asyncio.sleep(0.1)
            # reads recover transparently (dead connections are dropped or retried)
            assert await db.fetch_val("SELECT 41 + 1") == 42
            assert await db.fetch_val("SELECT pg_backend_pid()") not in pids
            # a held connection that dies raises ConnectionLost; the next query works
            async with db.connection() as conn:
                pid = await conn.fetch_val("SELECT pg_backend_pid()")
                await admin.execute("SELECT pg_terminate_backend($1)", [pid])
                await asyncio.sleep(0.1)
                with pytest.raises(ConnectionLost):
                    await conn.execute("CREATE TEMP TABLE x (a int)")
            assert await db.execute("SELECT 1") in (1, -1)
            assert db.primary_pool.stats.discarded >= 1
    finally:
        db.unregister()
        admin.unregister()


@pytest.mark.mysql
async def test_mariadb_recovers_after_kill(mysql_url: str) -> None:
    db = Database(mysql_url, alias=f"my-kill-{uuid.uuid4().hex[:6]}", min_size=2, max_size=2)
    admin = Database(mysql_url, alias=f"my-admin-{uuid.uuid4().hex[:6]}", max_size=1)
    try:
        async with db, admin:
            ids = []
            for raw in db.primary_pool.connections():
                assert isinstance(raw, MySQLConnection)
                ids.append(raw.thread_id)
            for thread_id in ids:
                await admin.execute(f"KILL {int(thread_id)}")
            await asyncio.sleep(0.1)
            # a read notices the dead connection, discards it and retries on a fresh one
            assert await db.fetch_val("SELECT 40 + 2") == 42
            assert await db.fetch_val("SELECT CONNECTION_ID()") not in ids
            # a write is never retried: it raises ConnectionLost, then the pool recovers
            async with db.connection() as conn:
                thread_id = await conn.fetch_val("SELECT CONNECTION_ID()")
                await admin.execute(f"KILL {int(thread_id)}")
                await asyncio.sleep(0.1)
                with pytest.raises(ConnectionLost):
                    await conn.execute("DO 1")
            assert await db.execute("DO 1") == 0
            assert await db.fetch_val("SELECT 1") == 1
    finally:
        db.unregister()
        admin.unregister()


@pytest.mark.mysql
async def test_mysql_read_timeout_gives_up_on_a_server_that_does_not_answer(
    mysql_url: str,
) -> None:
    db = Database(
        f"{mysql_url}?read_timeout=0.3", alias=f"my-rt-{uuid.uuid4().hex[:6]}", max_size=1
    )
    try:
        async with db:
            async with db.connection() as conn:
                with pytest.raises(ConnectionLost, match="read timeout"):
                    await conn.fetch_val("SELECT SLEEP(3)")
            assert db.primary_pool.stats.discarded == 1
            assert await db.fetch_val("SELECT 1") == 1  # a fresh connection serves
    finally:
        db.unregister()


@pytest.mark.mysql
@pytest.mark.parametrize("value", ["0", "-1", "soon"])
async def test_mysql_read_timeout_must_be_positive_seconds(mysql_url: str, value: str) -> None:
    db = Database(f"{mysql_url}?read_timeout={value}", alias=f"my-rt-{uuid.uuid4().hex[:6]}")
    try:
        with pytest.raises(InterfaceError, match="read_timeout"):
            await db.connect()
    finally:
        db.unregister()


async def test_cancelled_queries_do_not_leak_or_poison_connections(db: Database) -> None:
    sleep = {
        "postgresql": "SELECT pg_sleep(5)",
        "mysql": "SELECT SLEEP(5)",
        # SQLite has no sleep: a slow count (the call finishes on the connection's thread)
        "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1500000) "
        "SELECT COUNT(*) FROM c",
    }[db.dialect.name]

    task = asyncio.create_task(db.fetch_val(sleep))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert db.primary_pool.in_use == 0

    async def in_transaction() -> None:
        async with db.transaction():
            await db.fetch_val(sleep)

    task = asyncio.create_task(in_transaction())
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert db.primary_pool.in_use == 0
    # every later query runs on a clean connection
    for _ in range(5):
        assert await db.fetch_val("SELECT 7") == 7
    async with db.transaction():
        assert await db.fetch_val("SELECT 8") == 8


@pytest.mark.mysql
async def test_aiomysql_driver_works_the_same(mysql_url: str) -> None:
    url = mysql_url.replace("mysql://", "mysql+aiomysql://", 1)
    db = Database(url, alias=f"aiomysql-{uuid.uuid4().hex[:6]}", max_size=2)
    table = f"dba_{uuid.uuid4().hex[:8]}"
    try:
        async with db:
            assert db.primary_pool.connections()[0].raw.__class__.__module__.startswith("aiomysql")  # type: ignore[attr-defined]
            await db.execute(
                f"CREATE TABLE `{table}` (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20) UNIQUE)"
            )
            try:
                new_id = await db.insert_returning_id(
                    f"INSERT INTO `{table}` (name) VALUES (%s)", ["a"]
                )
                assert isinstance(new_id, int)
                await db.execute_many(f"INSERT INTO `{table}` (name) VALUES (%s)", [("b",), ("c",)])
                rows = await db.fetch_all(f"SELECT name FROM `{table}` ORDER BY name")
                assert [r["name"] for r in rows] == ["a", "b", "c"]
                assert [
                    r[0]
                    async for r in db.iterate(
                        f"SELECT name FROM `{table}` ORDER BY name", chunk_size=2
                    )
                ] == ["a", "b", "c"]
                with pytest.raises(UniqueViolation):
                    await db.execute(f"INSERT INTO `{table}` (name) VALUES (%s)", ["a"])
                async with db.transaction():
                    await db.execute(f"DELETE FROM `{table}` WHERE name = %s", ["c"])
                assert await db.fetch_val(f"SELECT COUNT(*) FROM `{table}`") == 2
            finally:
                await db.execute(f"DROP TABLE `{table}`")
    finally:
        db.unregister()
