"""Negated conditions across multi-valued relations (reverse FK, m2m both ways).

``exclude(X)`` returns exactly the objects ``filter(X)`` would not: an object is dropped
when any of its related rows matches, and objects with no related rows are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from orm_models import Article, Author, Category, Label

from covet.db import Database
from covet.orm import Count, F, Q, Sum
from covet.orm.query import QuerySet

pytestmark = pytest.mark.integration


@dataclass
class World:
    ann: Author  # articles "x" (labels py) and "y" (labels py, js)
    bob: Author  # article "y" (label js)
    cat: Author  # no articles
    dan: Author  # article "x" (no labels); editor of ann's "y"
    ax: Article
    ay: Article
    by: Article
    dx: Article
    py: Label
    js: Label
    go: Label  # on no article


async def _world() -> World:
    ann = await Author.objects.create(email="ann@x.io", name="Ann", score=1.0)
    bob = await Author.objects.create(email="bob@x.io", name="Bob", score=2.0)
    cat = await Author.objects.create(email="cat@x.io", name="Cat", score=3.0)
    dan = await Author.objects.create(email="dan@x.io", name=None, score=4.0)
    py = await Label.objects.create(name="py")
    js = await Label.objects.create(name="js")
    go = await Label.objects.create(name="go")
    ax = await Article.objects.create(author=ann, title="x", views=1)
    ay = await Article.objects.create(author=ann, title="y", views=2, editor=dan)
    by = await Article.objects.create(author=bob, title="y", views=4)
    dx = await Article.objects.create(author=dan, title="x", views=8)
    await ax.labels.add(py)
    await ay.labels.add(py, js)
    await by.labels.add(js)
    return World(ann, bob, cat, dan, ax, ay, by, dx, py, js, go)


async def _pks(qs: QuerySet[object]) -> set[object]:
    return set(await qs.values_list("pk", flat=True))


def _ids(*objs: object) -> set[object]:
    return {o.pk for o in objs}  # type: ignore[attr-defined]


async def test_exclude_across_reverse_foreign_key(db: Database) -> None:
    w = await _world()
    # ann has "x" and "y": dropped (not kept through the "y" row); cat has no articles: kept
    assert await _pks(Author.objects.exclude(articles__title="x")) == _ids(w.bob, w.cat)
    assert await _pks(Author.objects.filter(~Q(articles__title="x"))) == _ids(w.bob, w.cat)
    assert await _pks(Author.objects.exclude(articles__views__gte=4)) == _ids(w.ann, w.cat)
    assert await _pks(Author.objects.exclude(articles__isnull=True)) == _ids(w.ann, w.bob, w.dan)
    assert await _pks(Author.objects.exclude(articles__isnull=False)) == _ids(w.cat)
    assert await _pks(Author.objects.exclude(articles=w.ay)) == _ids(w.bob, w.cat, w.dan)
    # a nullable reverse FK (Article.editor -> Author.edited)
    assert await _pks(Author.objects.exclude(edited__title="y")) == _ids(w.ann, w.bob, w.cat)
    # the same path in the other direction
    assert await _pks(Author.objects.exclude(articles__author__name="Ann")) == _ids(
        w.bob, w.cat, w.dan
    )


async def test_exclude_across_many_to_many(db: Database) -> None:
    w = await _world()
    # forward m2m: articles without labels are kept
    assert await _pks(Article.objects.exclude(labels__name="py")) == _ids(w.by, w.dx)
    assert await _pks(Article.objects.exclude(labels__name__in=["py", "js"])) == _ids(w.dx)
    assert await _pks(Article.objects.exclude(labels=w.js)) == _ids(w.ax, w.dx)
    # reverse m2m: a label on no article is kept
    assert await _pks(Label.objects.exclude(articles__title="y")) == _ids(w.go)
    assert await _pks(Label.objects.exclude(articles__title="x")) == _ids(w.js, w.go)
    # deeper paths: reverse FK then m2m, m2m then FK
    assert await _pks(Author.objects.exclude(articles__labels__name="py")) == _ids(
        w.bob, w.cat, w.dan
    )
    assert await _pks(Label.objects.exclude(articles__author__name="Bob")) == _ids(w.py, w.go)
    assert await _pks(Label.objects.exclude(articles__author__score__gte=4)) == _ids(
        w.py, w.js, w.go
    )


async def test_nested_and_mixed_negations(db: Database) -> None:
    w = await _world()
    everyone = _ids(w.ann, w.bob, w.cat, w.dan)
    # inside OR / AND
    assert await _pks(Author.objects.filter(Q(name="Ann") | ~Q(articles__title="x"))) == _ids(
        w.ann, w.bob, w.cat
    )
    assert (
        await _pks(Author.objects.filter(Q(score__lte=2) & ~Q(articles__labels__name="js")))
        == set()
    )
    assert await _pks(
        Author.objects.filter(Q(score__gte=2), ~Q(articles__labels__name="js"))
    ) == _ids(w.cat, w.dan)
    # double negation: authors that have an "x" article
    assert await _pks(Author.objects.exclude(~Q(articles__title="x"))) == _ids(w.ann, w.dan)
    assert await _pks(Author.objects.filter(~~Q(articles__title="x")).distinct()) == _ids(
        w.ann, w.dan
    )
    # single- and multi-valued conditions in one negated Q: the complement of filter()
    for cond in (
        Q(name="Bob", articles__title="y"),
        Q(name="Cat") | Q(articles__title="x"),
        Q(articles__title="x", articles__labels__name="py"),
        Q(articles__title="y") & ~Q(articles__labels__name="js"),
        Q(articles__editor__isnull=False) | Q(score=F("score") * 0 + 2),
    ):
        kept = await _pks(Author.objects.filter(cond).distinct())
        assert await _pks(Author.objects.exclude(cond)) == everyone - kept, cond
        assert await _pks(Author.objects.filter(~cond)) == everyone - kept, cond
    assert await _pks(Author.objects.exclude(name="Bob", articles__title="y")) == _ids(
        w.ann, w.cat, w.dan
    )
    assert await _pks(Author.objects.exclude(Q(name="Cat") | Q(articles__title="x"))) == _ids(w.bob)
    # conditions on the same relation in one exclude() refer to the same related row, as
    # in filter(): dan's "x" article has no "py" label, so dan stays
    assert await _pks(
        Author.objects.exclude(articles__title="x", articles__labels__name="py")
    ) == _ids(w.bob, w.cat, w.dan)


async def test_exclude_combined_with_filter_and_terminals(db: Database) -> None:
    w = await _world()
    qs = Author.objects.filter(articles__title="y").exclude(articles__labels__name="js").distinct()
    assert await _pks(qs) == set()
    qs = Author.objects.filter(articles__title="x").exclude(articles__title="y").distinct()
    assert await _pks(qs) == _ids(w.dan)
    excluded = Author.objects.exclude(articles__title="x")
    assert await excluded.count() == 2
    assert await excluded.exists()
    assert (
        not await Author.objects.exclude(articles__isnull=True)
        .exclude(articles__views__lt=100)
        .exists()
    )
    assert sorted(await excluded.values_list("name", flat=True)) == ["Bob", "Cat"]
    assert sorted(r["email"] for r in await excluded.values("email")) == ["bob@x.io", "cat@x.io"]
    assert await excluded.aggregate(total=Sum("score"), n=Count("id")) == {"total": 5.0, "n": 2}
    assert await Article.objects.exclude(labels__name="py").aggregate(Sum("views")) == {
        "views__sum": 12
    }
    assert [a.pk for a in await excluded.order_by("-score")[:1]] == [w.cat.pk]
    assert (await excluded.get(name="Bob")).pk == w.bob.pk
    # an annotation over the same relation still works next to the exclude
    counted = await Author.objects.annotate(n=Count("articles")).exclude(articles__title="x")
    assert sorted((a.name, a.n) for a in counted) == [("Bob", 1), ("Cat", 0)]
    # negated aggregate conditions stay in HAVING, mixed with a multi-valued condition
    few = await Author.objects.annotate(n=Count("articles")).exclude(n__gte=2)
    assert _ids(*few) == _ids(w.bob, w.cat, w.dan)
    mixed = await Author.objects.annotate(n=Count("articles")).exclude(
        n__gte=1, articles__title="y"
    )
    assert _ids(*mixed) == _ids(w.cat, w.dan)
    # single-valued paths keep their plain join
    assert await _pks(Article.objects.exclude(author__email="ann@x.io")) == _ids(w.by, w.dx)
    # ... and a multi-valued relation further down the path gets its subquery
    assert await _pks(Article.objects.exclude(author__articles__title="x")) == _ids(w.by)


async def test_update_and_delete_with_multi_valued_exclude(db: Database) -> None:
    w = await _world()
    assert await Author.objects.exclude(articles__title="x").update(score=F("score") + 10) == 2
    scores = dict(await Author.objects.values_list("name", "score"))
    assert scores == {"Ann": 1.0, "Bob": 12.0, "Cat": 13.0, None: 4.0}
    assert await Article.objects.exclude(labels__name="js").update(views=0) == 2
    views = {a.pk: a.views for a in await Article.objects.all()}
    assert views == {w.ax.pk: 0, w.ay.pk: 2, w.by.pk: 4, w.dx.pk: 0}
    # delete: unlabelled articles, then authors without articles
    assert await Article.objects.exclude(labels__isnull=False).delete() == 1
    assert await _pks(Article.objects.all()) == _ids(w.ax, w.ay, w.by)
    assert await Author.objects.exclude(articles__isnull=False).delete() == 2
    assert await _pks(Author.objects.all()) == _ids(w.ann, w.bob)
    assert await Label.objects.filter(~Q(articles__title__in=["x", "y"])).delete() == 1
    assert await _pks(Label.objects.all()) == _ids(w.py, w.js)
    # a self-referencing table (the subquery reads the table being deleted from)
    root = await Category.objects.create(name="root")
    a = await Category.objects.create(name="a", parent=root)
    await Category.objects.create(name="a1", parent=a)
    await Category.objects.create(name="b", parent=root)
    renamed = Category.objects.exclude(children__name="a1").exclude(parent=None)
    assert await renamed.update(name="leaf") == 2
    assert await Category.objects.exclude(children__isnull=True).exclude(pk=root.pk).delete() == 1
    assert sorted(await Category.objects.values_list("name", flat=True)) == ["leaf", "root"]


async def test_negations_keep_rows_whose_compared_value_is_null(db: Database) -> None:
    """``exclude(X)`` is the complement of ``filter(X)`` also when X is NULL for a row:
    a NULL column, or a nullable foreign key with no related row."""
    w = await _world()
    everyone = _ids(w.ann, w.bob, w.cat, w.dan)
    assert await _pks(Author.objects.filter(name="Ann")) == _ids(w.ann)
    assert await _pks(Author.objects.exclude(name="Ann")) == everyone - _ids(w.ann)  # dan: NULL
    assert await _pks(Author.objects.filter(~Q(name__startswith="A"))) == _ids(w.bob, w.cat, w.dan)
    # Article.editor is NULL except on ay (dan): the others have no editor row to compare
    articles = _ids(w.ax, w.ay, w.by, w.dx)
    assert await _pks(Article.objects.exclude(editor__email="dan@x.io")) == articles - _ids(w.ay)
    assert await _pks(Article.objects.exclude(editor__score__gt=1)) == articles - _ids(w.ay)
    for cond in (Q(name="Ann"), Q(name__in=["Ann", "Bob"]), Q(score__gt=2) | Q(name="Bob")):
        kept = await _pks(Author.objects.filter(cond))
        assert await _pks(Author.objects.exclude(cond)) == everyone - kept
        assert await Author.objects.exclude(cond).count() == len(everyone - kept)
