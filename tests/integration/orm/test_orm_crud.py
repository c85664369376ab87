"""CRUD, type round-trips, validation, bulk operations, raw SQL."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import pytest
from orm_models import Article, Author, Counter, Mood

from covet.db import Database
from covet.db.exceptions import IntegrityError
from covet.exceptions import ValidationError

pytestmark = pytest.mark.integration


async def test_create_get_update_delete(db: Database) -> None:
    a = await Author.objects.create(email="a@x.io", name="Ann")
    assert isinstance(a.id, int) and a.pk == a.id
    got = await Author.objects.get(id=a.id)
    assert got == a and got.email == "a@x.io" and got.name == "Ann"
    got.name = "Anne"
    await got.save()
    assert (await Author.objects.get(pk=a.pk)).name == "Anne"
    await got.save(update_fields=["active"])
    assert await Author.objects.filter(pk=a.pk).update(name="Z") == 1
    await a.refresh_from_db()
    assert a.name == "Z"
    assert await a.delete() == 1
    with pytest.raises(Author.DoesNotExist):
        await Author.objects.get(id=a.id)


async def test_every_type_round_trips(db: Database) -> None:
    born = dt.date(1990, 5, 17)
    wakes = dt.time(6, 30, 15)
    uid = uuid.uuid4()
    created = dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=dt.timezone.utc)
    a = await Author.objects.create(
        email="t@x.io",
        active=False,
        score=2.5,
        balance=decimal.Decimal("1234.56"),
        born=born,
        wakes=wakes,
        uid=uid,
        data={"k": [1, 2, {"z": None}], "s": "é"},
        avatar=b"\x00\x01\xff",
        mood=Mood.SAD,
        created_at=created,
    )
    got = await Author.objects.get(pk=a.pk)
    assert got.active is False
    assert got.score == 2.5
    assert got.balance == decimal.Decimal("1234.56")
    assert got.born == born and got.wakes == wakes
    assert got.uid == uid and isinstance(got.uid, uuid.UUID)
    assert got.data == {"k": [1, 2, {"z": None}], "s": "é"}
    assert got.avatar == b"\x00\x01\xff"
    assert got.mood is Mood.SAD
    assert got.created_at == created and got.created_at.tzinfo is not None
    listed = (await Author.objects.filter(mood=Mood.SAD, active=False))[0]
    assert listed.to_dict()["mood"] == "sad"
    assert listed.to_dict()["balance"] == "1234.56"


async def test_validation_errors_on_create(db: Database) -> None:
    with pytest.raises(ValidationError) as info:
        await Author.objects.create(email="x" * 300, score="high", mood="angry")
    fields = {d["field"]: d["code"] for d in info.value.details}
    assert fields == {"email": "too_long", "score": "type_error", "mood": "enum"}
    with pytest.raises(ValidationError) as info:
        await Author.objects.create(email=None)
    assert info.value.details[0]["code"] == "type_error"
    assert await Author.objects.count() == 0


async def test_unique_violation_is_integrity_error(db: Database) -> None:
    await Author.objects.create(email="dup@x.io")
    with pytest.raises(IntegrityError):
        await Author.objects.create(email="dup@x.io")


async def test_bulk_create_returns_pks_and_bulk_update(db: Database) -> None:
    authors = await Author.objects.bulk_create(
        [Author(email=f"b{i}@x.io", score=i) for i in range(250)], batch_size=100
    )
    assert all(isinstance(a.pk, int) for a in authors)
    assert len({a.pk for a in authors}) == 250
    assert await Author.objects.count() == 250
    for a in authors[:120]:
        a.score = a.score * 10
        a.name = f"n{a.pk}"
    assert await Author.objects.bulk_update(authors[:120], ["score", "name"], batch_size=50) == 120
    again = await Author.objects.in_bulk([authors[5].pk, authors[200].pk])
    assert again[authors[5].pk].score == 50.0 and again[authors[5].pk].name == f"n{authors[5].pk}"
    assert again[authors[200].pk].score == 200.0 and again[authors[200].pk].name is None


async def test_bulk_create_without_returning_inside_a_transaction(db: Database) -> None:
    # MySQL 8 / MariaDB < 10.5: ids come from one INSERT per row (lastrowid) in a
    # transaction, which must also work inside the caller's own transaction.
    if db.dialect.name == "postgresql":
        pytest.skip("PostgreSQL always has RETURNING")
    db.dialect.supports_returning = False
    alone = await Author.objects.bulk_create([Author(email=f"r{i}@x.io") for i in range(3)])
    async with db.transaction():
        nested = await Author.objects.bulk_create([Author(email=f"t{i}@x.io") for i in range(3)])
        single = await Author.objects.create(email="single@x.io")
    ids = [a.pk for a in alone + nested] + [single.pk]
    assert all(isinstance(i, int) for i in ids) and len(set(ids)) == 7
    stored = await Author.objects.in_bulk(ids)
    assert sorted(a.email for a in stored.values()) == sorted(
        [f"r{i}@x.io" for i in range(3)] + [f"t{i}@x.io" for i in range(3)] + ["single@x.io"]
    )


async def test_get_or_create_and_update_or_create(db: Database) -> None:
    c, created = await Counter.objects.get_or_create(name="hits", defaults={"value": 5})
    assert created and c.value == 5
    c2, created2 = await Counter.objects.get_or_create(name="hits", defaults={"value": 9})
    assert not created2 and c2.pk == c.pk and c2.value == 5
    c3, created3 = await Counter.objects.update_or_create(name="hits", defaults={"value": 7})
    assert not created3 and c3.value == 7
    c4, created4 = await Counter.objects.update_or_create(name="new", defaults={"value": 1})
    assert created4 and c4.value == 1


async def test_raw_maps_rows_to_models(db: Database) -> None:
    a = await Author.objects.create(email="raw@x.io", mood=Mood.SAD)
    q = db.dialect.quote
    rows = await Author.objects.raw(
        f"SELECT {q('id')}, {q('email')}, {q('mood')}, 42 AS {q('extra')} FROM {q('orm_author')} WHERE {q('email')} = {db.dialect.placeholder(1)}",
        ["raw@x.io"],
    )
    assert len(rows) == 1
    assert rows[0].pk == a.pk and rows[0].mood is Mood.SAD and rows[0].extra == 42


async def test_async_iteration_slicing_first_last(db: Database) -> None:
    author = await Author.objects.create(email="it@x.io")
    await Article.objects.bulk_create(
        [Article(author=author, title=f"t{i:02d}") for i in range(10)]
    )
    titles = [a.title async for a in Article.objects.order_by("title")]
    assert titles == [f"t{i:02d}" for i in range(10)]
    page = await Article.objects.order_by("title")[2:5]
    assert [a.title for a in page] == ["t02", "t03", "t04"]
    assert (await Article.objects.order_by("title")[7]).title == "t07"
    assert [a.title for a in await Article.objects.order_by("title").offset(8)] == ["t08", "t09"]
    assert (await Article.objects.order_by("title").first()).title == "t00"  # type: ignore[union-attr]
    assert (await Article.objects.order_by("title").last()).title == "t09"  # type: ignore[union-attr]
    with pytest.raises(IndexError):
        await Article.objects.order_by("title")[50]


async def test_update_validates_values(db: Database) -> None:
    a = await Author.objects.create(email="v@x.io")
    with pytest.raises(ValidationError):
        await Author.objects.filter(pk=a.pk).update(email=None)
    with pytest.raises(ValidationError):
        await Author.objects.filter(pk=a.pk).update(score="fast")
    assert (await Author.objects.get(pk=a.pk)).email == "v@x.io"


async def test_insert_without_returning_uses_lastrowid(db: Database, backend_url: str) -> None:
    if backend_url.startswith("postgresql"):
        pytest.skip("PostgreSQL always has RETURNING")
    db.dialect.supports_returning = False  # MySQL 8 / MariaDB < 10.5 / SQLite < 3.35
    first = await Author.objects.create(email="lr1@x.io")
    second = await Author.objects.create(email="lr2@x.io")
    assert isinstance(first.pk, int) and second.pk == first.pk + 1
    assert (await Author.objects.get(pk=second.pk)).email == "lr2@x.io"


async def test_iterator_streams_rows(db: Database) -> None:
    import contextlib

    await Author.objects.bulk_create([Author(email=f"s{i:03d}@x.io", score=i) for i in range(120)])
    seen = [a.email async for a in Author.objects.order_by("email").iterator(chunk_size=25)]
    assert seen == [f"s{i:03d}@x.io" for i in range(120)]
    scores = [
        s
        async for s in Author.objects.filter(score__lt=3)
        .order_by("score")
        .values_list("score", flat=True)
        .iterator()
    ]
    assert scores == [0.0, 1.0, 2.0]
    async with (
        db.transaction(),
        contextlib.aclosing(Author.objects.order_by("email").iterator(chunk_size=10)) as it,
    ):
        async for a in it:
            assert a.email == "s000@x.io"
            break
    assert await Author.objects.count() == 120


async def test_int_widths_big_keys_and_out_of_range_values(db: Database) -> None:
    from covet.db.exceptions import DataError

    # auto-increment primary keys are BIGINT: ids past 2**31 are stored and read back
    big_id = 2**31 + 5
    a = await Author.objects.create(id=big_id, email="big@x.io")
    assert (await Author.objects.get(pk=big_id)).pk == big_id == a.pk
    article = await Article.objects.create(author=a, title="t")  # FK column is BIGINT too
    assert (await Article.objects.get(pk=article.pk)).author_id == big_id
    # a plain int field is INTEGER: too large values are refused before the driver
    with pytest.raises(ValidationError) as info:
        await Counter.objects.create(name="c", value=2**31)
    assert info.value.details[0]["code"] == "too_large"
    c = await Counter.objects.create(name="c2", value=2**31 - 1)
    with pytest.raises(ValidationError):
        await Counter.objects.filter(pk=c.pk).update(value=-(2**31) - 1)
    # hand-written SQL past the column's range is a DataError on servers that check it
    if db.dialect.name != "sqlite":
        t = db.dialect.quote(Counter._meta.table)
        p = db.dialect.placeholder
        with pytest.raises(DataError):
            await db.execute(f"UPDATE {t} SET value = {p(1)}", [2**40])
    assert (await Counter.objects.get(pk=c.pk)).value == 2**31 - 1
