"""FK, reverse FK, one-to-one and many-to-many both ways; select/prefetch; on_delete."""

from __future__ import annotations

import re
import uuid

import pytest
from orm_models import (
    Article,
    Author,
    Book,
    Category,
    Label,
    Note,
    Profile,
    Publisher,
    Shelf,
    Token,
    TokenUse,
)

from covet.db import Database
from covet.db.exceptions import IntegrityError
from covet.orm import ProtectedError, RelationNotLoaded

pytestmark = pytest.mark.integration


async def test_foreign_key_both_ways(db: Database) -> None:
    ann = await Author.objects.create(email="ann@x.io", name="Ann")
    art = await ann.articles.create(title="First")
    assert art.author_id == ann.pk
    assert (await Article.objects.get(pk=art.pk)).author_id == ann.pk
    loaded = await Article.objects.get(pk=art.pk)
    with pytest.raises(RelationNotLoaded):
        _ = loaded.author
    await loaded.fetch_related("author")
    assert loaded.author.name == "Ann"
    assert loaded.editor is None  # NULL key: None without a query
    assert [a.title for a in await ann.articles.all()] == ["First"]
    assert await ann.articles.count() == 1
    assert [a.title for a in await ann.articles.filter(title="none")] == []
    other = Article(author=ann, title="Second")
    await other.save()
    assert other.author is ann
    bob = await Author.objects.create(email="bob@x.io")
    await bob.articles.add(other)
    assert await Article.objects.filter(author=bob).count() == 1
    with pytest.raises(RelationNotLoaded):
        list(ann.articles)


async def test_one_to_one_both_ways(db: Database) -> None:
    ann = await Author.objects.create(email="o2o@x.io")
    prof = await Profile.objects.create(author=ann, bio="hello")
    got = await Profile.objects.select_related("author").get(pk=prof.pk)
    assert got.author.email == "o2o@x.io"
    fresh = await Author.objects.get(pk=ann.pk)
    with pytest.raises(RelationNotLoaded):
        _ = fresh.profile
    await fresh.fetch_related("profile")
    assert fresh.profile.bio == "hello"
    with pytest.raises(IntegrityError):
        await Profile.objects.create(author=ann, bio="second")
    lonely = await Author.objects.create(email="none@x.io")
    await lonely.fetch_related("profile")
    assert lonely.profile is None


async def test_many_to_many_both_ways(db: Database) -> None:
    ann = await Author.objects.create(email="m2m@x.io")
    art = await Article.objects.create(author=ann, title="T")
    py, web, db_ = [await Label.objects.create(name=n) for n in ("py", "web", "db")]
    await art.labels.add(py, web)
    await art.labels.add(py)  # already linked: skipped
    assert sorted(x.name for x in await art.labels.all()) == ["py", "web"]
    assert await art.labels.count() == 2
    assert [a.title for a in await py.articles.all()] == ["T"]
    await art.labels.remove(web)
    assert [x.name for x in await art.labels.all()] == ["py"]
    await art.labels.set([web, db_])
    assert sorted(x.name for x in await art.labels.all()) == ["db", "web"]
    new = await art.labels.create(name="new")
    assert new.pk is not None and await art.labels.count() == 3
    await py.articles.add(art)
    assert await art.labels.count() == 4
    await art.labels.clear()
    assert await art.labels.count() == 0
    with pytest.raises(TypeError):
        await art.labels.add(ann)


async def test_select_related_nested_and_prefetch(db: Database) -> None:
    ann = await Author.objects.create(email="p@x.io", name="Ann")
    bob = await Author.objects.create(email="q@x.io", name="Bob")
    await Profile.objects.create(author=ann, bio="ann's")
    a1 = await Article.objects.create(author=ann, title="a1", editor=bob)
    a2 = await Article.objects.create(author=ann, title="a2")
    await Article.objects.create(author=bob, title="b1")
    py = await Label.objects.create(name="py")
    await a1.labels.add(py)
    await a2.labels.add(py)
    arts = await Article.objects.select_related("author", "editor").order_by("title")
    assert [(a.title, a.author.name, a.editor.name if a.editor else None) for a in arts] == [
        ("a1", "Ann", "Bob"),
        ("a2", "Ann", None),
        ("b1", "Bob", None),
    ]
    profs = await Profile.objects.select_related("author")
    assert profs[0].author.name == "Ann"
    # the reverse of a one-to-one joins too, in the same single query
    with db.capture_queries() as queries:
        people = await Author.objects.select_related("profile").order_by("name")
        arts3 = await Article.objects.select_related("author__profile").order_by("title")
    assert len(queries) == 2
    assert [(a.name, a.profile.bio if a.profile else None) for a in people] == [
        ("Ann", "ann's"),
        ("Bob", None),
    ]
    assert people[0].profile.author is people[0]  # the back reference is the parent
    assert [a.author.profile.bio if a.author.profile else None for a in arts3] == [
        "ann's",
        "ann's",
        None,
    ]
    authors = await Author.objects.prefetch_related(
        "articles", "articles__labels", "profile"
    ).order_by("name")
    assert [a.title for a in authors[0].articles] == ["a1", "a2"]
    assert [[lab.name for lab in a.labels] for a in authors[0].articles] == [["py"], ["py"]]
    assert authors[0].profile.bio == "ann's" and authors[1].profile is None
    assert [a.title for a in await authors[1].articles.all()] == ["b1"]
    labels = await Label.objects.prefetch_related("articles")
    assert sorted(a.title for a in labels[0].articles) == ["a1", "a2"]
    arts2 = await Article.objects.prefetch_related("author").order_by("title")
    assert [a.author.name for a in arts2] == ["Ann", "Ann", "Bob"]
    data = authors[0].to_dict()
    assert [x["title"] for x in data["articles"]] == ["a1", "a2"] and data["profile"][
        "bio"
    ] == "ann's"
    # two paths through one relation: it is loaded once, and both nested levels stay
    with db.capture_queries() as queries:
        (ann2,) = await Author.objects.filter(pk=ann.pk).prefetch_related(
            "articles__labels", "articles__editor"
        )
    articles = sorted(ann2.articles, key=lambda a: a.title)
    assert [[lab.name for lab in a.labels] for a in articles] == [["py"], ["py"]]
    assert [a.editor.name if a.editor else None for a in articles] == ["Bob", None]
    from_articles = [q for q in queries if re.search(r'FROM ["`]orm_article["`]', q.sql)]
    assert len(from_articles) == 1, [q.sql for q in queries]


async def test_on_delete_rules(db: Database) -> None:
    ann = await Author.objects.create(email="del@x.io")
    bob = await Author.objects.create(email="ed@x.io")
    art = await Article.objects.create(author=ann, title="x", editor=bob)
    lab = await Label.objects.create(name="l")
    await art.labels.add(lab)
    await Profile.objects.create(author=ann)
    # set null (database rule)
    await bob.delete()
    assert (await Article.objects.get(pk=art.pk)).editor_id is None
    # cascade (database rule) through FK, o2o and the m2m through table
    await Author.objects.filter(pk=ann.pk).delete()
    assert await Article.objects.count() == 0
    assert await Profile.objects.count() == 0
    assert await Article.labels.field.through.objects.count() == 0
    assert await Label.objects.count() == 1
    # protect (ORM check, then the database's RESTRICT)
    pub = await Publisher.objects.create(name="P")
    await Book.objects.create(publisher=pub, title="B")
    with pytest.raises(ProtectedError):
        await pub.delete()
    assert await Publisher.objects.count() == 1
    # cascade without a database constraint (ORM applies it)
    pub2 = await Publisher.objects.create(name="Q")
    await Note.objects.create(publisher=pub2, text="n1")
    await Note.objects.create(publisher=pub2, text="n2")
    await Note.objects.create(publisher=pub, text="kept")
    assert await Publisher.objects.filter(name="Q").delete() == 1
    assert await Note.objects.values_list("text", flat=True) == ["kept"]
    await Book.objects.all().delete()
    await pub.delete()
    assert await Note.objects.count() == 0


async def test_restrict_is_enforced_by_the_database(db: Database) -> None:
    pub = await Publisher.objects.create(name="R")
    await Shelf.objects.create(publisher=pub, label="s1")
    with pytest.raises(IntegrityError):
        async with db.transaction():
            await Publisher.objects.filter(pk=pub.pk).delete()
    assert await Publisher.objects.filter(pk=pub.pk).exists()
    await Shelf.objects.filter(publisher=pub).delete()
    assert await pub.delete() == 1


async def test_uuid_primary_and_foreign_keys(db: Database) -> None:
    tok = await Token.objects.create(label="t")
    assert isinstance(tok.pk, uuid.UUID)
    await TokenUse.objects.create(token=tok)
    await TokenUse.objects.create(token_id=tok.pk)
    got = await Token.objects.get(pk=tok.pk)
    assert got.label == "t" and got.pk == tok.pk
    uses = await TokenUse.objects.filter(token__label="t").select_related("token")
    assert len(uses) == 2 and all(u.token.pk == tok.pk for u in uses)
    assert await tok.uses.count() == 2
    [fresh] = await Token.objects.prefetch_related("uses").filter(pk=tok.pk)
    assert len(list(fresh.uses)) == 2
    assert await Token.objects.filter(pk=str(tok.pk)).count() == 1
    await tok.delete()
    assert await TokenUse.objects.count() == 0


async def test_self_reference_and_exclude_by_subquery(db: Database) -> None:
    root = await Category.objects.create(name="root")
    a = await Category.objects.create(name="a", parent=root)
    await Category.objects.create(name="a1", parent=a)
    assert sorted(c.name for c in await root.children.all()) == ["a"]
    leaves = await Category.objects.filter(parent__parent__name="root").values_list(
        "name", flat=True
    )
    assert leaves == ["a1"]
    tree = await Category.objects.filter(name="a1").select_related("parent__parent")
    assert tree[0].parent.parent.name == "root"
    ann = await Author.objects.create(email="ex@x.io")
    bob = await Author.objects.create(email="ex2@x.io")
    await Article.objects.create(author=ann, title="x")
    await Article.objects.create(author=ann, title="y")
    kept = await Author.objects.exclude(
        pk__in=Article.objects.filter(title="x").values_list("author_id", flat=True)
    )
    assert [k.pk for k in kept] == [bob.pk]
    await Category.objects.filter(pk=root.pk).delete()
    assert await Category.objects.count() == 0
