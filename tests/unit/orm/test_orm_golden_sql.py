"""Golden compiled SQL per dialect (no database): placeholders, quoting, params."""

from __future__ import annotations

import pytest
from orm_sql_support import DIALECTS, FakeDB, compiled, not_true, q
from orm_unit_models import Account, Entry

from covet.db.dialects import get_dialect
from covet.db.sql import Compiler, func, insert, select, table, update
from covet.db.sql import delete as sql_delete
from covet.orm import Count, F, FieldError, Q

COLS = '"u_entry"."id", "u_entry"."account_id", "u_entry"."reviewer_id", "u_entry"."title", "u_entry"."views"'


@pytest.mark.parametrize("dialect", DIALECTS)
def test_filter_join_order_limit(dialect: str) -> None:
    qs = Entry.objects.filter(account__email__icontains="b", title__startswith="Hi").order_by(
        "-id"
    )[:20]
    sql, params = compiled(qs, dialect)
    like = {
        "sqlite": 'LOWER("account"."email") LIKE LOWER(?) ESCAPE \'\\\' AND "u_entry"."title" LIKE ? ESCAPE \'\\\'',
        "postgresql": '"account"."email" ILIKE ? AND "u_entry"."title" LIKE ?',
        "mysql": 'LOWER("account"."email") LIKE LOWER(?) AND "u_entry"."title" LIKE BINARY ?',
    }[dialect]
    expected = (
        f'SELECT {COLS} FROM "u_entry" INNER JOIN "u_account" AS "account" ON "account"."id" = "u_entry"."account_id" '
        f'WHERE {like} ORDER BY "u_entry"."id" DESC LIMIT ?'
    )
    assert sql == q(expected, dialect)
    assert params == ["%b%", "Hi%", 20]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_q_or_not_in_isnull(dialect: str) -> None:
    qs = Entry.objects.filter(Q(title="x") | ~Q(views__in=[1, 2]), reviewer__isnull=True).order_by()
    sql, params = compiled(qs, dialect)
    expected = (
        f'SELECT {COLS} FROM "u_entry" WHERE (("u_entry"."title" = ?) OR '
        + not_true('"u_entry"."views" IN (?, ?)', dialect)
        + ') AND "u_entry"."reviewer_id" IS NULL'
    )
    assert sql == q(expected, dialect)
    assert params == ["x", 1, 2]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_offset_without_limit(dialect: str) -> None:
    sql, params = compiled(Entry.objects.order_by("id")[5:], dialect)
    tail = {
        "sqlite": " LIMIT -1 OFFSET ?",
        "postgresql": " OFFSET ?",
        "mysql": " LIMIT 18446744073709551615 OFFSET ?",
    }[dialect]
    assert sql.endswith(q(f'ORDER BY "u_entry"."id" ASC{tail}', dialect))
    assert params == [5]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_annotate_group_by_and_having(dialect: str) -> None:
    qs = (
        Account.objects.annotate(n=Count("entries")).filter(n__gt=1).values("email", "n").order_by()
    )
    sql, params = compiled(qs, dialect)
    expected = (
        'SELECT "u_account"."email", COUNT("entries"."id") FROM "u_account" '
        'LEFT OUTER JOIN "u_entry" AS "entries" ON "entries"."account_id" = "u_account"."id" '
        'GROUP BY "u_account"."id", "u_account"."email" HAVING COUNT("entries"."id") > ?'
    )
    assert sql == q(expected, dialect)
    assert params == [1]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_m2m_join(dialect: str) -> None:
    sql, _ = compiled(Entry.objects.filter(topics__name="py").order_by(), dialect)
    expected = (
        f'SELECT {COLS} FROM "u_entry" '
        'LEFT OUTER JOIN "u_entry_topics" AS "topics__through" ON "topics__through"."entry_id" = "u_entry"."id" '
        'LEFT OUTER JOIN "u_topic" AS "topics" ON "topics"."id" = "topics__through"."topic_id" '
        'WHERE "topics"."name" = ?'
    )
    assert sql == q(expected, dialect)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_select_for_update(dialect: str) -> None:
    sql, _ = compiled(
        Entry.objects.filter(id=1).select_for_update(skip_locked=True).order_by(), dialect
    )
    if dialect == "sqlite":
        assert "FOR UPDATE" not in sql
    else:
        assert sql.endswith(" FOR UPDATE SKIP LOCKED")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_builder_statements(dialect: str) -> None:
    d = get_dialect(dialect)
    users = table("users")
    sel = (
        select(users.c.country, func.count().label("n"))
        .where(users.c.active == True, users.c.age >= 18)  # noqa: E712
        .group_by(users.c.country)
        .order_by(func.count().desc())
        .limit(10)
    )
    sql, params = Compiler(d).compile(sel)
    expected = (
        'SELECT "users"."country", COUNT(*) AS "n" FROM "users" WHERE ("users"."active" = ?) AND ("users"."age" >= ?) '
        'GROUP BY "users"."country" ORDER BY COUNT(*) DESC LIMIT ?'
    )
    assert sql == q(expected, dialect)
    assert params == [True, 18, 10]
    sql, params = Compiler(d).compile(insert(users, [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]))
    assert sql == q('INSERT INTO "users" ("a", "b") VALUES (?, ?), (?, ?)', dialect) and params == [
        1,
        "x",
        2,
        "y",
    ]
    sql, params = Compiler(d).compile(update(users, {"n": users.c.n + 1}, users.c.id == 3))
    assert sql == q(
        'UPDATE "users" SET "n" = "users"."n" + ? WHERE "users"."id" = ?', dialect
    ) and params == [1, 3]
    sql, params = Compiler(d).compile(sql_delete(users, users.c.id.in_([])))
    assert sql == q('DELETE FROM "users" WHERE 1 = 0', dialect) and params == []


@pytest.mark.parametrize("dialect", DIALECTS)
def test_hostile_identifiers_are_quoted_not_executed(dialect: str) -> None:
    d = get_dialect(dialect)
    evil = table('x"; DROP TABLE y; --' if dialect != "mysql" else "x`; DROP TABLE y; --")
    sql, _ = Compiler(d).compile(select(evil.c.id))
    quote = "`" if dialect == "mysql" else '"'
    assert f"{quote}x{quote}{quote}; DROP TABLE y; --{quote}" in sql


def test_modulo_is_escaped_for_format_paramstyle() -> None:
    t = table("t")
    sql, params = Compiler(get_dialect("mysql")).compile(select(t.c.a).where((t.c.a % 2) == 0))
    assert "%% %s" in sql and params == [2, 0]


def test_update_with_f_expression_and_unknown_names() -> None:
    with pytest.raises(FieldError):
        compiled(Entry.objects.filter(nope=1), "sqlite")
    with pytest.raises(FieldError):
        compiled(Entry.objects.order_by("title; DROP TABLE u_entry"), "sqlite")
    with pytest.raises(FieldError):
        compiled(Entry.objects.values("title", "1; DROP"), "sqlite")
    with pytest.raises(FieldError):
        compiled(Entry.objects.filter(title__regex="x"), "sqlite")
    with pytest.raises(FieldError):
        compiled(Entry.objects.filter(views__gt=F("nonexistent")), "sqlite")
    with pytest.raises(ValueError):
        Entry.objects.all()[-1:]
    with pytest.raises(ValueError):
        Entry.objects.limit(-5)


def test_default_ordering_and_reverse() -> None:
    sql, _ = compiled(Account.objects.all(), "postgresql")
    assert sql.endswith('ORDER BY "u_account"."id" DESC')
    sql, _ = compiled(Account.objects.reverse(), "postgresql")
    assert sql.endswith('ORDER BY "u_account"."id" ASC')


@pytest.mark.parametrize("dialect", DIALECTS)
def test_upsert_and_returning(dialect: str) -> None:
    d = get_dialect(dialect)
    d.supports_returning = dialect != "mysql"
    t = table("counter")
    stmt = insert(
        t,
        {"name": "a", "value": 1},
        on_conflict=["name"],
        update_columns=["value"],
        returning=["id"],
    )
    sql, params = Compiler(d).compile(stmt)
    expected = {
        "sqlite": 'INSERT INTO "counter" ("name", "value") VALUES (?, ?) ON CONFLICT ("name") DO UPDATE SET "value" = EXCLUDED."value" RETURNING "id"',
        "postgresql": 'INSERT INTO "counter" ("name", "value") VALUES (?, ?) ON CONFLICT ("name") DO UPDATE SET "value" = EXCLUDED."value" RETURNING "id"',
        "mysql": 'INSERT INTO "counter" ("name", "value") VALUES (?, ?) ON DUPLICATE KEY UPDATE "value" = VALUES("value")',
    }[dialect]
    assert sql == q(expected, dialect) and params == ["a", 1]
    sql, _ = Compiler(d).compile(insert(t, {"name": "a"}, on_conflict=["name"], update_columns=[]))
    tail = {"mysql": ' ON DUPLICATE KEY UPDATE "name" = "name"'}.get(
        dialect, ' ON CONFLICT ("name") DO NOTHING'
    )
    assert sql.endswith(q(tail, dialect))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_cached_shapes_match_compiled_sql(dialect: str) -> None:
    fake = FakeDB(dialect)
    acc = Account(email="a@x.io", id=4)
    cases = [
        Entry.objects.filter(account=acc, views__gte=3).order_by("-views")[5:15],
        Entry.objects.filter(title="x").exclude(views__lt=2).filter(pk=9),
        Entry.objects.filter(account_id=4).select_related("account").order_by("title")[:3],
        Entry.objects.filter(views__gt=1).values("title", "account__email"),
        Account.objects.filter(color=Account._meta.get_field("color").enum_type.BLUE)[2:],
        Entry.objects.all().distinct(),
        Entry.objects.filter(Q(title="a") | ~Q(views__gt=3, pk=2)),
    ]
    for qs in cases:
        qs = qs.using(fake)
        shape = qs._shape(fake.dialect)
        assert shape is not None
        sql, params = qs.sql()
        _key, fast_params = shape
        assert fast_params == params, (sql, params, fast_params)
    # Shapes that depend on values are never cached.
    for qs in (
        Entry.objects.filter(views__in=[1, 2]),
        Entry.objects.filter(title__contains="x"),
        Entry.objects.filter(reviewer=None),
        Entry.objects.filter(account__email="x"),
        Entry.objects.filter(views=F("views")),
        Entry.objects.annotate(n=Count("topics")),
    ):
        assert qs.using(fake)._shape(fake.dialect) is None


@pytest.mark.parametrize("dialect", DIALECTS)
def test_builder_joins_and_predicates(dialect: str) -> None:
    from covet.db.sql import and_, not_, or_

    u, p = table("users"), table("posts", "p")
    stmt = (
        select(u.c.name, p.c.title)
        .join(p, p.c.user_id == u.c.id)
        .outerjoin(table("tags"), table("tags").c.id == p.c.tag_id)
        .where(
            or_(u.c.name.like("a%"), not_(u.c.age.between(1, 9))),
            and_(p.c.title.is_not_null(), u.c.id.not_in([3])),
        )
        .order_by(u.c.name.asc(), p.c.title.desc())
        .offset(4)
    )
    sql, params = Compiler(get_dialect(dialect)).compile(stmt)
    like = {"sqlite": " LIKE ? ESCAPE '\\'", "postgresql": " LIKE ?", "mysql": " LIKE BINARY ?"}[
        dialect
    ]
    tail = {
        "sqlite": " LIMIT -1 OFFSET ?",
        "postgresql": " OFFSET ?",
        "mysql": " LIMIT 18446744073709551615 OFFSET ?",
    }[dialect]
    expected = (
        'SELECT "users"."name", "p"."title" FROM "users" '
        'INNER JOIN "posts" AS "p" ON "p"."user_id" = "users"."id" '
        'LEFT OUTER JOIN "tags" ON "tags"."id" = "p"."tag_id" '
        f'WHERE ("users"."name"{like} OR NOT ("users"."age" BETWEEN ? AND ?)) '
        'AND "p"."title" IS NOT NULL AND "users"."id" NOT IN (?) '
        f'ORDER BY "users"."name" ASC, "p"."title" DESC{tail}'
    )
    assert sql == q(expected, dialect)
    assert params == ["a%", 1, 9, 3, 4]
