"""Statements prepared before another connection changed a column's type still run."""

from __future__ import annotations

import uuid

import pytest

from covet.db import Database

pytestmark = pytest.mark.integration


async def test_statements_prepared_before_another_connections_alter(
    db: Database, backend: str, table: str
) -> None:
    # Another process widens a column: this pool's connections cannot be told, and
    # asyncpg still holds the statements it prepared with 32-bit parameter types.
    d = db.dialect
    q, p = d.quote, d.placeholder
    insert = f"INSERT INTO {q(table)} (name, qty) VALUES ({p(1)}, {p(2)})"
    select = f"SELECT qty FROM {q(table)} WHERE qty = {p(1)}"
    await db.execute(insert, ["a", 1])
    assert await db.fetch_val(select, [1]) == 1
    alter = {
        "postgresql": f"ALTER TABLE {q(table)} ALTER COLUMN qty TYPE BIGINT",
        "mysql": f"ALTER TABLE {q(table)} MODIFY COLUMN qty BIGINT",
    }.get(d.name)  # SQLite's INTEGER holds 64 bits already
    other = Database(backend, alias=f"other-{uuid.uuid4().hex[:8]}")
    try:
        async with other:
            if alter is not None:
                await other.execute(alter)
    finally:
        other.unregister()
    big = 2**40
    await db.execute(insert, ["b", big])  # the same SQL text
    assert await db.fetch_val(select, [big]) == big
    async with db.transaction():  # nothing reached the server: a transaction goes on too
        await db.execute(insert, ["c", big + 1])
        assert await db.fetch_val(select, [big + 1]) == big + 1
    assert await db.fetch_val(f"SELECT COUNT(*) FROM {q(table)}") == 3
