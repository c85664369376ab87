"""``distinct(*fields)``: DISTINCT ON on PostgreSQL, NotSupportedError elsewhere."""

from __future__ import annotations

from typing import Any

import pytest
from orm_models import Article, Author, Doc

from covet.db import Database, NotSupportedError
from covet.orm import FieldError
from covet.orm.query import QuerySet

pytestmark = pytest.mark.integration


async def _articles() -> tuple[Author, Author]:
    a1 = await Author.objects.create(email="a1@x.io")
    a2 = await Author.objects.create(email="a2@x.io")
    await Author.objects.create(email="a3@x.io")  # no articles
    await Article.objects.bulk_create(
        [
            Article(author=a1, editor=a2, title="t1", views=5),
            Article(author=a1, title="t2", views=9),
            Article(author=a1, title="t3", views=9),
            Article(author=a2, title="t4", views=1),
        ]
    )
    return a1, a2


def _titles(qs: QuerySet[Article]) -> QuerySet[Any]:
    return qs.values_list("title", flat=True)


async def test_distinct_on(db: Database) -> None:
    if not db.dialect.supports_distinct_on:
        pytest.skip("DISTINCT ON is PostgreSQL only (see test_distinct_on_elsewhere)")
    a1, a2 = await _articles()
    latest = Article.objects.order_by("author", "-views", "-id").distinct("author")
    assert await _titles(latest) == ["t3", "t4"]
    assert [(x.author_id, x.title) for x in await latest] == [(a1.pk, "t3"), (a2.pk, "t4")]
    assert await latest.count() == 2
    # a related path joins; the ORDER BY may stop before the DISTINCT ON fields
    by_email = Article.objects.order_by("author__email", "views").distinct("author__email")
    assert await _titles(by_email) == ["t1", "t4"]
    assert len(await Article.objects.order_by("author").distinct("author", "views")) == 3
    # several fields: the leading ORDER BY terms may list them in any order
    pairs = Article.objects.order_by("editor", "author", "-id").distinct("author", "editor")
    assert await _titles(pairs) == ["t1", "t3", "t4"]
    # reverse() flips the whole ordering, DISTINCT ON fields included
    first = Article.objects.order_by("author", "views", "id").distinct("author")
    assert await _titles(first) == ["t1", "t4"]
    assert await _titles(first.reverse()) == ["t4", "t3"]
    assert await first.values_list("author_id", flat=True) == [a1.pk, a2.pk]
    assert [x.author.email for x in await first.select_related("author")] == [
        "a1@x.io",
        "a2@x.io",
    ]
    # no ORDER BY at all: one (unspecified) row per author
    assert len(await Article.objects.order_by().distinct("author")) == 2
    assert await Article.objects.filter(views__gt=1).order_by().distinct("author").count() == 1
    # plain distinct() still works, and distinct() without fields drops DISTINCT ON
    authors = Article.objects.values_list("author_id", flat=True).order_by("author_id")
    assert await authors.distinct() == [a1.pk, a2.pk]
    assert len(await Article.objects.order_by("-views").distinct("author").distinct()) == 4


async def test_distinct_on_json_key(db: Database) -> None:
    if not db.dialect.supports_distinct_on:
        pytest.skip("PostgreSQL only")
    await Doc.objects.bulk_create(
        [
            Doc(name="r2", data={"team": "red"}),
            Doc(name="b1", data={"team": "blue"}),
            Doc(name="r1", data={"team": "red"}),
            Doc(name="x", data={"other": 1}),
        ]
    )
    firsts = (
        Doc.objects.filter(data__has_key="team")
        .order_by("data__team", "name")
        .distinct("data__team")
    )
    assert await firsts.values_list("name", flat=True) == ["b1", "r1"]
    assert await firsts.values_list("data__team", flat=True) == ["blue", "red"]


async def test_distinct_on_checks(db: Database) -> None:
    if not db.dialect.supports_distinct_on:
        pytest.skip("PostgreSQL only")
    await _articles()
    with pytest.raises(FieldError, match=r"order_by\('author', \.\.\.\).*\('-views', 'author'\)"):
        await Article.objects.order_by("-views", "author").distinct("author")
    with pytest.raises(FieldError, match=r"Meta\.ordering"):
        await Article.objects.distinct("author")  # Meta.ordering = ["id"]
    with pytest.raises(FieldError, match="cannot resolve 'nope'"):
        await Article.objects.order_by().distinct("nope")
    with pytest.raises(FieldError):
        Article.objects.distinct("")
    with pytest.raises(TypeError, match="distinct"):
        await Article.objects.order_by("author").distinct("author").update(views=0)
    with pytest.raises(TypeError, match="distinct"):
        await Article.objects.order_by("author").distinct("author").delete()
    assert await Article.objects.count() == 4


async def test_distinct_on_elsewhere(db: Database) -> None:
    if db.dialect.supports_distinct_on:
        pytest.skip("PostgreSQL supports DISTINCT ON")
    a1, a2 = await _articles()
    qs = Article.objects.order_by("author", "-views").distinct("author")
    with pytest.raises(NotSupportedError, match="PostgreSQL only"):
        await qs
    with pytest.raises(NotSupportedError, match=f"not on {db.dialect.name}"):
        await qs.count()
    with pytest.raises(NotSupportedError):
        qs.sql()
    # plain distinct() keeps working
    authors = Article.objects.values_list("author_id", flat=True).order_by("author_id")
    assert await authors.distinct() == [a1.pk, a2.pk]
    assert await authors.distinct().count() == 2
