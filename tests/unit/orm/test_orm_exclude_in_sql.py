"""Compiled SQL of negations across multi-valued relations and of long ``IN`` lists."""

from __future__ import annotations

import json
from typing import Any

import pytest
from orm_sql_support import DIALECTS, FakeDB, compiled, not_true, q
from orm_unit_models import Account, Entry, Topic

from covet.db.dialects import get_dialect
from covet.db.sql import Compiler, select, table
from covet.orm import Count, Q


def _where(sql: str) -> str:
    return sql.split(" WHERE ", 1)[1]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_exclude_across_reverse_fk_is_a_correlated_not_exists(dialect: str) -> None:
    sql, params = compiled(Account.objects.exclude(entries__title="x").order_by(), dialect)
    assert " JOIN " not in sql.split(" WHERE ", 1)[0]
    expected = (
        'NOT (EXISTS (SELECT 1 FROM "u_account" AS "__sub1" '
        'LEFT OUTER JOIN "u_entry" AS "entries" ON "entries"."account_id" = "__sub1"."id" '
        'WHERE ("__sub1"."id" = "u_account"."id") AND ("entries"."title" = ?)))'
    )
    assert _where(sql) == q(expected, dialect)
    assert params == ["x"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_negated_m2m_inside_or_and_nested(dialect: str) -> None:
    qs = Entry.objects.filter(Q(views=1) | ~Q(topics__name="py", title="t"))
    sql, params = compiled(qs, dialect)
    expected = (
        '("u_entry"."views" = ?) OR NOT (EXISTS (SELECT 1 FROM "u_entry" AS "__sub1" '
        'LEFT OUTER JOIN "u_entry_topics" AS "topics__through" '
        'ON "topics__through"."entry_id" = "__sub1"."id" '
        'LEFT OUTER JOIN "u_topic" AS "topics" ON "topics"."id" = "topics__through"."topic_id" '
        'WHERE ("__sub1"."id" = "u_entry"."id") AND ("__sub1"."title" = ?) AND ("topics"."name" = ?)))'
    )
    assert _where(sql) == q(expected, dialect)
    assert params == [1, "t", "py"]
    # a negation inside the subquery correlates with the subquery's row
    sql, _ = compiled(Topic.objects.exclude(entries__account__entries__views=3), dialect)
    assert '"__sub1"."id" = "u_topic"."id"' in sql.replace("`", '"')
    sql, _ = compiled(Topic.objects.exclude(Q(entries__views=1) & ~Q(entries__title="a")), dialect)
    assert '"__sub2"."id" = "__sub1"."id"' in sql.replace("`", '"')


@pytest.mark.parametrize("dialect", DIALECTS)
def test_single_valued_negations_keep_plain_joins(dialect: str) -> None:
    sql, params = compiled(Entry.objects.exclude(account__email="a").order_by(), dialect)
    expected = (
        'SELECT "u_entry"."id", "u_entry"."account_id", "u_entry"."reviewer_id", '
        '"u_entry"."title", "u_entry"."views" FROM "u_entry" '
        'INNER JOIN "u_account" AS "account" ON "account"."id" = "u_entry"."account_id" '
        "WHERE " + not_true('"account"."email" = ?', dialect)
    )
    assert sql == q(expected, dialect)
    assert params == ["a"]
    sql, _ = compiled(Account.objects.exclude(badge__level=2), dialect)  # reverse one-to-one
    assert "EXISTS" not in sql and "JOIN" in sql
    sql, _ = compiled(Entry.objects.exclude(title="x", views__gt=2), dialect)
    assert "EXISTS" not in sql and "JOIN" not in sql


@pytest.mark.parametrize("dialect", DIALECTS)
def test_negated_aggregates_stay_in_having(dialect: str) -> None:
    sql, params = compiled(Account.objects.annotate(n=Count("entries")).exclude(n__gt=1), dialect)
    assert "EXISTS" not in sql
    assert sql.endswith(q(" HAVING " + not_true('COUNT("entries"."id") > ?', dialect), dialect))
    qs = Account.objects.annotate(n=Count("entries")).exclude(n__gt=1, entries__title="x")
    sql, params = compiled(qs, dialect)
    having = sql.split(" HAVING ", 1)[1]
    assert having.startswith("NOT (EXISTS (SELECT 1 FROM")
    assert " OR " + not_true("COUNT(", dialect).split("COUNT(")[0] + "COUNT(" in having
    assert params == ["x", 1]


def test_update_and_delete_go_through_a_derived_table() -> None:
    qs = Account.objects.exclude(entries__title="x").using(FakeDB("mysql"))
    qb, where = qs._simple_where()
    sql, _ = Compiler(get_dialect("mysql")).compile(select(qb.base.c.id).where(where))
    assert (
        "IN (SELECT `subquery`.`id` FROM (SELECT `u_account`.`id` FROM `u_account` WHERE NOT (EXISTS"
        in sql
    )
    qs = Account.objects.exclude(email="x").using(FakeDB("mysql"))
    qb, where = qs._simple_where()
    assert not qb.uses_subquery and not qb.select.joins


def _big_in(dialect: str, values: list[Any], negated: bool = False) -> tuple[str, list[Any]]:
    t = table("t")
    cond = t.c.v.not_in(values) if negated else t.c.v.in_(values)
    return Compiler(get_dialect(dialect)).compile(select(t.c.id).where(cond))


def test_small_in_lists_are_unchanged() -> None:
    for dialect in DIALECTS:
        sql, params = _big_in(dialect, list(range(1000)))
        assert sql.count(q("?", dialect)[0]) >= 1000 and params == list(range(1000))
        assert " IN (" in sql


def test_long_in_lists_are_one_array_parameter() -> None:
    values = list(range(1001))
    sql, params = _big_in("postgresql", values)
    assert sql == 'SELECT "t"."id" FROM "t" WHERE "t"."v" = ANY($1)' and params == [values]
    sql, params = _big_in("postgresql", values, negated=True)
    assert sql.endswith('WHERE NOT ("t"."v" = ANY($1))')
    sql, params = _big_in("sqlite", values)
    assert sql == 'SELECT "t"."id" FROM "t" WHERE "t"."v" IN (SELECT value FROM json_each(?))'
    assert json.loads(params[0]) == values
    sql, params = _big_in("mysql", values)  # the client interpolates: no parameter cap
    assert sql.count("%s") == 1001 and params == values


def test_long_sqlite_lists_carry_blobs_as_hex_and_convert_values() -> None:
    blobs = [i.to_bytes(2, "big") for i in range(1500)]
    sql, params = _big_in("sqlite", [*blobs, "text", None])
    assert sql.endswith(
        '("t"."v" IN (SELECT value FROM json_each(?)) OR hex("t"."v") IN (SELECT value FROM json_each(?)))'
    )
    assert json.loads(params[0]) == ["text", None]
    assert json.loads(params[1])[:2] == ["0000", "0001"]
    # NaN cannot travel in JSON: the list is written out instead
    sql, params = _big_in("sqlite", [float("nan")] * 1001)
    assert len(params) == 1001
    # field kinds convert each value as for a single one
    qs = Account.objects.filter(joined__in=[None] * 1001, price__in=[1] * 1001)
    sql, params = compiled(qs, "sqlite")
    assert len(params) == 2 and json.loads(params[1])[0] == "1"
