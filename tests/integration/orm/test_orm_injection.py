"""Hostile input through values, lookups, order_by and values() names."""

from __future__ import annotations

import pytest
from orm_models import Article, Author, Label

from covet.db import Database
from covet.orm import F, FieldError, Q

pytestmark = pytest.mark.integration

EVIL = "x'); DROP TABLE orm_author; --"


async def test_values_are_parameters(db: Database) -> None:
    await Author.objects.create(email="safe@x.io", name=EVIL)
    assert await Author.objects.filter(name=EVIL).count() == 1
    assert await Author.objects.filter(name__icontains="drop table").count() == 1
    assert await Author.objects.filter(email=EVIL).count() == 0
    assert await Author.objects.filter(email__in=[EVIL, "safe@x.io"]).count() == 1
    await Author.objects.filter(email="safe@x.io").update(name='"; DELETE FROM orm_author; --')
    assert await Author.objects.count() == 1


async def test_user_strings_never_reach_the_sql_text(db: Database) -> None:
    ann = await Author.objects.create(email="ann@x.io", name=EVIL)
    bob = await Author.objects.create(email="bob@x.io", name="bob")
    art = await Article.objects.create(author=ann, title=EVIL)
    await art.labels.add(await Label.objects.create(name=EVIL))
    filler = [f"{EVIL} {i}" for i in range(5000)]
    cases = [
        (Author.objects.filter(name=EVIL), {ann.pk}),
        (Author.objects.filter(name__icontains=EVIL.upper()), {ann.pk}),
        (Author.objects.filter(name__in=[EVIL, "nobody"]), {ann.pk}),
        (Author.objects.filter(name__in=[*filler, EVIL]), {ann.pk}),  # one array parameter
        (Author.objects.exclude(name__in=[*filler, EVIL]), {bob.pk}),
        (Author.objects.exclude(articles__title=EVIL), {bob.pk}),
        (Author.objects.exclude(articles__labels__name__in=[*filler, EVIL]), {bob.pk}),
        (Author.objects.filter(~Q(articles__title__startswith=EVIL) | Q(email=EVIL)), {bob.pk}),
        (Author.objects.filter(articles__labels__name=EVIL), {ann.pk}),
    ]
    for qs, expected in cases:
        sql, _ = qs.sql()
        assert "DROP" not in sql.upper() and "x')" not in sql, sql[:300]
        assert set(await qs.values_list("pk", flat=True)) == expected
    assert await Author.objects.exclude(articles__title=EVIL).update(name=EVIL) == 1
    assert await Author.objects.filter(name=EVIL).count() == 2


async def test_names_are_checked(db: Database) -> None:
    await Author.objects.create(email="n@x.io")
    with pytest.raises(FieldError, match="unsupported lookup"):
        await Author.objects.filter(**{"name__evil; drop": 1}).count()
    with pytest.raises(FieldError):
        await Author.objects.filter(**{"email; DROP TABLE orm_author": 1}).count()
    with pytest.raises(FieldError):
        await Author.objects.order_by("id; DROP TABLE orm_author")
    with pytest.raises(FieldError):
        await Author.objects.order_by("-email, (SELECT 1)")
    with pytest.raises(FieldError):
        await Author.objects.values("id; drop table orm_author")
    with pytest.raises(FieldError):
        await Author.objects.values_list("email", "1=1", flat=False)
    with pytest.raises(FieldError):
        await Author.objects.filter(score=F("score) OR 1=1 --")).count()
    with pytest.raises(FieldError):
        await Author.objects.filter(pk=1).update(**{"name = 'x', email": "y"})
    with pytest.raises(FieldError):
        await Author.objects.filter(email__in="abc").count()
    assert await Author.objects.count() == 1
