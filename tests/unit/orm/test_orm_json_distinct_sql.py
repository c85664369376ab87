"""Compiled SQL (no database) of JSON key lookups and distinct(*fields), per dialect,
and their error messages."""

from __future__ import annotations

from typing import Any

import pytest
from orm_sql_support import DIALECTS, compiled
from orm_unit_models import Account, Entry

from covet.db import NotSupportedError
from covet.db.dialects import get_dialect
from covet.db.sql import Compiler, JsonCompare, JsonHasKeys, JsonKey, JsonTypeIs, select, table
from covet.orm import Count, F, FieldError
from covet.orm.query import QuerySet

EVIL_KEYS = ["'; DROP TABLE u_account; --", 'a"b', "x.y", "$", "*", "z[0]", "`", "a'b", "\\"]


def where(qs: QuerySet[Any], dialect: str) -> tuple[str, list[Any]]:
    sql, params = compiled(qs.order_by(), dialect)
    return sql.split(" WHERE ", 1)[1], params


def test_json_path_encoding() -> None:
    d = get_dialect("sqlite")
    assert d.json_path([]) == "$"
    assert d.json_path(["a", 0, 'b"c', "d.e", "é", "\\"]) == '$."a"[0]."b\\"c"."d.e"."é"."\\\\"'


@pytest.mark.parametrize(
    ("dialect", "sql", "params"),
    [
        (
            "sqlite",
            """(json_type("u_account"."extra", ?) = 'text' AND ("u_account"."extra" ->> ?) = ?)""",
            ['$."owner"."name"', '$."owner"."name"', "ann"],
        ),
        (
            "postgresql",
            """("u_account"."extra" -> $1 -> $2) = $3::jsonb""",
            ["owner", "name", '"ann"'],
        ),
        (
            "mysql",
            "(JSON_TYPE(JSON_EXTRACT(`u_account`.`extra`, %s)) = 'STRING' "
            "AND JSON_UNQUOTE(JSON_EXTRACT(`u_account`.`extra`, %s)) = %s)",
            ['$."owner"."name"', '$."owner"."name"', "ann"],
        ),
    ],
)
def test_exact_string(dialect: str, sql: str, params: list[Any]) -> None:
    assert where(Account.objects.filter(extra__owner__name="ann"), dialect) == (sql, params)


@pytest.mark.parametrize(
    ("dialect", "sql", "params"),
    [
        (
            "sqlite",
            """(json_type("u_account"."extra", ?) IN ('integer', 'real') """
            """AND ("u_account"."extra" ->> ?) > ?)""",
            ['$."items"[0]', '$."items"[0]', 5],
        ),
        (
            "postgresql",
            """(jsonb_typeof((CASE WHEN jsonb_typeof("u_account"."extra" -> $1) = 'array' """
            """THEN "u_account"."extra" -> $1 -> 0 END)) = 'number' """
            """AND (CASE WHEN jsonb_typeof("u_account"."extra" -> $1) = 'array' """
            """THEN "u_account"."extra" -> $1 -> 0 END) > $2::jsonb)""",
            ["items", "5"],
        ),
    ],
)
def test_number_comparison_on_an_index(dialect: str, sql: str, params: list[Any]) -> None:
    assert where(Account.objects.filter(extra__items__0__gt=5), dialect) == (sql, params)


def test_mysql_index_needs_an_array_parent() -> None:
    sql, params = where(Account.objects.filter(extra__items__0__isnull=False), "mysql")
    assert sql == (
        "(CASE WHEN JSON_TYPE(JSON_EXTRACT(`u_account`.`extra`, %s)) = 'ARRAY' "
        "THEN JSON_EXTRACT(`u_account`.`extra`, %s) END) IS NOT NULL"
    )
    assert params == ['$."items"', '$."items"[0]']


@pytest.mark.parametrize(
    ("dialect", "sql", "params"),
    [
        (
            "sqlite",
            """(json_type("u_account"."extra", ?) IS NOT NULL """
            """AND json_type("u_account"."extra", ?) IS NOT NULL)""",
            ['$."a"', '$."b"'],
        ),
        (
            "postgresql",
            """(jsonb_typeof(("u_account"."extra")) = 'object' AND ("u_account"."extra") ?& $1)""",
            [["a", "b"]],
        ),
        (
            "mysql",
            "(JSON_CONTAINS_PATH(`u_account`.`extra`, 'all', %s, %s))",
            ['$."a"', '$."b"'],
        ),
    ],
)
def test_has_keys(dialect: str, sql: str, params: list[Any]) -> None:
    assert where(Account.objects.filter(extra__has_keys=["a", "b"]), dialect) == (sql, params)


def test_has_key_and_has_any_keys_spelling() -> None:
    sql, params = where(Account.objects.filter(extra__o__has_key="k"), "postgresql")
    assert sql == (
        """(jsonb_typeof(("u_account"."extra" -> $1)) = 'object' """
        """AND ("u_account"."extra" -> $1) ? $2)"""
    )
    assert params == ["o", "k"]
    sql, _ = where(Account.objects.filter(extra__has_any_keys=["a", "b"]), "postgresql")
    assert "?| $1" in sql
    sql, params = where(Account.objects.filter(extra__has_any_keys=["a", "b"]), "sqlite")
    assert " OR " in sql and params == ['$."a"', '$."b"']
    sql, _ = where(Account.objects.filter(extra__has_any_keys=["a", "b"]), "mysql")
    assert "'one'" in sql


@pytest.mark.parametrize(
    ("dialect", "sql"),
    [
        (
            "sqlite",
            """json_type("u_account"."extra", ?) = 'text' """
            """AND LOWER(("u_account"."extra" ->> ?)) LIKE LOWER(?) ESCAPE '\\'""",
        ),
        (
            "postgresql",
            """jsonb_typeof(("u_account"."extra" -> $1)) = 'string' """
            """AND ("u_account"."extra" ->> $1) ILIKE $2""",
        ),
        (
            "mysql",
            "JSON_TYPE(JSON_EXTRACT(`u_account`.`extra`, %s)) = 'STRING' "
            "AND LOWER(JSON_UNQUOTE(JSON_EXTRACT(`u_account`.`extra`, %s))) LIKE LOWER(%s)",
        ),
    ],
)
def test_text_lookup(dialect: str, sql: str) -> None:
    got, params = where(Account.objects.filter(extra__name__icontains="5_%"), dialect)
    assert got == sql
    assert params[-1] == "%5\\_\\%%"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_null_and_missing(dialect: str) -> None:
    sql, _ = where(Account.objects.filter(extra__k=None), dialect)
    assert {
        "sqlite": """json_type("u_account"."extra", ?) = 'null'""",
        "postgresql": """("u_account"."extra" -> $1) = $2::jsonb""",
        "mysql": "JSON_TYPE(JSON_EXTRACT(`u_account`.`extra`, %s)) = 'NULL'",
    }[dialect] == sql
    sql, _ = where(Account.objects.filter(extra__k__isnull=True), dialect)
    assert {
        "sqlite": """("u_account"."extra" -> ?) IS NULL""",
        "postgresql": """("u_account"."extra" -> $1) IS NULL""",
        "mysql": "JSON_EXTRACT(`u_account`.`extra`, %s) IS NULL",
    }[dialect] == sql
    sql, _ = where(Account.objects.filter(extra__isnull=True), dialect)
    assert sql.endswith("extra" + ("`" if dialect == "mysql" else '"') + " IS NULL")


def test_sqlite_key_with_a_double_quote_uses_json_each() -> None:
    sql, params = where(Account.objects.filter(**{'extra__a"b__c': 1}), "sqlite")
    step = (
        """(SELECT CASE "type" WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' """
        """ELSE json_quote("value") END FROM json_each("u_account"."extra", ?) WHERE "key" = ?)"""
    )
    assert sql == f"(json_type({step}, ?) IN ('integer', 'real') AND ({step} ->> ?) = ?)"
    assert params == ["$", 'a"b', '$."c"', "$", 'a"b', '$."c"', 1]


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("key", EVIL_KEYS)
def test_keys_are_never_sql_text(dialect: str, key: str) -> None:
    def build(k: str) -> tuple[str, list[Any]]:
        qs = Account.objects.filter(**{f"extra__{k}__gt": 1}).filter(extra__has_key=k)
        return compiled(qs.values("id", f"extra__{k}").order_by(f"-extra__{k}"), dialect)

    sql, params = build(key)
    # the SQL text does not depend on the key (SQLite looks keys holding '"' up apart)
    assert sql == build('k"' if dialect == "sqlite" and '"' in key else "k")[0]
    if dialect == "postgresql":
        assert params.count(key) == 2  # one placeholder for the path, reused
    elif dialect == "sqlite" and '"' in key:
        assert key in params
    else:
        assert get_dialect(dialect).json_path([key]) in params


def test_pg_reuses_a_key_paths_placeholders() -> None:
    qs = Account.objects.values("extra__team").annotate(n=Count("id")).order_by("extra__team")
    sql, params = compiled(qs, "postgresql")
    assert sql == (
        """SELECT ("u_account"."extra" -> $1), COUNT("u_account"."id") FROM "u_account" """
        """GROUP BY ("u_account"."extra" -> $1) ORDER BY ("u_account"."extra" -> $1) ASC"""
    )
    assert params == ["team"]


def test_order_by_key_per_dialect() -> None:
    sql, params = compiled(Account.objects.values("id").order_by("-extra__n"), "mysql")
    assert sql.endswith(
        "ORDER BY (CASE WHEN JSON_TYPE(JSON_EXTRACT(`u_account`.`extra`, %s)) "
        "IN ('INTEGER', 'UNSIGNED INTEGER', 'DOUBLE', 'DECIMAL') "
        "THEN JSON_EXTRACT(`u_account`.`extra`, %s) + 0e0 END) DESC, "
        "JSON_UNQUOTE(JSON_EXTRACT(`u_account`.`extra`, %s)) DESC"
    )
    assert params == ['$."n"'] * 3
    sql, _ = compiled(Account.objects.values("id").order_by("extra__n"), "sqlite")
    assert sql.endswith("""ORDER BY json_extract("u_account"."extra", ?) ASC""")


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"extra__n__gt": None}, "takes a number or a str, not None"),
        ({"extra__n__lt": True}, "takes a number or a str, not True"),
        ({"extra__n__contains": 5}, "'contains' on a JSON key takes a str"),
        ({"extra__n": {"a": 1}}, "compares with a str, number, bool or None, not dict"),
        ({"extra__n": [1]}, "not list"),
        ({"extra__n": float("nan")}, "not a JSON number"),
        ({"extra__n__in": "abc"}, "takes a list of JSON scalars"),
        ({"extra__n__range": (1, "b")}, "two numbers or two strings"),
        ({"extra__n__isnull": 1}, "isnull takes True or False"),
        ({"extra__n": F("age")}, "takes a plain value, not an expression"),
        ({"extra__has_key": 1}, "has_key takes a str key"),
        ({"extra__has_keys": "ab"}, "has_keys takes a list of str keys"),
        ({"extra__has_any_keys": []}, "non-empty list of str keys"),
        ({"extra__has_keys": ["a", 1]}, "non-empty list of str keys"),
        ({"email__has_key": "a"}, "'has_key' applies to JSON fields only"),
        ({"extra____x": 1}, "empty key in the JSON path 'extra____x'"),
        ({"extra__a__": 1}, "empty key in the JSON path 'extra__a__'"),
        ({"email__owner": "x"}, "unsupported lookup 'owner' on Account.email"),
    ],
)
def test_json_lookup_errors(filters: dict[str, Any], message: str) -> None:
    with pytest.raises(FieldError, match=message.replace("(", r"\(").replace(")", r"\)")):
        compiled(Account.objects.filter(**filters), "sqlite")


def test_lookup_names_end_a_path_other_names_are_keys() -> None:
    # "regex" is no lookup: a key; a key named like a lookup needs an explicit lookup
    _, params = where(Account.objects.filter(extra__n__regex="x"), "postgresql")
    assert params == ["n", "regex", '"x"']
    _, params = where(Account.objects.filter(extra__contains__exact="x"), "postgresql")
    assert params == ["contains", '"x"']


def test_json_nodes_in_the_builder() -> None:
    t = table("t")
    key = JsonKey(t.c.doc, ["a", 0])
    stmt = select(t.c.id).where(JsonCompare(key, "=", "x"), JsonHasKeys(JsonKey(t.c.doc), ["k"]))
    sql, params = Compiler(get_dialect("mysql")).compile(stmt)
    assert sql == (
        "SELECT `t`.`id` FROM `t` WHERE (JSON_TYPE((CASE WHEN JSON_TYPE(JSON_EXTRACT(`t`.`doc`, %s)) "
        "= 'ARRAY' THEN JSON_EXTRACT(`t`.`doc`, %s) END)) = 'STRING' AND JSON_UNQUOTE((CASE WHEN "
        "JSON_TYPE(JSON_EXTRACT(`t`.`doc`, %s)) = 'ARRAY' THEN JSON_EXTRACT(`t`.`doc`, %s) END)) = %s) "
        "AND (JSON_CONTAINS_PATH(`t`.`doc`, 'all', %s))"
    )
    assert params == ['$."a"', '$."a"[0]', '$."a"', '$."a"[0]', "x", '$."k"']
    sql, params = Compiler(get_dialect("postgresql")).compile(
        select(t.c.id).where(JsonTypeIs(key, "object"))
    )
    assert sql == (
        """SELECT "t"."id" FROM "t" WHERE jsonb_typeof((CASE WHEN jsonb_typeof("t"."doc" -> $1) """
        """= 'array' THEN "t"."doc" -> $1 -> 0 END)) = 'object'"""
    )
    assert params == ["a"]
    with pytest.raises(ValueError, match="non-negative"):
        JsonKey(t.c.doc, [-1])
    with pytest.raises(TypeError, match="str key or an int index"):
        JsonKey(t.c.doc, [True])
    with pytest.raises(ValueError, match="only be compared with '='"):
        JsonCompare(key, ">", True)
    with pytest.raises(ValueError, match="finite"):
        JsonCompare(key, "=", float("inf"))
    with pytest.raises(TypeError, match="not dict"):
        JsonCompare(key, "=", {})
    with pytest.raises(ValueError, match="unknown JSON type"):
        JsonTypeIs(key, "integer")
    with pytest.raises(TypeError):
        JsonHasKeys(key, "k")


# -- distinct(*fields) -------------------------------------------------------------------

ENTRY_COLS = (
    '"u_entry"."id", "u_entry"."account_id", "u_entry"."reviewer_id", '
    '"u_entry"."title", "u_entry"."views"'
)


def test_distinct_on_sql() -> None:
    sql, params = compiled(
        Entry.objects.order_by("account", "-id").distinct("account"), "postgresql"
    )
    assert sql == (
        f'SELECT DISTINCT ON ("u_entry"."account_id") {ENTRY_COLS} FROM "u_entry" '
        'ORDER BY "u_entry"."account_id" ASC, "u_entry"."id" DESC'
    )
    assert params == []
    sql, _ = compiled(
        Entry.objects.order_by("account__email").distinct("account__email"), "postgresql"
    )
    assert sql.startswith('SELECT DISTINCT ON ("account"."email") ')
    assert 'INNER JOIN "u_account" AS "account"' in sql
    # account, account_id and account__id are one column
    sql, _ = compiled(
        Entry.objects.order_by("account_id", "title").distinct("account__id"), "postgresql"
    )
    assert sql.startswith('SELECT DISTINCT ON ("u_entry"."account_id") ')
    sql, _ = compiled(Entry.objects.order_by().distinct("account", "views"), "postgresql")
    assert sql.startswith('SELECT DISTINCT ON ("u_entry"."account_id", "u_entry"."views") ')
    assert " ORDER BY " not in sql


def test_distinct_on_json_key_is_one_expression() -> None:
    qs = Account.objects.order_by("extra__team", "id").distinct("extra__team")
    sql, params = compiled(qs, "postgresql")
    assert sql.startswith('SELECT DISTINCT ON (("u_account"."extra" -> $1)) ')
    assert sql.endswith('ORDER BY ("u_account"."extra" -> $1) ASC, "u_account"."id" ASC')
    assert params == ["team"]


def test_distinct_on_ordering_rule() -> None:
    ok = [
        ("account", "views"),
        ("views", "account", "-id"),
        ("account",),
        ("-account", "views", "title"),
    ]
    for order in ok:
        compiled(Entry.objects.order_by(*order).distinct("account", "views"), "postgresql")
    with pytest.raises(FieldError) as err:
        compiled(Entry.objects.order_by("title", "account").distinct("account"), "postgresql")
    assert str(err.value) == (
        "distinct('account') needs the ordering to start with the same fields, "
        "e.g. order_by('account', ...); this query is ordered by ('title', 'account')"
    )
    with pytest.raises(FieldError, match="ordered by"):
        compiled(
            Entry.objects.order_by("account", "title", "views").distinct("account", "views"),
            "postgresql",
        )
    with pytest.raises(FieldError, match=r"ordered by \('-id'\) \(Meta\.ordering\)"):
        compiled(Account.objects.distinct("email"), "postgresql")
    with pytest.raises(FieldError, match="cannot resolve 'nope' into a field of Entry"):
        compiled(Entry.objects.order_by().distinct("nope"), "postgresql")
    with pytest.raises(FieldError, match="invalid distinct"):
        Entry.objects.distinct("account", 3)  # type: ignore[arg-type]


@pytest.mark.parametrize("dialect", ["sqlite", "mysql"])
def test_distinct_on_not_supported(dialect: str) -> None:
    with pytest.raises(NotSupportedError) as err:
        compiled(Entry.objects.order_by("account").distinct("account"), dialect)
    assert str(err.value) == (
        "distinct(*fields) (SELECT DISTINCT ON) is supported on PostgreSQL only, "
        f"not on {dialect}: use distinct() without field names"
    )
    sql, _ = compiled(Entry.objects.order_by("account").distinct(), dialect)
    assert sql.startswith("SELECT DISTINCT ")
    t = table("t")
    with pytest.raises(NotSupportedError, match="DISTINCT ON"):
        Compiler(get_dialect(dialect)).compile(select(t.c.a).distinct_on(t.c.a))


def test_distinct_fields_are_part_of_the_sql_cache_key() -> None:
    d = get_dialect("postgresql")
    keys = {
        qs._shape(d)[0]  # type: ignore[index]
        for qs in (
            Entry.objects.order_by("account"),
            Entry.objects.order_by("account").distinct(),
            Entry.objects.order_by("account").distinct("account"),
            Entry.objects.order_by("account").distinct("account", "views"),
        )
    }
    assert len(keys) == 4
