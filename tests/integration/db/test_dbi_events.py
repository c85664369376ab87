"""Query listeners and ``capture_queries`` on every backend."""

from __future__ import annotations

import asyncio
import logging
from contextlib import aclosing

import pytest

from covet.db import Database, IntegrityError, QueryEvent


async def test_listeners_see_every_statement_once(db: Database, table: str) -> None:
    q, p = db.dialect.quote, db.dialect.placeholder
    seen: list[QueryEvent] = []
    listener = db.add_query_listener(seen.append)
    try:
        await db.execute(f"INSERT INTO {q(table)} (name, qty) VALUES ({p(1)}, {p(2)})", ["a", 1])
        assert await db.fetch_val(f"SELECT qty FROM {q(table)} WHERE name = {p(1)}", ["a"]) == 1
        async with db.transaction():  # BEGIN, the insert, COMMIT: each reported once
            await db.execute(
                f"INSERT INTO {q(table)} (name, qty) VALUES ({p(1)}, {p(2)})", ["b", 2]
            )
        async with db.connection() as conn:
            await conn.fetch_all(f"SELECT name FROM {q(table)} ORDER BY name")
        async with aclosing(db.iterate(f"SELECT name FROM {q(table)}", chunk_size=1)) as rows:
            names = [r[0] async for r in rows]
        assert sorted(names) == ["a", "b"]
    finally:
        db.remove_query_listener(listener)
    methods = [e.method for e in seen]
    assert methods[:2] == ["execute", "fetch_one"]
    held = methods.index("fetch_all")
    # PostgreSQL streams through a cursor in a transaction of its own: BEGIN ... COMMIT
    stream = [e for e in seen[held + 1 :] if e.method == "iterate"]
    assert len(stream) == 1 and stream[0].sql == f"SELECT name FROM {q(table)}"
    tx = seen[2:held]
    assert tx[-1].method == "commit" and tx[-1].sql == "COMMIT"
    assert any(e.method == "execute" and e.params == ["b", 2] for e in tx)
    assert all(e.database == db.alias and e.duration >= 0 and e.error is None for e in seen)
    assert seen[0].sql.startswith("INSERT INTO") and seen[0].params == ["a", 1]
    await db.fetch_val("SELECT 1")
    assert len(seen) == len(methods)  # removed: no longer called


async def test_failed_statements_are_reported_with_their_error(db: Database, table: str) -> None:
    q, p = db.dialect.quote, db.dialect.placeholder
    insert = f"INSERT INTO {q(table)} (name, qty) VALUES ({p(1)}, {p(2)})"
    await db.execute(insert, ["dup", 1])
    with db.capture_queries() as queries, pytest.raises(IntegrityError):
        await db.execute(insert, ["dup", 2])
    assert len(queries) == 1 and isinstance(queries[0].error, IntegrityError)


async def test_capture_counts_only_this_task_and_nests(db: Database, table: str) -> None:
    q = db.dialect.quote
    other_started = asyncio.Event()
    stop = asyncio.Event()

    async def elsewhere() -> None:  # another task querying meanwhile: not captured
        other_started.set()
        while not stop.is_set():
            await db.fetch_val("SELECT 1")
            await asyncio.sleep(0)

    noise = asyncio.create_task(elsewhere())
    await other_started.wait()
    try:
        with db.capture_queries() as outer:
            await db.fetch_all(f"SELECT * FROM {q(table)}")
            with db.capture_queries() as inner:
                await asyncio.gather(db.fetch_val("SELECT 2"), db.fetch_val("SELECT 3"))
            await db.fetch_val("SELECT 4")
    finally:
        stop.set()
        await noise
    assert sorted(e.sql for e in inner) == ["SELECT 2", "SELECT 3"]  # gathered: any order
    outer_sql = [e.sql for e in outer]
    assert outer_sql[0] == f"SELECT * FROM {q(table)}" and outer_sql[-1] == "SELECT 4"
    assert sorted(outer_sql[1:3]) == ["SELECT 2", "SELECT 3"] and len(outer_sql) == 4
    assert not db._observers.listeners  # the capture's listener is gone with the block


async def test_a_failing_listener_is_logged_and_the_query_still_works(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: QueryEvent) -> None:
        raise RuntimeError("listener bug")

    db.add_query_listener(broken)
    try:
        with caplog.at_level(logging.ERROR, logger="covet.db"):
            assert await db.fetch_val("SELECT 7") == 7
    finally:
        db.remove_query_listener(broken)
    assert "query listener" in caplog.text and "listener bug" in caplog.text
    with pytest.raises(ValueError):
        db.remove_query_listener(broken)
