"""``__in`` lists far beyond the backends' parameter limits, and prefetch over many rows."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import pytest
from orm_models import Article, Author, Category, Label, Mood

from covet.db import Database
from covet.orm import Q

pytestmark = pytest.mark.integration

BIG = 100_000


async def _articles(n: int) -> tuple[list[Author], list[Article]]:
    authors = await Author.objects.bulk_create(
        [Author(email=f"w{i}@x.io", name=f"w{i}") for i in range(3)]
    )
    articles = await Article.objects.bulk_create(
        [Article(author=authors[i % 3], title=f"t{i}", views=i) for i in range(n)]
    )
    return authors, articles


async def test_in_with_100000_values(db: Database) -> None:
    _, articles = await _articles(500)
    real = [a.pk for a in articles]
    top = max(real)
    wanted = real[::2]  # 250 real rows among 100,000 ids
    ids = wanted + list(range(top + 1, top + 1 + BIG - len(wanted)))
    assert len(ids) == BIG
    assert set(await Article.objects.filter(id__in=ids).values_list("pk", flat=True)) == set(wanted)
    assert await Article.objects.filter(pk__in=ids).count() == len(wanted)
    assert set(await Article.objects.exclude(id__in=ids).values_list("pk", flat=True)) == set(
        real[1::2]
    )
    assert await Article.objects.filter(~Q(pk__in=ids) | Q(views=0)).count() == len(wanted) + 1
    assert set(await Article.objects.in_bulk(ids)) == set(wanted)
    titles = [f"t{i}" for i in range(BIG)]
    assert await Article.objects.filter(title__in=titles).count() == 500
    authors = await Author.objects.filter(articles__id__in=ids).distinct().count()
    assert authors == 3
    # as a subquery condition and in UPDATE / DELETE
    assert await Author.objects.exclude(articles__id__in=ids[:1]).count() == 2
    assert await Article.objects.filter(id__in=ids).update(views=-1) == len(wanted)
    assert await Article.objects.filter(views=-1).count() == len(wanted)
    assert await Article.objects.filter(id__in=ids).delete() == len(wanted)
    assert set(await Article.objects.values_list("pk", flat=True)) == set(real[1::2])


async def test_in_with_an_empty_list(db: Database) -> None:
    await _articles(3)
    assert await Article.objects.filter(id__in=[]).count() == 0
    assert await Article.objects.filter(id__in=[]).values_list("pk", flat=True) == []
    assert await Article.objects.exclude(id__in=[]).count() == 3
    assert await Article.objects.filter(Q(id__in=[]) | Q(views=1)).count() == 1
    assert await Article.objects.filter(id__in=[]).update(views=9) == 0
    assert await Article.objects.filter(id__in=[]).delete() == 0
    assert await Article.objects.in_bulk([]) == {}


async def test_big_lists_are_one_parameter_where_the_backend_has_arrays(db: Database) -> None:
    ids = list(range(BIG))
    sql, params = Article.objects.filter(id__in=ids).sql()
    assert "99999" not in sql
    if db.dialect.name == "mysql":  # interpolated by the client: no parameter cap
        assert params == ids
    else:
        assert len(params) == 1
    # small lists keep the usual IN (...)
    sql, params = Article.objects.filter(id__in=[1, 2, 3]).sql()
    assert " IN (" in sql and params == [1, 2, 3]


async def test_big_lists_of_every_kind(db: Database) -> None:
    """Long lists are converted like single values (UUIDs, datetimes, decimals, bytes...)."""
    ann = await Author.objects.create(
        email="ann@x.io",
        born=dt.date(1990, 5, 17),
        wakes=dt.time(6, 30),
        avatar=b"\x00\xffpng",
        balance=decimal.Decimal("12.50"),
        mood=Mood.SAD,
        score=2.5,
        active=False,
    )
    ann = await Author.objects.get(pk=ann.pk)  # values as stored (rounded datetimes...)
    await Author.objects.create(email="bob@x.io")
    n = 3000
    day = dt.datetime(2001, 1, 1, tzinfo=dt.timezone.utc)
    cases: dict[str, list[object]] = {
        "email": [f"e{i}@x.io" for i in range(n)],
        "uid": [uuid.uuid4() for _ in range(n)],
        "created_at": [day + dt.timedelta(seconds=i) for i in range(n)],
        "born": [dt.date(1900, 1, 1) + dt.timedelta(days=i) for i in range(n)],
        "wakes": [dt.time(i // 3600 % 24, i // 60 % 60, i % 60, 1) for i in range(n)],
        "avatar": [i.to_bytes(3, "big") for i in range(n)],
        "balance": [decimal.Decimal(i) / 4 + decimal.Decimal("0.01") for i in range(n)],
        "score": [i + 0.75 for i in range(n)],
        "name": [None, *(f"n{i}" for i in range(n))],
    }
    for name, values in cases.items():
        own = getattr(ann, name)
        if own is not None:
            values = [*values, own]
        found = set(
            await Author.objects.filter(**{f"{name}__in": values}).values_list("pk", flat=True)
        )
        assert found == ({ann.pk} if own is not None else set()), name
    moods = [Mood.SAD] * 2000
    assert await Author.objects.filter(mood__in=moods).count() == 1
    assert await Author.objects.filter(active__in=[False] * 2000).count() == 1
    mixed = [i.to_bytes(2, "big") for i in range(2000)] + [ann.avatar, None]
    assert await Author.objects.filter(avatar__in=mixed).count() == 1


async def test_prefetch_over_more_than_40000_parents(db: Database) -> None:
    authors, articles = await _articles(40_001)
    labels = await Label.objects.bulk_create([Label(name=f"l{i}") for i in range(3)])
    through = Article.labels.field.through
    await through.objects.bulk_create(
        [
            through(article_id=a.pk, label_id=labels[i % 3].pk)
            for i, a in enumerate(articles)
            if i % 1000 == 0
        ]
    )
    loaded = await Article.objects.prefetch_related("author", "labels").order_by("pk")
    assert len(loaded) == 40_001
    by_pk = {a.pk: a for a in authors}
    for i, art in enumerate(loaded):
        assert art.pk == articles[i].pk
        assert art.author is not None and art.author.pk == by_pk[art.author_id].pk
        assert [lb.name for lb in art.labels] == ([f"l{i % 3}"] if i % 1000 == 0 else [])
    # reverse m2m and reverse FK over the same rows seen from the other side
    tagged = await Label.objects.prefetch_related("articles").order_by("name")
    assert [len(list(lb.articles)) for lb in tagged] == [14, 14, 13]

    roots = await Category.objects.bulk_create([Category(name=f"r{i}") for i in range(200)])
    await Category.objects.bulk_create(
        [Category(name=f"c{i}", parent=roots[i % 200]) for i in range(40_000)]
    )
    cats = await Category.objects.prefetch_related("children", "parent")
    assert len(cats) == 40_200
    children = {c.name: sorted(ch.name for ch in c.children) for c in cats}
    assert children["r0"] == sorted(f"c{i}" for i in range(0, 40_000, 200))
    assert all(len(children[f"r{i}"]) == 200 for i in range(200))
    assert all(children[f"c{i}"] == [] for i in range(40_000))
    parents = {c.name: (c.parent.name if c.parent is not None else None) for c in cats}
    assert parents["c399"] == "r199" and parents["r5"] is None
