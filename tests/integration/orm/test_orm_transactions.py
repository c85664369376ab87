"""Transactions through the ORM: commit, rollback, savepoints, concurrency, locks, races."""

from __future__ import annotations

import asyncio

import pytest
from orm_models import Author, Counter

from covet.db import Database
from covet.db.exceptions import DatabaseError

pytestmark = pytest.mark.integration


class Boom(Exception):
    pass


async def test_commit_rollback_and_nested_savepoints(db: Database) -> None:
    async with db.transaction():
        await Author.objects.create(email="kept@x.io")
    with pytest.raises(Boom):
        async with db.transaction():
            await Author.objects.create(email="gone@x.io")
            raise Boom
    async with db.transaction():
        await Author.objects.create(email="outer@x.io")
        with pytest.raises(Boom):
            async with db.transaction():  # savepoint
                await Author.objects.create(email="inner@x.io")
                assert await Author.objects.filter(email="inner@x.io").exists()
                raise Boom
        async with db.transaction():
            await Author.objects.create(email="inner2@x.io")
    emails = sorted(await Author.objects.values_list("email", flat=True))
    assert emails == ["inner2@x.io", "kept@x.io", "outer@x.io"]


async def test_concurrent_f_increments_lose_no_update(db: Database) -> None:
    c = await Counter.objects.create(name="hits")

    async def bump(times: int) -> None:
        for _ in range(times):
            await Counter.objects.filter(pk=c.pk).update(value=F_plus_one())

    await asyncio.gather(bump(25), bump(25))
    assert (await Counter.objects.get(pk=c.pk)).value == 50


def F_plus_one():
    from covet.orm import F

    return F("value") + 1


async def test_get_or_create_race_resolves_to_one_row(db: Database) -> None:
    results = await asyncio.gather(
        *(Counter.objects.get_or_create(name="race", defaults={"value": 1}) for _ in range(5))
    )
    pks = {obj.pk for obj, _ in results}
    assert len(pks) == 1
    assert sum(created for _, created in results) == 1
    assert await Counter.objects.filter(name="race").count() == 1


async def test_select_for_update_locks_rows(db: Database, backend_url: str) -> None:
    if backend_url.startswith("sqlite"):
        pytest.skip("SQLite has no row locks (select_for_update is a no-op there)")
    c = await Counter.objects.create(name="locked", value=1)
    sql, _ = Counter.objects.filter(pk=c.pk).select_for_update(nowait=True).sql()
    assert sql.endswith("FOR UPDATE NOWAIT")
    holding = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with db.transaction():
            row = await Counter.objects.filter(pk=c.pk).select_for_update().get()
            holding.set()
            await release.wait()
            await Counter.objects.filter(pk=row.pk).update(value=row.value + 1)

    task = asyncio.create_task(holder())
    await holding.wait()
    try:
        with pytest.raises(DatabaseError):
            async with db.transaction():
                await Counter.objects.filter(pk=c.pk).select_for_update(nowait=True).get()
        async with db.transaction():
            skipped = await Counter.objects.filter(pk=c.pk).select_for_update(skip_locked=True)
            assert skipped == []
    finally:
        release.set()
        await task
    assert (await Counter.objects.get(pk=c.pk)).value == 2
