"""bulk_create(ignore_conflicts=... / update_conflicts=...) on every backend: table contents,
pks and saved state afterwards, batching, option errors, hostile values."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from orm_models import Article, Author, Counter, Label, Token

from covet.db import Database
from covet.db.exceptions import IntegrityError
from covet.orm import FieldError

pytestmark = pytest.mark.integration

EVIL = "x'); DROP TABLE orm_author; --"
BIG = 900_000  # explicit pks far above what the sequences hand out in this test session


def saved(obj: Any) -> bool:
    return bool(obj.__dict__["_persisted"])


def pg_or_sqlite(db: Database) -> bool:
    """RETURNING tells which rows ON CONFLICT DO NOTHING inserted (not MariaDB's
    ON DUPLICATE KEY UPDATE, which returns skipped rows too)."""
    return db.dialect.upsert_style == "on_conflict" and db.dialect.supports_returning


async def authors(*cols: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await Author.objects.order_by("email").values_list(*cols)]


# -- ignore_conflicts --------------------------------------------------------------------


async def test_ignore_conflicts_on_the_pk(db: Database) -> None:
    await Author.objects.create(id=BIG + 1, email="a@x.io", name="old a")
    await Author.objects.create(id=BIG + 2, email="b@x.io", name="old b")
    objs = [
        Author(id=BIG + 1, email="a2@x.io", name="new a"),  # pk taken
        Author(id=BIG + 3, email="c@x.io", name="c"),
        Author(id=BIG + 2, email="b2@x.io", name="new b"),  # pk taken
        Author(id=BIG + 4, email="d@x.io", name="d"),
    ]
    assert await Author.objects.bulk_create(objs, ignore_conflicts=True) is objs
    assert await authors("id", "email", "name") == [
        (BIG + 1, "a@x.io", "old a"),
        (BIG + 2, "b@x.io", "old b"),
        (BIG + 3, "c@x.io", "c"),
        (BIG + 4, "d@x.io", "d"),
    ]
    assert [o.pk for o in objs] == [BIG + 1, BIG + 3, BIG + 2, BIG + 4]  # kept as given
    # Saved only when the row is known to be the object's: RETURNING on PostgreSQL and
    # SQLite; MySQL/MariaDB cannot tell inserted rows from skipped ones.
    expected = [False, True, False, True] if pg_or_sqlite(db) else [False] * 4
    assert [saved(o) for o in objs] == expected


async def test_ignore_conflicts_on_another_unique_field(db: Database) -> None:
    old = await Author.objects.create(email="a@x.io", name="old", score=1.0)
    objs = [
        Author(email="a@x.io", name="new", score=9.0),  # email taken
        Author(email="b@x.io", name="b"),
        Author(email="c@x.io", name="first c"),
        Author(email="c@x.io", name="second c"),  # duplicate inside the call
    ]
    await Author.objects.bulk_create(objs, ignore_conflicts=True)
    assert await authors("email", "name", "score") == [
        ("a@x.io", "old", 1.0),
        ("b@x.io", "b", 0.0),
        ("c@x.io", "first c", 0.0),
    ]
    assert (await Author.objects.get(email="a@x.io")).pk == old.pk
    # Objects without a pk keep None and stay unsaved on every backend (as Django).
    assert [o.pk for o in objs] == [None] * 4 and not any(saved(o) for o in objs)


async def test_ignore_conflicts_with_explicit_uuid_pks(db: Database) -> None:
    taken = await Token.objects.create(label="old")
    fresh = uuid.uuid4()
    objs = [Token(id=taken.id, label="new"), Token(id=fresh, label="fresh")]
    await Token.objects.bulk_create(objs, ignore_conflicts=True)
    rows = {r[0]: r[1] for r in await Token.objects.values_list("id", "label")}
    assert rows == {taken.id: "old", fresh: "fresh"}
    expected = [False, True] if pg_or_sqlite(db) else [False, False]
    assert [saved(o) for o in objs] == expected
    assert [o.pk for o in objs] == [taken.id, fresh]


async def test_ignore_conflicts_still_raises_other_errors(db: Database) -> None:
    author = await Author.objects.create(email="a@x.io")
    await Article.objects.create(author=author, title="kept")
    with pytest.raises(IntegrityError):  # a foreign key to no row is not a unique conflict
        await Article.objects.bulk_create(
            [Article(author_id=author.pk + 10_000_000, title="orphan")], ignore_conflicts=True
        )
    assert list(await Article.objects.values_list("title", flat=True)) == ["kept"]


# -- update_conflicts --------------------------------------------------------------------


async def test_update_conflicts_updates_only_update_fields(db: Database) -> None:
    old = await Author.objects.create(email="a@x.io", name="old", score=1.0, active=True)
    obj = Author(email="a@x.io", name="new", score=5.0, active=False)
    await Author.objects.bulk_create(
        [obj], update_conflicts=True, unique_fields=["email"], update_fields=["name"]
    )
    assert await authors("id", "email", "name", "score", "active") == [
        (old.pk, "a@x.io", "new", 1.0, True)
    ]
    assert obj.pk == old.pk and saved(obj)  # every backend here has RETURNING
    obj.score = 7.0
    await obj.save()  # saved: an UPDATE of the existing row, not a second INSERT
    assert await authors("id", "score") == [(old.pk, 7.0)]


async def test_update_conflicts_mixing_new_and_existing_rows(db: Database) -> None:
    a = await Author.objects.create(email="a@x.io", name="old a", score=1.0)
    b = await Author.objects.create(email="b@x.io", name="old b", score=2.0)
    objs = [
        Author(email="c@x.io", name="c", score=3.0),
        Author(email="a@x.io", name="new a", score=10.0),
        Author(email="d@x.io", name="d", score=4.0),
        Author(email="b@x.io", name="new b", score=20.0),
    ]
    await Author.objects.bulk_create(
        objs, update_conflicts=True, unique_fields=["email"], update_fields=["name", "score"]
    )
    rows = await authors("id", "email", "name", "score")
    ids = {email: pk for pk, email, _, _ in rows}
    assert [r[1:] for r in rows] == [
        ("a@x.io", "new a", 10.0),
        ("b@x.io", "new b", 20.0),
        ("c@x.io", "c", 3.0),
        ("d@x.io", "d", 4.0),
    ]
    assert ids["a@x.io"] == a.pk and ids["b@x.io"] == b.pk
    # RETURNING gives one row per object in order, inserted or updated.
    assert [o.pk for o in objs] == [ids[o.email] for o in objs]
    assert all(saved(o) for o in objs)


async def test_update_conflicts_on_the_pk_and_on_unique_together(db: Database) -> None:
    t1 = await Token.objects.create(label="one")
    new_id = uuid.uuid4()
    objs = [Token(id=t1.id, label="uno"), Token(id=new_id, label="two")]
    await Token.objects.bulk_create(
        objs, update_conflicts=True, unique_fields=["pk"], update_fields=["label"]
    )
    rows = {r[0]: r[1] for r in await Token.objects.values_list("id", "label")}
    assert rows == {t1.id: "uno", new_id: "two"}
    assert [o.pk for o in objs] == [t1.id, new_id]
    assert all(isinstance(o.pk, uuid.UUID) for o in objs)
    assert all(saved(o) for o in objs)

    await Counter.objects.create(name="c", value=1)
    counters = [Counter(name="c", value=1), Counter(name="d", value=2)]
    await Counter.objects.bulk_create(  # the group's order does not matter
        counters, update_conflicts=True, unique_fields=["value", "name"], update_fields=["name"]
    )
    assert list(await Counter.objects.order_by("name").values_list("name", "value")) == [
        ("c", 1),
        ("d", 2),
    ]


async def test_update_conflicts_without_returning(db: Database) -> None:
    # MySQL 8 / MariaDB < 10.5 / SQLite < 3.35: the rows are written, but which row each
    # object went to is unknown: pks stay as they were and the objects stay unsaved.
    if db.dialect.name == "postgresql":
        pytest.skip("PostgreSQL always has RETURNING")
    db.dialect.supports_returning = False
    await Author.objects.create(email="a@x.io", name="old")
    objs = [Author(email="a@x.io", name="new"), Author(email="b@x.io", name="b")]
    await Author.objects.bulk_create(
        objs, update_conflicts=True, unique_fields=["email"], update_fields=["name"]
    )
    assert await authors("email", "name") == [("a@x.io", "new"), ("b@x.io", "b")]
    assert [o.pk for o in objs] == [None, None] and not any(saved(o) for o in objs)
    tokens = [Token(label="t")]
    await Token.objects.bulk_create(tokens, ignore_conflicts=True)
    assert not saved(tokens[0]) and await Token.objects.count() == 1


# -- batching ----------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [None, 70])
async def test_upserts_across_many_batches(db: Database, batch_size: int | None) -> None:
    n = 1100  # more than one batch even without batch_size (500 rows at most)
    await Author.objects.bulk_create(
        [Author(email=f"u{i:04d}@x.io", name="old", score=i) for i in range(0, n, 3)]
    )
    before = dict(await Author.objects.values_list("email", "id"))
    objs = [Author(email=f"u{i:04d}@x.io", name=f"new {i}", score=-i) for i in range(n)]
    with db.capture_queries() as queries:
        await Author.objects.bulk_create(
            objs,
            batch_size=batch_size,
            update_conflicts=True,
            unique_fields=["email"],
            update_fields=["name"],
        )
    size = batch_size or 500
    assert len(queries) == -(-n // size)
    rows = await authors("email", "name", "score")
    assert rows == [
        (f"u{i:04d}@x.io", f"new {i}", float(i if i % 3 == 0 else -i)) for i in range(n)
    ]
    ids = dict(await Author.objects.values_list("email", "id"))
    assert [o.pk for o in objs] == [ids[o.email] for o in objs]
    assert all(ids[e] == pk for e, pk in before.items())
    assert all(saved(o) for o in objs)

    # ignore_conflicts over the same batches: nothing changes but the new rows.
    more = [Author(email=f"u{i:04d}@x.io", name="ignored") for i in range(n + 50)]
    with db.capture_queries() as queries:
        await Author.objects.bulk_create(more, batch_size=batch_size, ignore_conflicts=True)
    assert len(queries) == -(-(n + 50) // size)
    assert await Author.objects.count() == n + 50
    assert await Author.objects.filter(name="ignored").count() == 50
    assert await authors("email", "name", "score") == rows + [
        (f"u{i:04d}@x.io", "ignored", 0.0) for i in range(n, n + 50)
    ]


# -- option errors -----------------------------------------------------------------------


async def test_bad_options_fail_before_any_sql(db: Database) -> None:
    await Author.objects.create(email="a@x.io", name="old")
    obj = Author(email="a@x.io", name="new")
    bad: list[tuple[type[Exception], str, dict[str, Any]]] = [
        (ValueError, "not both", {"ignore_conflicts": True, "update_conflicts": True}),
        (ValueError, "need update_conflicts", {"unique_fields": ["email"]}),
        (ValueError, "need update_conflicts", {"update_fields": ["name"]}),
        (ValueError, "need update_conflicts", {"ignore_conflicts": True, "unique_fields": []}),
        (ValueError, "needs update_fields", {"update_conflicts": True, "unique_fields": ["email"]}),
        (
            ValueError,
            "needs update_fields",
            {"update_conflicts": True, "unique_fields": ["email"], "update_fields": []},
        ),
        (
            FieldError,
            "no field 'nope'",
            {"update_conflicts": True, "unique_fields": ["email"], "update_fields": ["nope"]},
        ),
        (
            FieldError,
            "no field 'nope'",
            {"update_conflicts": True, "unique_fields": ["nope"], "update_fields": ["name"]},
        ),
        (
            FieldError,
            "primary key",
            {"update_conflicts": True, "unique_fields": ["email"], "update_fields": ["id"]},
        ),
        (
            ValueError,
            "not the primary key, a unique field",
            {"update_conflicts": True, "unique_fields": ["name"], "update_fields": ["name"]},
        ),
        (
            TypeError,
            "list of field names",
            {"update_conflicts": True, "unique_fields": ["email"], "update_fields": "name"},
        ),
        (ValueError, "positive", {"batch_size": 0}),
    ]
    with db.capture_queries() as queries:
        for exc, message, options in bad:
            with pytest.raises(exc, match=message):
                await Author.objects.bulk_create([obj], **options)
        for unique, update in ((["labels"], ["title"]), (["id"], ["labels"])):
            with pytest.raises(FieldError, match="many-to-many"):
                await Article.objects.bulk_create(
                    [], update_conflicts=True, unique_fields=unique, update_fields=update
                )
        if db.dialect.upsert_style == "on_conflict":
            with pytest.raises(ValueError, match="needs unique_fields"):
                await Author.objects.bulk_create(
                    [obj], update_conflicts=True, update_fields=["name"]
                )
    assert queries == []
    assert await authors("email", "name") == [("a@x.io", "old")]
    assert obj.pk is None and not saved(obj)
    if db.dialect.upsert_style == "on_duplicate_key":  # MySQL: any unique key conflicts
        await Author.objects.bulk_create([obj], update_conflicts=True, update_fields=["name"])
        assert await authors("email", "name") == [("a@x.io", "new")]


async def test_labels_upsert_by_their_unique_name(db: Database) -> None:
    await Label.objects.create(name="x")
    objs = [Label(name="x"), Label(name="y")]
    await Label.objects.bulk_create(
        objs, update_conflicts=True, unique_fields=["name"], update_fields=["name"]
    )
    ids = dict(await Label.objects.values_list("name", "id"))
    assert sorted(ids) == ["x", "y"] and [o.pk for o in objs] == [ids["x"], ids["y"]]


# -- hostile input -----------------------------------------------------------------------


async def test_hostile_values_and_names_never_reach_the_sql_text(db: Database) -> None:
    await Author.objects.create(email=EVIL, name="old")
    with db.capture_queries() as queries:
        await Author.objects.bulk_create(
            [Author(email=EVIL, name=EVIL, score=1.0), Author(email=EVIL + "2", name=EVIL)],
            update_conflicts=True,
            unique_fields=["email"],
            update_fields=["name"],
        )
        await Author.objects.bulk_create(
            [Author(email=EVIL, name="ignored"), Author(email=EVIL + "3", name=EVIL)],
            ignore_conflicts=True,
        )
    assert len(queries) == 2
    for event in queries:
        assert "DROP" not in event.sql.upper() and "x')" not in event.sql, event.sql
        assert EVIL in event.params
    assert await authors("email", "name", "score") == [
        (EVIL, EVIL, 0.0),
        (EVIL + "2", EVIL, 0.0),
        (EVIL + "3", EVIL, 0.0),
    ]
    for names in (["email; DROP TABLE orm_author"], ['name" = 1, "email']):
        with pytest.raises(FieldError):
            await Author.objects.bulk_create(
                [Author(email="n@x.io")],
                update_conflicts=True,
                unique_fields=["email"],
                update_fields=names,
            )
        with pytest.raises(FieldError):
            await Author.objects.bulk_create(
                [Author(email="n@x.io")],
                update_conflicts=True,
                unique_fields=names,
                update_fields=["name"],
            )
    assert await Author.objects.count() == 3
