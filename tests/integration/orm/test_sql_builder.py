"""The ``covet.db.sql`` builder against each backend, without models."""

from __future__ import annotations

import pytest

from covet.db import Database
from covet.db.sql import delete, execute, fetch_all, fetch_one, func, insert, select, table, update

pytestmark = pytest.mark.integration


async def test_builder_round_trip(db: Database) -> None:
    t = table("orm_counter")
    await execute(
        db,
        insert(
            t, [{"name": "a", "value": 1}, {"name": "b", "value": 2}, {"name": "c", "value": 2}]
        ),
    )
    await execute(
        db, insert(t, {"name": "a", "value": 10}, on_conflict=["name"], update_columns=["value"])
    )
    await execute(
        db, insert(t, {"name": "b", "value": 99}, on_conflict=["name"], update_columns=[])
    )
    rows = await fetch_all(db, select(t.c.name, t.c.value).order_by(t.c.name))
    assert [tuple(r) for r in rows] == [("a", 10), ("b", 2), ("c", 2)]
    grouped = await fetch_all(
        db,
        select(t.c.value, func.count().label("n"))
        .group_by(t.c.value)
        .having(func.count() > 1)
        .order_by(t.c.value),
    )
    assert [tuple(r) for r in grouped] == [(2, 2)]
    assert await execute(db, update(t, {"value": t.c.value * 3 + 1}, t.c.name.in_(["b", "c"]))) == 2
    assert tuple(await fetch_one(db, select(func.sum(t.c.value)))) in {(24,), (24.0,)}
    evil = "x'; DELETE FROM orm_counter; --"
    assert await fetch_all(db, select(t.c.name).where(t.c.name == evil)) == []
    assert await execute(db, delete(t, t.c.name.like("%"))) == 3
