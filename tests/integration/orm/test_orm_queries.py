"""Every lookup, Q/F, ordering, values, distinct, aggregates and annotations."""

from __future__ import annotations

import pytest
from orm_models import Article, Author, Label

from covet.db import Database
from covet.orm import Avg, Count, F, Max, Min, Q, Sum

pytestmark = pytest.mark.integration


async def _people() -> list[Author]:
    return await Author.objects.bulk_create(
        [
            Author(email="alice@example.com", name="Alice", score=1.0),
            Author(email="bob@example.org", name="Bob", score=2.0),
            Author(email="carol@example.com", name="carol", score=3.0),
            Author(email="dan_50%@example.net", name=None, score=4.0),
        ]
    )


async def _emails(**filters: object) -> list[str]:
    return sorted(await Author.objects.filter(**filters).values_list("email", flat=True))


async def test_every_lookup(db: Database) -> None:
    a, _b, c, _d = await _people()
    assert await _emails(name="Bob") == ["bob@example.org"]
    assert await _emails(name__exact="Alice") == ["alice@example.com"]
    assert await _emails(name__iexact="CAROL") == ["carol@example.com"]
    assert await _emails(name__contains="aro") == ["carol@example.com"]
    assert await _emails(name__contains="ARO") == []
    assert await _emails(name__icontains="ARO") == ["carol@example.com"]
    assert await _emails(id__in=[a.pk, c.pk]) == ["alice@example.com", "carol@example.com"]
    assert await _emails(id__in=[]) == []
    assert await _emails(score__gt=3) == ["dan_50%@example.net"]
    assert await _emails(score__gte=3) == ["carol@example.com", "dan_50%@example.net"]
    assert await _emails(score__lt=2) == ["alice@example.com"]
    assert await _emails(score__lte=2) == ["alice@example.com", "bob@example.org"]
    assert await _emails(name__startswith="Al") == ["alice@example.com"]
    assert await _emails(name__startswith="al") == []
    assert await _emails(name__istartswith="al") == ["alice@example.com"]
    assert await _emails(email__endswith=".org") == ["bob@example.org"]
    assert await _emails(email__endswith=".ORG") == []
    assert await _emails(email__iendswith=".ORG") == ["bob@example.org"]
    assert await _emails(name__isnull=True) == ["dan_50%@example.net"]
    assert len(await _emails(name__isnull=False)) == 3
    assert await _emails(name=None) == ["dan_50%@example.net"]
    assert await _emails(score__range=(2, 3)) == ["bob@example.org", "carol@example.com"]
    # LIKE wildcards in values match literally.
    assert await _emails(email__contains="_50%") == ["dan_50%@example.net"]
    assert await _emails(email__contains="%") == ["dan_50%@example.net"]
    assert await _emails(email__startswith="_") == []
    assert await _emails(id__in=Author.objects.filter(score__gte=4)) == ["dan_50%@example.net"]


async def test_q_objects_exclude_and_f(db: Database) -> None:
    await _people()
    assert await Author.objects.filter(Q(name="Alice") | Q(name="Bob")).count() == 2
    assert await Author.objects.filter(~Q(name="Alice"), name__isnull=False).count() == 2
    assert await Author.objects.exclude(score__gt=2).count() == 2
    assert await Author.objects.filter(Q(score__gt=1) & Q(score__lt=4)).count() == 2
    assert await _emails(score__gt=F("balance") + 3) == ["dan_50%@example.net"]
    n = await Author.objects.filter(score__gte=3).update(score=F("score") * 2 + 1)
    assert n == 2
    assert sorted(await Author.objects.values_list("score", flat=True)) == [1.0, 2.0, 7.0, 9.0]


async def test_ordering_values_distinct(db: Database) -> None:
    await _people()
    names = (
        await Author.objects.filter(name__isnull=False)
        .order_by("-score")
        .values_list("name", flat=True)
    )
    assert names == ["carol", "Bob", "Alice"]
    rows = await Author.objects.order_by(F("score").desc()).values("name", "score")[:2]
    assert rows == [{"name": None, "score": 4.0}, {"name": "carol", "score": 3.0}]
    assert await Author.objects.order_by("score").values_list("name", "score")[:1] == [
        ("Alice", 1.0)
    ]
    assert await Author.objects.filter(score__gt=100).exists() is False
    assert await Author.objects.filter(score__gt=1).exists() is True
    assert await Author.objects.values_list("active", flat=True).distinct() == [True]
    assert await Author.objects.values("active").distinct().count() == 1
    assert await Author.objects.order_by("score")[1:3].count() == 2


async def test_aggregates_and_annotations(db: Database) -> None:
    a, b, _c, _d = await _people()
    result = await Author.objects.aggregate(
        Sum("score"), Avg("score"), Min("score"), Max("score"), n=Count("id")
    )
    assert result == {
        "score__sum": 10.0,
        "score__avg": 2.5,
        "score__min": 1.0,
        "score__max": 4.0,
        "n": 4,
    }
    assert await Author.objects.aggregate(hi=Count("id", filter=Q(score__gte=3))) == {"hi": 2}
    assert await Author.objects.filter(score__gt=99).aggregate(s=Sum("score"), n=Count("id")) == {
        "s": None,
        "n": 0,
    }
    await Article.objects.bulk_create(
        [
            Article(author=a, title="a1", views=1),
            Article(author=a, title="a2", views=2),
            Article(author=b, title="b1", views=5),
        ]
    )
    counts = (
        await Author.objects.annotate(n=Count("articles"), v=Sum("articles__views"))
        .order_by("score")
        .values("name", "n", "v")
    )
    assert [(r["name"], r["n"], r["v"]) for r in counts] == [
        ("Alice", 2, 3),
        ("Bob", 1, 5),
        ("carol", 0, None),
        (None, 0, None),
    ]
    annotated = await Author.objects.annotate(n=Count("articles")).filter(n__gte=1).order_by("-n")
    assert [(x.name, x.n) for x in annotated] == [("Alice", 2), ("Bob", 1)]
    # values that leave the filtered aggregate out are still grouped (per author)
    prolific = Author.objects.annotate(n=Count("articles")).filter(n__gte=2)
    assert await prolific.values_list("name", flat=True) == ["Alice"]
    assert await prolific.values_list("pk", flat=True) == [a.pk]
    assert await Author.objects.annotate(n=Count("articles")).exclude(n=0).order_by(
        "name"
    ).values_list("name", flat=True) == ["Alice", "Bob"]
    per_author = (
        await Article.objects.values("author__name")
        .annotate(total=Sum("views"))
        .order_by("author__name")
    )
    assert [(r["author__name"], r["total"]) for r in per_author] == [("Alice", 3), ("Bob", 5)]
    assert await Article.objects.aggregate(n=Count("author", distinct=True)) == {"n": 2}


async def test_filters_across_relations(db: Database) -> None:
    a, b, *_ = await _people()
    py = await Label.objects.create(name="py")
    art = await Article.objects.create(author=a, title="Hi all", editor=b)
    await Article.objects.create(author=b, title="Hello")
    await art.labels.add(py)
    found = (
        await Article.objects.filter(author__email__icontains="ALICE", title__startswith="Hi")
        .select_related("author")
        .order_by("-id")
        .limit(20)
    )
    assert [x.title for x in found] == ["Hi all"] and found[0].author.name == "Alice"
    assert await Article.objects.filter(editor__name="Bob").count() == 1
    assert await Article.objects.filter(editor__isnull=True).count() == 1
    assert await Author.objects.filter(articles__title="Hello").values_list("name", flat=True) == [
        "Bob"
    ]
    assert await Label.objects.filter(articles__author__name="Alice").values_list(
        "name", flat=True
    ) == ["py"]
    assert await Article.objects.filter(labels__name="py").values_list("title", flat=True) == [
        "Hi all"
    ]
    assert await Author.objects.filter(articles__isnull=True).count() == 2
    assert await Article.objects.order_by("author__name").values_list("title", flat=True) == [
        "Hi all",
        "Hello",
    ]
    assert await Article.objects.filter(author=a).count() == 1
    assert await Article.objects.filter(author_id=b.pk).count() == 1
    assert await Article.objects.filter(author__id=b.pk).count() == 1


async def test_update_and_delete_through_joins(db: Database) -> None:
    a, b, _c, _d = await _people()
    await Article.objects.create(author=a, title="keep", views=1)
    await Article.objects.create(author=b, title="drop", views=1)
    assert await Author.objects.filter(articles__title="drop").update(score=99.0) == 1
    assert (await Author.objects.get(pk=b.pk)).score == 99.0
    assert await Article.objects.filter(author__score=99.0).update(views=F("views") + 5) == 1
    assert await Article.objects.filter(author__name="Alice").delete() == 1
    assert await Article.objects.values_list("title", "views") == [("drop", 6)]
    assert await Author.objects.order_by("score")[:2].update(active=False) == 2
    assert await Author.objects.filter(active=False).count() == 2


async def test_expression_annotations_and_count_filters(db: Database) -> None:
    a, *_ = await _people()
    await Article.objects.bulk_create([Article(author=a, title=f"t{i}", views=i) for i in range(4)])
    rows = (
        await Article.objects.annotate(double=F("views") * 2)
        .order_by("views")
        .values_list("double", flat=True)
    )
    assert [int(x) for x in rows] == [0, 2, 4, 6]
    assert await Article.objects.aggregate(n=Count("*", filter=Q(views__gte=2))) == {"n": 2}
    assert len(await Author.objects.values()) == 4
    assert len(await Author.objects.in_bulk()) == 4
    assert (await Article.objects.order_by("views")[1:2].get()).title == "t1"
    with pytest.raises(TypeError, match="after slicing"):
        Article.objects.order_by("views")[1:].filter(views=1)


async def test_grouped_values_ignore_default_ordering(db: Database) -> None:
    """Article.Meta.ordering = ["id"] must not join the GROUP BY and split the groups."""
    a, b, _c, _d = await _people()
    await Article.objects.bulk_create(
        [Article(author=a, title=f"a{i}", views=i) for i in range(3)] + [Article(author=b, title="b", views=7)]
    )
    grouped = await Article.objects.values("author_id").annotate(n=Count("id"), v=Sum("views"))
    assert sorted((r["author_id"], r["n"], r["v"]) for r in grouped) == [(a.id, 3, 3), (b.id, 1, 7)]
    # an explicit order_by still applies
    ordered = await Article.objects.values("author_id").annotate(n=Count("id")).order_by("-n")
    assert [r["n"] for r in ordered] == [3, 1]


async def test_ordered_slices_update_delete_and_exist_as_selected(db: Database) -> None:
    for n in range(1, 6):
        await Author.objects.create(email=f"s{n}@x.io", name=f"s{n}", score=float(n))
    newest = Author.objects.order_by("-score")[:2]
    assert [a.name for a in await newest] == ["s5", "s4"]
    assert await newest.update(active=False) == 2
    assert await Author.objects.filter(active=False).order_by("score").values_list(
        "name", flat=True
    ) == ["s4", "s5"]
    assert await Author.objects.order_by("score")[1:2].delete() == 1  # s2, the second lowest
    assert await Author.objects.order_by("score").values_list("name", flat=True) == [
        "s1",
        "s3",
        "s4",
        "s5",
    ]
    assert await Author.objects.order_by("score")[3:].exists() is True
    assert await Author.objects.order_by("score")[4:].exists() is False
    assert await Author.objects.values("active").distinct().exists() is True


async def test_exists_after_a_filter_on_an_aggregate(db: Database) -> None:
    a = await Author.objects.create(email="e1@x.io", name="one")
    b = await Author.objects.create(email="e2@x.io", name="two")
    await Article.objects.bulk_create(
        [Article(author=a, title="x"), Article(author=a, title="y"), Article(author=b, title="z")]
    )
    prolific = Author.objects.annotate(n=Count("articles"))
    assert await prolific.filter(n__gte=2).exists() is True
    assert await prolific.filter(n__gte=3).exists() is False
    assert await prolific.filter(n__gte=3).count() == 0
