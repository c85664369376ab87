"""execute / fetch / iterate / insert APIs on every backend, and parameter safety."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from covet.db import Database, InterfaceError

pytestmark = pytest.mark.integration


def _ph(db: Database, n: int) -> str:
    return ", ".join(db.dialect.placeholder(i) for i in range(1, n + 1))


async def test_execute_returns_rows_affected(db: Database, table: str) -> None:
    t, p = db.dialect.quote(table), db.dialect.placeholder
    assert await db.execute(f"INSERT INTO {t} (name, qty) VALUES ({_ph(db, 2)})", ["a", 1]) == 1
    assert await db.execute(f"INSERT INTO {t} (name, qty) VALUES ({_ph(db, 2)})", ("b", 2)) == 1
    assert await db.execute(f"UPDATE {t} SET qty = qty + 1") == 2
    # rows matched count, even when the new value equals the old one (MySQL: FOUND_ROWS)
    assert await db.execute(f"UPDATE {t} SET qty = qty") == 2
    assert await db.execute(f"UPDATE {t} SET qty = 0 WHERE name = {p(1)}", ["zzz"]) == 0
    assert await db.execute(f"DELETE FROM {t} WHERE name = {p(1)}", ["a"]) == 1


async def test_fetch_apis_and_records(db: Database, table: str) -> None:
    t, p = db.dialect.quote(table), db.dialect.placeholder
    await db.execute_many(
        f"INSERT INTO {t} (name, qty) VALUES ({_ph(db, 2)})", [("a", 1), ("b", 2), ("c", None)]
    )
    rows = await db.fetch_all(f"SELECT name, qty FROM {t} ORDER BY name")
    assert [tuple(r) for r in rows] == [("a", 1), ("b", 2), ("c", None)]
    assert rows[1]["name"] == "b" and rows[1][1] == 2 and dict(rows[0]) == {"name": "a", "qty": 1}
    one = await db.fetch_one(f"SELECT name, qty FROM {t} WHERE qty = {p(1)}", [2])
    assert one is not None and one["name"] == "b"
    assert await db.fetch_one(f"SELECT name FROM {t} WHERE qty = {p(1)}", [99]) is None
    assert await db.fetch_val(f"SELECT COUNT(*) FROM {t}") == 3
    assert (
        await db.fetch_val(f"SELECT qty, name FROM {t} WHERE name = {p(1)}", ["a"], column="name")
        == "a"
    )
    assert await db.fetch_val(f"SELECT qty FROM {t} WHERE name = {p(1)}", ["nobody"]) is None
    assert await db.fetch_all(f"SELECT name FROM {t} WHERE qty > {p(1)}", [100]) == []


async def test_insert_returning_id(db: Database, table: str) -> None:
    t = db.dialect.quote(table)
    first = await db.insert_returning_id(
        f"INSERT INTO {t} (name, qty) VALUES ({_ph(db, 2)})", ["a", 1]
    )
    second = await db.insert_returning_id(
        f"INSERT INTO {t} (name, qty) VALUES ({_ph(db, 2)})", ["b", 1]
    )
    assert isinstance(first, int) and second == first + 1
    name = await db.fetch_val(
        f"SELECT name FROM {t} WHERE id = {db.dialect.placeholder(1)}", [second]
    )
    assert name == "b"


async def test_insert_returning_row_where_supported(db: Database, table: str) -> None:
    if not db.dialect.supports_returning:
        pytest.skip("backend without RETURNING")
    t = db.dialect.quote(table)
    row = await db.insert_returning(
        f"INSERT INTO {t} (name, qty) VALUES ({_ph(db, 2)})", ["r", 5], ["id", "qty"]
    )
    assert row is not None and row["qty"] == 5 and row["id"] >= 1


async def test_iterate_streams_in_chunks(db: Database, table: str) -> None:
    t = db.dialect.quote(table)
    await db.execute_many(
        f"INSERT INTO {t} (name, qty) VALUES ({_ph(db, 2)})", [(f"n{i:03}", i) for i in range(25)]
    )
    seen = [r["qty"] async for r in db.iterate(f"SELECT qty FROM {t} ORDER BY qty", chunk_size=4)]
    assert seen == list(range(25))
    # breaking out early gives the connection back (max_size=4: leaking would exhaust it)
    for _ in range(6):
        async with contextlib.aclosing(
            db.iterate(f"SELECT qty FROM {t} ORDER BY qty", chunk_size=2)
        ) as rows:
            async for row in rows:
                assert row["qty"] == 0
                break
    assert db.primary_pool.in_use == 0
    assert await db.fetch_val(f"SELECT COUNT(*) FROM {t}") == 25
    with pytest.raises(ValueError, match="chunk_size"):
        async for _ in db.iterate(f"SELECT qty FROM {t}", chunk_size=0):
            pass


async def test_iterate_inside_transaction_allows_queries_between_rows(
    db: Database, table: str
) -> None:
    t, p = db.dialect.quote(table), db.dialect.placeholder
    await db.execute_many(
        f"INSERT INTO {t} (name, qty) VALUES ({_ph(db, 2)})", [("a", 1), ("b", 2)]
    )
    async with db.transaction():
        names = [r["name"] async for r in db.iterate(f"SELECT name FROM {t} ORDER BY name")]
        for name in names:
            await db.execute(f"UPDATE {t} SET qty = qty * 10 WHERE name = {p(1)}", [name])
    assert await db.fetch_val(f"SELECT SUM(qty) FROM {t}") == 30


@pytest.mark.parametrize(
    "hostile",
    [
        "x'); DROP TABLE users; --",
        "' OR '1'='1",
        "\\'; DELETE FROM t; --",
        'Robert"); DROP TABLE students;--',
        "%s $1 ? :name",
        "\x00nul\x01",
    ],
)
async def test_hostile_values_are_parameterised(db: Database, table: str, hostile: str) -> None:
    t, p = db.dialect.quote(table), db.dialect.placeholder
    if "\x00" in hostile and db.dialect.name == "postgresql":
        hostile = hostile.replace("\x00", "")  # PostgreSQL text cannot hold NUL at all
    await db.execute(f"INSERT INTO {t} (name, qty) VALUES ({_ph(db, 2)})", [hostile, 1])
    assert await db.fetch_val(f"SELECT name FROM {t} WHERE name = {p(1)}", [hostile]) == hostile
    assert (
        await db.fetch_val(f"SELECT COUNT(*) FROM {t} WHERE name = {p(1)}", ["' OR '1'='1' --"])
        == 0
    )
    assert await db.fetch_val(f"SELECT COUNT(*) FROM {t}") == 1


async def test_like_patterns_are_escaped(db: Database, table: str) -> None:
    d = db.dialect
    t = d.quote(table)
    await db.execute_many(
        f"INSERT INTO {t} (name, qty) VALUES ({_ph(db, 2)})",
        [("50% off", 1), ("500 off", 2), ("a_b", 3), ("axb", 4), ("Case", 5)],
    )

    async def like(pattern: str, *, ci: bool = False) -> list[str]:
        where = (d.case_insensitive_like if ci else d.like)("name", d.placeholder(1))
        rows = await db.fetch_all(f"SELECT name FROM {t} WHERE {where} ORDER BY name", [pattern])
        return [r["name"] for r in rows]

    assert await like("%" + d.escape_like("50%") + "%") == ["50% off"]
    assert await like(d.escape_like("a_b")) == ["a_b"]
    assert await like("%AS%") == []  # case-sensitive
    assert await like("%AS%", ci=True) == ["Case"]


async def test_regexp(db: Database, table: str) -> None:
    d = db.dialect
    t = d.quote(table)
    await db.execute_many(
        f"INSERT INTO {t} (name, qty) VALUES ({_ph(db, 2)})", [("abc1", 1), ("ABC2", 2)]
    )
    sensitive = d.regexp("name", d.placeholder(1))
    insensitive = d.regexp("name", d.placeholder(1), case_insensitive=True)
    assert await db.fetch_val(f"SELECT COUNT(*) FROM {t} WHERE {sensitive}", ["^abc[0-9]$"]) == 1
    assert await db.fetch_val(f"SELECT COUNT(*) FROM {t} WHERE {insensitive}", ["^abc[0-9]$"]) == 2


async def test_reconnects_after_disconnect_and_lazily(backend: str) -> None:
    db = Database(backend, alias="lazy-test")
    try:
        assert await db.fetch_val("SELECT 1") == 1  # connects on demand
        assert db.is_connected
        await db.disconnect()
        assert not db.is_connected
        async with db:
            assert await db.fetch_val("SELECT 2") == 2
    finally:
        await db.disconnect()
        db.unregister()


async def test_execute_many_with_no_rows(db: Database, table: str) -> None:
    t = db.dialect.quote(table)
    assert await db.execute_many(f"INSERT INTO {t} (name, qty) VALUES ({_ph(db, 2)})", []) == 0
    async with db.connection() as conn:
        assert (
            await conn.execute_many(f"INSERT INTO {t} (name, qty) VALUES ({_ph(db, 2)})", []) == 0
        )


async def test_many_concurrent_writers(db: Database, table: str) -> None:
    t = db.dialect.quote(table)

    async def write(i: int) -> None:
        if i % 3 == 0:
            async with db.transaction():
                await db.execute(f"INSERT INTO {t} (name, qty) VALUES ({_ph(db, 2)})", [f"w{i}", i])
        else:
            await db.execute(f"INSERT INTO {t} (name, qty) VALUES ({_ph(db, 2)})", [f"w{i}", i])

    await asyncio.gather(*(write(i) for i in range(40)))  # 40 tasks over max_size=4
    assert await db.fetch_val(f"SELECT COUNT(*) FROM {t}") == 40
    assert db.primary_pool.size <= 4 and db.primary_pool.in_use == 0


async def test_transactions_inside_an_iterate_loop(db: Database, table: str) -> None:
    if db.dialect.name == "mysql":
        pytest.skip("MySQL streams exclusively: no queries on the connection inside the loop")
    t, p = db.dialect.quote(table), db.dialect.placeholder
    await db.execute_many(
        f"INSERT INTO {t} (name, qty) VALUES ({_ph(db, 2)})", [(f"r{i}", i) for i in range(6)]
    )
    async with db.connection():
        async for row in db.iterate(f"SELECT name, qty FROM {t} ORDER BY qty", chunk_size=2):
            with contextlib.suppress(RuntimeError):
                async with db.transaction():
                    await db.execute(
                        f"UPDATE {t} SET qty = qty + 100 WHERE name = {p(1)}", [row["name"]]
                    )
                    if row["qty"] % 2:
                        raise RuntimeError("roll this one back")
    rows = await db.fetch_all(f"SELECT qty FROM {t} ORDER BY name")
    assert [r["qty"] for r in rows] == [100, 1, 102, 3, 104, 5]


async def test_mysql_refuses_queries_on_a_streaming_connection(db: Database, table: str) -> None:
    if db.dialect.name != "mysql":
        pytest.skip("only MySQL streams exclusively")
    t = db.dialect.quote(table)
    await db.execute_many(
        f"INSERT INTO {t} (name, qty) VALUES ({_ph(db, 2)})", [("a", 1), ("b", 2)]
    )
    async with db.connection():
        with pytest.raises(InterfaceError, match="streaming"):
            async for _row in db.iterate(f"SELECT name FROM {t}"):
                await db.fetch_val("SELECT 1")
        assert await db.fetch_val("SELECT 2") == 2  # usable again once the stream ended


async def test_writes_after_leaving_an_iterate_loop_early_are_kept(
    db: Database, table: str
) -> None:
    t, p = db.dialect.quote(table), db.dialect.placeholder
    await db.execute_many(
        f"INSERT INTO {t} (name, qty) VALUES ({_ph(db, 2)})", [("a", 1), ("b", 2)]
    )
    async with db.connection():
        with pytest.raises(LookupError):
            async for _row in db.iterate(f"SELECT name FROM {t}", chunk_size=1):
                raise LookupError("leave the loop, abandoning the stream")
        await db.execute(f"INSERT INTO {t} (name, qty) VALUES ({_ph(db, 2)})", ["after", 3])
        await asyncio.sleep(0.05)  # the abandoned stream is closed by the event loop meanwhile
    assert await db.fetch_val(f"SELECT COUNT(*) FROM {t} WHERE name = {p(1)}", ["after"]) == 1
    assert db.primary_pool.in_use == 0


async def test_one_connection_serves_statements_after_errors_and_schema_changes(
    db: Database, table: str
) -> None:
    # The MySQL driver reuses one cursor per connection and caches column maps; an
    # error, a changed column list for the same SQL and empty results must not leak
    # state from one statement into the next.
    t, p = db.dialect.quote(table), db.dialect.placeholder
    async with db.connection():
        await db.execute(f"INSERT INTO {t} (name, qty) VALUES ({_ph(db, 2)})", ["a", 1])
        with pytest.raises(Exception) as info:
            await db.fetch_all("SELECT no_such_column FROM " + t)
        assert "no_such_column" in str(info.value)
        assert await db.fetch_one(f"SELECT * FROM {t} WHERE name = {p(1)}", ["zz"]) is None
        assert await db.fetch_all(f"SELECT * FROM {t} WHERE name = {p(1)}", ["zz"]) == []
        first = await db.fetch_one(f"SELECT * FROM {t}")
        assert first is not None and list(first.keys()) == ["id", "name", "qty"]
        await db.execute(f"ALTER TABLE {t} ADD COLUMN extra INTEGER")
        again = await db.fetch_one(f"SELECT * FROM {t}")
        assert again is not None and list(again.keys()) == ["id", "name", "qty", "extra"]
        assert again["extra"] is None and again["name"] == "a"
        assert await db.fetch_val(f"SELECT qty AS name FROM {t}") == 1
        row = await db.fetch_one(f"SELECT qty AS name, name AS qty FROM {t}")
        assert row is not None and (row["name"], row["qty"]) == (1, "a")


async def test_fetch_rows_gives_positional_rows(db: Database, table: str) -> None:
    t, p = db.dialect.quote(table), db.dialect.placeholder
    await db.execute_many(
        f"INSERT INTO {t} (name, qty) VALUES ({_ph(db, 2)})", [["a", 1], ["b", 2], ["c", 3]]
    )
    sql = f"SELECT name, qty FROM {t} WHERE qty >= {p(1)} ORDER BY qty"
    rows = await db.fetch_rows(sql, [2])
    assert [tuple(r) for r in rows] == [("b", 2), ("c", 3)]
    assert [r[1] for r in rows] == [2, 3]
    assert list(await db.fetch_rows(sql, [99])) == []
    async with db.connection() as conn:
        assert [tuple(r) for r in await conn.fetch_rows(sql, [3])] == [("c", 3)]
    async with db.transaction():
        assert len(await db.fetch_rows(sql, [1])) == 3
