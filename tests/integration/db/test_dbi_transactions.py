"""Transactions: commit, rollback, savepoints, task binding, concurrency, force_rollback."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from covet.db import Database, InterfaceError, TransactionError, UniqueViolation

pytestmark = pytest.mark.integration


class Boom(Exception):
    pass


async def _insert(db: Database, table: str, name: str, qty: int = 0) -> None:
    p = db.dialect.placeholder
    await db.execute(
        f"INSERT INTO {db.dialect.quote(table)} (name, qty) VALUES ({p(1)}, {p(2)})", [name, qty]
    )


async def _names(db: Database, table: str) -> list[str]:
    rows = await db.fetch_all(
        f"SELECT name FROM {db.dialect.quote(table)} ORDER BY name", using="primary"
    )
    return [r["name"] for r in rows]


async def test_commit_and_rollback(db: Database, table: str) -> None:
    async with db.transaction():
        await _insert(db, table, "kept")
    with pytest.raises(Boom):
        async with db.transaction():
            await _insert(db, table, "lost")
            assert "lost" in await _names(db, table)  # visible inside
            raise Boom
    assert await _names(db, table) == ["kept"]
    assert db.primary_pool.in_use == 0


async def test_nested_savepoints(db: Database, table: str) -> None:
    async with db.transaction() as outer:
        await _insert(db, table, "outer")
        async with db.transaction() as inner:
            assert inner.is_savepoint and not outer.is_savepoint
            await _insert(db, table, "inner-kept")
        with pytest.raises(UniqueViolation):
            async with db.transaction():
                await _insert(db, table, "inner-lost")
                await _insert(db, table, "outer")  # duplicate: the savepoint rolls back
        async with db.transaction(), db.transaction():
            await _insert(db, table, "deep")
        # the outer transaction is still usable after the failed savepoint
        await _insert(db, table, "after")
    assert await _names(db, table) == ["after", "deep", "inner-kept", "outer"]


async def test_error_in_outer_rolls_back_released_savepoints(db: Database, table: str) -> None:
    with pytest.raises(Boom):
        async with db.transaction():
            async with db.transaction():
                await _insert(db, table, "x")
            raise Boom
    assert await _names(db, table) == []


async def test_calls_inside_a_transaction_share_its_connection(db: Database, table: str) -> None:
    async with db.transaction() as tx:
        async with db.connection() as conn:
            assert conn is tx.connection
        await _insert(db, table, "a")

        async def other_task_insert() -> None:
            # a task created inside inherits the binding: same connection, serialised
            await _insert(db, table, "b")

        await asyncio.gather(other_task_insert(), _insert(db, table, "c"))
        assert db.primary_pool.in_use == 1
    assert await _names(db, table) == ["a", "b", "c"]


async def test_concurrent_transactions_use_separate_connections(db: Database, table: str) -> None:
    seen: list[object] = []
    started = asyncio.Event()
    proceed = asyncio.Event()

    async def first() -> None:
        async with db.transaction() as tx:
            seen.append(tx.connection)
            await _insert(db, table, "first")
            started.set()
            await proceed.wait()

    async def second() -> None:
        await started.wait()
        async with db.connection() as conn:
            seen.append(conn)
            # uncommitted rows of the other transaction are invisible here
            rows = await conn.fetch_all(f"SELECT name FROM {db.dialect.quote(table)}")
            assert rows == []
        proceed.set()

    await asyncio.gather(first(), second())
    assert seen[0] is not seen[1]
    assert await _names(db, table) == ["first"]


async def test_isolation_option(db: Database, table: str) -> None:
    async with db.transaction(isolation="serializable"):
        await _insert(db, table, "iso")
    assert await _names(db, table) == ["iso"]
    with pytest.raises(ValueError, match="isolation"):
        db.transaction(isolation="whatever")
    async with db.transaction():
        with pytest.raises(TransactionError, match="outermost"):
            async with db.transaction(isolation="serializable"):
                pass


async def test_manual_transaction_control(db: Database, table: str) -> None:
    tx = await db.transaction().start()
    await _insert(db, table, "manual")
    await tx.rollback()
    with pytest.raises(TransactionError, match="not active"):
        await tx.commit()
    tx = await db.transaction().start()
    await _insert(db, table, "manual2")
    await tx.commit()
    assert await _names(db, table) == ["manual2"]


async def test_connection_block_binds_and_releases(db: Database, table: str) -> None:
    async with db.connection() as conn:
        await _insert(db, table, "held")
        assert db.primary_pool.in_use == 1
        async with conn.transaction():
            await conn.execute(
                f"UPDATE {db.dialect.quote(table)} SET qty = 5 WHERE name = {db.dialect.placeholder(1)}",
                ["held"],
            )
    assert db.primary_pool.in_use == 0
    with pytest.raises(InterfaceError, match="released"):
        await conn.fetch_val("SELECT 1")
    assert await db.fetch_val(f"SELECT qty FROM {db.dialect.quote(table)}") == 5


async def test_force_rollback_discards_everything_at_disconnect(
    backend: str, table: str, db: Database
) -> None:
    scratch = Database(backend, alias=f"force-{uuid.uuid4().hex[:6]}", force_rollback=True)
    try:
        async with scratch:
            await _insert(scratch, table, "temp")
            async with scratch.transaction():
                await _insert(scratch, table, "temp2")
            assert len(await _names(scratch, table)) == 2
    finally:
        scratch.unregister()
    assert await _names(db, table) == []


async def test_failed_statement_inside_transaction_then_rollback(db: Database, table: str) -> None:
    await _insert(db, table, "dup")
    with pytest.raises(UniqueViolation):
        async with db.transaction():
            await _insert(db, table, "new")
            await _insert(db, table, "dup")
    assert await _names(db, table) == ["dup"]
    assert db.primary_pool.in_use == 0


async def test_swallowed_error_never_commits_silently(db: Database, table: str) -> None:
    await _insert(db, table, "dup")
    if db.dialect.name == "postgresql":
        # PostgreSQL aborts the whole transaction after an error: COMMIT becomes ROLLBACK
        with pytest.raises(TransactionError, match="rolled back, not committed"):
            async with db.transaction():
                await _insert(db, table, "lost")
                with pytest.raises(UniqueViolation):
                    await _insert(db, table, "dup")
        assert await _names(db, table) == ["dup"]
    else:
        # SQLite and MySQL only undo the failed statement; the rest commits
        async with db.transaction():
            await _insert(db, table, "kept")
            with pytest.raises(UniqueViolation):
                await _insert(db, table, "dup")
        assert await _names(db, table) == ["dup", "kept"]
    assert db.primary_pool.in_use == 0


@pytest.mark.parametrize("returning", [True, False], ids=["returning", "lastrowid"])
async def test_insert_returning_id_inside_transaction_and_connection(
    db: Database, table: str, returning: bool
) -> None:
    # Without RETURNING (MySQL 8, MariaDB < 10.5) the id comes from lastrowid; force
    # that path on backends that have RETURNING so both are covered where they exist.
    if not returning:
        if db.dialect.name == "postgresql":
            pytest.skip("PostgreSQL always has RETURNING (and no lastrowid)")
        db.dialect.supports_returning = False
    p = db.dialect.placeholder
    sql = f"INSERT INTO {db.dialect.quote(table)} (name, qty) VALUES ({p(1)}, {p(2)})"
    first = await db.insert_returning_id(sql, ["pool", 1])
    async with db.transaction():
        in_tx = await db.insert_returning_id(sql, ["tx", 2])
    with pytest.raises(Boom):
        async with db.transaction():
            await db.insert_returning_id(sql, ["rolled back", 3])
            raise Boom
    async with db.connection() as conn:
        held = await db.insert_returning_id(sql, ["held", 4])
        direct = await conn.insert_returning_id(sql, ["direct", 5])
    assert all(isinstance(v, int) for v in (first, in_tx, held, direct))
    assert first < in_tx < held < direct
    rows = await db.fetch_all(
        f"SELECT id, name FROM {db.dialect.quote(table)} ORDER BY id", using="primary"
    )
    assert [(r["id"], r["name"]) for r in rows] == [
        (first, "pool"),
        (in_tx, "tx"),
        (held, "held"),
        (direct, "direct"),
    ]
    assert db.primary_pool.in_use == 0
