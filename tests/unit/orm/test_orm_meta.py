"""Model._meta, field resolution, relation wiring and instance behaviour (no database)."""

from __future__ import annotations

import pytest
from orm_unit_models import Account, Badge, Color, Entry, Topic

from covet.db import exceptions as db_exc
from covet.db.dialects import get_dialect
from covet.orm import Field, ForeignKey, ManyToMany, Model, RelationNotLoaded
from covet.orm.ddl import create_sql


def test_meta_fields_and_kinds() -> None:
    meta = Account._meta
    assert meta.table == "u_account"
    assert [f.name for f in meta.fields][:3] == ["id", "email", "password_hash"]
    kinds = {f.name: f.kind for f in meta.fields}
    assert kinds == {
        "id": "bigint",  # auto-increment primary keys are 64-bit by default
        "email": "str",
        "password_hash": "str",
        "nickname": "str",
        "age": "int",
        "price": "decimal",
        "color": "enum",
        "size": "str",
        "extra": "json",
        "joined": "datetime",
    }
    pk = meta.pk
    assert pk.primary_key and pk.auto and not pk.nullable
    assert meta.get_field("email").unique and meta.get_field("nickname").nullable
    assert meta.get_field("size").choices == ["s", "m", "l"]
    assert meta.ordering == ["-id"]


class SmallKeys(Model):
    id: int = Field(primary_key=True, big=False)
    count: int = 0
    total: int = Field(default=0, big=True)

    class Meta:
        table = "u_small_keys"


class SmallChild(Model):
    parent: ForeignKey[SmallKeys] = Field(on_delete="cascade")

    class Meta:
        table = "u_small_child"


def test_int_widths_of_keys_and_fields() -> None:
    Small, Child = SmallKeys, SmallChild
    kinds = {f.name: f.kind for f in Small._meta.fields}
    assert kinds == {"id": "int", "count": "int", "total": "bigint"}
    assert Child._meta.pk.kind == "bigint" and Child._meta.get_field("parent").kind == "int"
    assert Entry._meta.get_field("account").kind == "bigint"  # follows Account's key
    for name, auto, plain in (
        ("postgresql", "BIGSERIAL", "INTEGER"),
        ("mysql", "BIGINT AUTO_INCREMENT", "INT"),
        ("sqlite", "INTEGER", "INTEGER"),
    ):
        ddl = " ".join(create_sql(Child, get_dialect(name)))
        assert auto in ddl, ddl
        assert "INTEGER" in " ".join(create_sql(Small, get_dialect(name))) or plain == "INT"


def test_relations_meta() -> None:
    meta = Entry._meta
    account = meta.get_field("account")
    assert account.column == "account_id" and account.attname == "account_id"
    assert account.related_model is Account and account.on_delete == "cascade"
    reviewer = meta.get_field("reviewer")
    assert reviewer.nullable and reviewer.on_delete == "set_null"
    topics = meta.by_name["topics"]
    assert topics.is_m2m and topics in meta.m2m and topics not in meta.fields
    through = topics.through
    assert through._meta.auto_created and through._meta.table == "u_entry_topics"
    assert through._meta.unique_together == [("entry_id", "topic_id")]
    assert {r.name for r in Account._meta.related_objects} >= {"entries", "reviews", "badge"}
    assert Topic._meta.get_reverse("entries") is not None
    assert Badge._meta.get_field("account").unique
    assert [i.columns for i in meta.indexes] == [
        ("title",),
        ("account_id",),
        ("reviewer_id",),
        ("account_id", "title"),
    ]


def test_auto_pk_and_defaults() -> None:
    t = Topic(name="x")
    assert t.pk is None and t.id is None
    a = Account(email="e@x.io")
    assert a.color is Color.RED and a.size == "m" and a.nickname is None and a.extra is None
    with pytest.raises(TypeError, match="unexpected fields"):
        Account(email="e", bogus=1)
    with pytest.raises(TypeError, match="after saving"):
        Entry(title="t", topics=[])


def test_per_model_errors() -> None:
    assert issubclass(Account.DoesNotExist, db_exc.DoesNotExist)
    assert issubclass(Account.MultipleObjectsReturned, db_exc.MultipleObjectsReturned)
    assert Account.DoesNotExist is not Topic.DoesNotExist


def test_forward_relation_access_never_queries() -> None:
    e = Entry(title="t", account_id=5)
    with pytest.raises(RelationNotLoaded, match="select_related"):
        _ = e.account
    assert e.reviewer is None
    acc = Account(email="a@x.io", id=9)
    e.account = acc
    assert e.account_id == 9 and e.account is acc
    with pytest.raises(TypeError):
        e.account = Topic(name="wrong")  # type: ignore[assignment]


def test_create_table_sql_uses_column_specs() -> None:
    stmts = create_sql(Entry, get_dialect("postgresql"))
    table = stmts[0]
    assert table.startswith('CREATE TABLE IF NOT EXISTS "u_entry"')
    assert 'FOREIGN KEY ("account_id") REFERENCES "u_account" ("id") ON DELETE CASCADE' in table
    assert 'FOREIGN KEY ("reviewer_id") REFERENCES "u_account" ("id") ON DELETE SET NULL' in table
    assert any("CREATE INDEX" in s and '"title"' in s for s in stmts[1:])


def test_bad_declarations() -> None:
    with pytest.raises(TypeError, match="unsupported field type"):

        class Bad(Model):
            thing: set[int]

    with pytest.raises(ValueError, match="on_delete"):
        Field(on_delete="explode")
    with pytest.raises(TypeError, match="already has an attribute"):

        class Clash(Model):
            account: ForeignKey[Account] = Field(related_name="email")


def test_abstract_inheritance_and_explicit_through() -> None:
    class Stamped(Model):
        created: int = 0

        class Meta:
            abstract = True

    class Group(Stamped):
        name: str = Field(max_length=20)

        class Meta:
            table = "u_group"

    class Member(Stamped):
        name: str = Field(max_length=20)
        groups: ManyToMany[Group] = Field(through="Membership", related_name="members")

        class Meta:
            table = "u_member"

    class Membership(Model):
        member: ForeignKey[Member] = Field(related_name="+")
        group: ForeignKey[Group] = Field(related_name="+")
        role: str = Field(max_length=10, default="user")

        class Meta:
            table = "u_membership"

    assert [f.name for f in Group._meta.fields] == ["id", "created", "name"]
    assert Stamped._meta.abstract and not Stamped._meta.fields
    with pytest.raises(TypeError, match="abstract"):
        Stamped()
    field = Member._meta.by_name["groups"]
    assert field.through is Membership and field.through_fields == ("member", "group")
    assert Group._meta.get_reverse("members") is not None


def test_stale_relation_cache_and_queryset_truth() -> None:
    e = Entry(title="t", account=Account(email="a@x.io", id=1))
    assert e.account.pk == 1
    e.account_id = 2
    with pytest.raises(RelationNotLoaded):
        _ = e.account
    e.account_id = None
    assert e.account is None
    with pytest.raises(TypeError, match="exists"):
        bool(Entry.objects.all())


def test_unresolved_relation_is_reported_on_use() -> None:
    from covet.exceptions import ImproperlyConfigured

    class Orphan(Model):
        owner: ForeignKey[NeverDefinedModel] = Field()  # noqa: F821

        class Meta:
            table = "u_orphan"

    assert not Orphan._meta.ready
    with pytest.raises(ImproperlyConfigured, match="NeverDefinedModel"):
        Orphan.objects.filter(id=1)


def test_bare_names_resolve_in_the_declaring_module() -> None:
    from covet.orm import get_model

    assert get_model("Account", near=Entry) is Account
    assert get_model("orm_unit_models.Topic") is Topic
    with pytest.raises(LookupError):
        get_model("elsewhere.Account")


def test_two_many_to_many_fields_to_an_existing_model() -> None:
    """Defining the second auto through model re-enters relation wiring (was a ValueError)."""

    class ReentryTag(Model):
        name: str

    class ReentryPost(Model):
        tags: ManyToMany[ReentryTag] = Field(related_name="reentry_posts")
        fans: ManyToMany[ReentryTag] = Field(related_name="reentry_fan_posts")

    assert ReentryPost._meta.get_field("tags").through is not None
    assert ReentryPost._meta.get_field("fans").through is not ReentryPost._meta.get_field("tags").through
