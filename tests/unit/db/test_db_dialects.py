"""Dialects: quoting, placeholders, types, adapters, LIKE escaping and DDL (no database)."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid

import pytest

from covet.db import NotSupportedError
from covet.db.dialects import (
    ColumnSpec,
    ForeignKeySpec,
    IndexSpec,
    MySQLDialect,
    PostgreSQLDialect,
    SQLiteDialect,
    constraint_name,
    get_dialect,
)

ALL = ["sqlite", "postgresql", "mysql"]


class Color(enum.Enum):
    RED = "red"


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("sqlite", SQLiteDialect),
        ("postgres", PostgreSQLDialect),
        ("postgresql", PostgreSQLDialect),
        ("mysql", MySQLDialect),
        ("mariadb", MySQLDialect),
    ],
)
def test_get_dialect_aliases(name: str, cls: type) -> None:
    assert type(get_dialect(name)) is cls


def test_get_dialect_unknown() -> None:
    with pytest.raises(ValueError, match="unknown SQL dialect 'oracle'"):
        get_dialect("oracle")


def test_mariadb_alias_sets_flag() -> None:
    d = get_dialect("mariadb")
    assert isinstance(d, MySQLDialect) and d.is_mariadb


@pytest.mark.parametrize(
    ("name", "expected"),
    [("sqlite", ["?", "?"]), ("postgresql", ["$1", "$2"]), ("mysql", ["%s", "%s"])],
)
def test_placeholders(name: str, expected: list[str]) -> None:
    d = get_dialect(name)
    assert [d.placeholder(1), d.placeholder(2)] == expected
    assert d.param(2) == expected[1]


def test_quote_doubles_embedded_quotes() -> None:
    assert get_dialect("postgresql").quote('we"ird') == '"we""ird"'
    assert get_dialect("mysql").quote("we`ird") == "`we``ird`"
    assert get_dialect("sqlite").quote_dotted("t.c") == '"t"."c"'
    assert get_dialect("mysql").quote_dotted("t.c") == "`t`.`c`"


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("bad", ["", "a\x00b"])
def test_quote_rejects_empty_and_nul(name: str, bad: str) -> None:
    with pytest.raises(ValueError):
        get_dialect(name).quote(bad)


def test_quote_rejects_non_str_and_too_long() -> None:
    with pytest.raises(TypeError):
        get_dialect("sqlite").quote(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="longer than 63"):
        get_dialect("postgresql").quote("x" * 64)


@pytest.mark.parametrize("name", ALL)
def test_escape_like(name: str) -> None:
    assert get_dialect(name).escape_like("50%_off\\") == "50\\%\\_off\\\\"


def test_like_spellings() -> None:
    assert get_dialect("sqlite").like('"n"', "?") == "\"n\" LIKE ? ESCAPE '\\'"
    assert get_dialect("postgresql").case_insensitive_like('"n"', "$1") == '"n" ILIKE $1'
    assert get_dialect("mysql").like("`n`", "%s") == "`n` LIKE BINARY %s"
    assert get_dialect("mysql").case_insensitive_like("`n`", "%s") == "LOWER(`n`) LIKE LOWER(%s)"
    assert get_dialect("postgresql").regexp("c", "$1", case_insensitive=True) == "c ~* $1"
    mariadb = get_dialect("mariadb")
    assert mariadb.regexp("c", "%s") == "c REGEXP CONCAT('(?-i)', %s)"


def test_feature_flags() -> None:
    pg, my, lite = get_dialect("postgresql"), get_dialect("mysql"), get_dialect("sqlite")
    assert pg.supports_returning and pg.supports_ilike and pg.supports_distinct_on
    assert not my.supports_returning and not my.supports_transactional_ddl
    assert my.upsert_style == "on_duplicate_key" and pg.upsert_style == "on_conflict"
    assert not lite.supports_for_update and lite.supports_transactional_ddl
    assert my.percent == "%%" and pg.percent == "%"
    my.configure((10, 11, 2), is_mariadb=True)
    assert my.supports_returning and my.is_mariadb
    my.configure((8, 0, 36), is_mariadb=False)
    assert not my.supports_returning
    pg.configure((14, 2))
    assert not pg.supports_nulls_distinct
    lite.configure((3, 31, 0))
    assert not lite.supports_returning and lite.max_params == 999


@pytest.mark.parametrize(
    ("name", "kind", "kwargs", "expected"),
    [
        ("sqlite", "int", {"auto_increment": True}, "INTEGER"),
        ("sqlite", "decimal", {"max_digits": 10, "decimal_places": 2}, "TEXT"),
        ("sqlite", "uuid", {}, "CHAR(36)"),
        ("postgresql", "int", {"auto_increment": True, "big": True}, "BIGSERIAL"),
        ("postgresql", "datetime", {}, "TIMESTAMP WITH TIME ZONE"),
        ("postgresql", "json", {}, "JSONB"),
        ("postgresql", "decimal", {"max_digits": 10, "decimal_places": 2}, "NUMERIC(10, 2)"),
        ("mysql", "str", {"max_length": 20}, "VARCHAR(20)"),
        ("mysql", "enum", {"max_length": 8}, "VARCHAR(8)"),
        ("mysql", "bool", {}, "BOOL"),
        ("mysql", "datetime", {}, "DATETIME(6)"),
        ("mysql", "bigint", {"auto_increment": True}, "BIGINT AUTO_INCREMENT"),
    ],
)
def test_column_types(name: str, kind: str, kwargs: dict[str, object], expected: str) -> None:
    assert get_dialect(name).column_type(kind, **kwargs) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ALL)
def test_column_type_rejects_bad_input(name: str) -> None:
    d = get_dialect(name)
    with pytest.raises(ValueError, match="unknown column kind"):
        d.column_type("money")
    with pytest.raises(ValueError, match="max_length"):
        d.column_type("str", max_length=0)
    with pytest.raises(ValueError, match="precision"):
        d.column_type("decimal", max_digits=2, decimal_places=5)


VALUES = {
    "int": 7,
    "bigint": 2**40,
    "smallint": 3,
    "str": "héllo",
    "text": "x" * 10,
    "bool": True,
    "float": 1.5,
    "decimal": decimal.Decimal("12345.678901"),
    "datetime": dt.datetime(2024, 2, 29, 12, 30, 1, 123456, tzinfo=dt.timezone.utc),
    "date": dt.date(2024, 2, 29),
    "time": dt.time(23, 59, 58, 999),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "bytes": b"\x00\xff",
    "json": {"a": [1, 2, None], "b": "ü"},
}


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("kind", sorted(VALUES))
def test_adapters_round_trip_offline(name: str, kind: str) -> None:
    d = get_dialect(name)
    value = VALUES[kind]
    assert d.from_db(d.to_db(value, kind), kind) == value
    assert d.to_db(None, kind) is None and d.from_db(None, kind) is None


def test_sqlite_storage_forms() -> None:
    d = get_dialect("sqlite")
    aware = dt.datetime(2024, 1, 1, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert d.to_db(aware, "datetime") == "2024-01-01 12:00:00.000000"
    assert d.to_db(True, "bool") == 1
    assert d.to_db(decimal.Decimal("0.10"), "decimal") == "0.10"
    assert d.to_db(Color.RED, "enum") == "red"
    assert d.from_db("2024-01-01 12:00:00", "datetime").tzinfo is dt.timezone.utc
    with pytest.raises(ValueError, match="non-finite"):
        d.to_db(decimal.Decimal("NaN"), "decimal")


def test_mysql_storage_forms() -> None:
    d = get_dialect("mysql")
    aware = dt.datetime(2024, 1, 1, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert d.to_db(aware, "datetime") == dt.datetime(2024, 1, 1, 12, 0)
    assert d.from_db(dt.timedelta(hours=25, seconds=1), "time") == dt.time(1, 0, 1)
    assert d.to_db(VALUES["uuid"], "uuid") == "12345678-1234-5678-1234-567812345678"


def test_naive_datetimes_are_taken_as_utc() -> None:
    naive = dt.datetime(2024, 5, 1, 8, 0)
    for name in ALL:
        d = get_dialect(name)
        back = d.from_db(d.to_db(naive, "datetime"), "datetime")
        assert back == naive.replace(tzinfo=dt.timezone.utc)


def test_converters_are_none_when_values_pass_through() -> None:
    pg = get_dialect("postgresql")
    assert pg.to_db_converter("int") is None
    assert pg.from_db_converter("str") is None
    with pytest.raises(ValueError):
        pg.to_db_converter("nope")


@pytest.mark.parametrize(
    ("name", "value", "kind", "expected"),
    [
        ("postgresql", "it's", "str", "'it''s'"),
        ("postgresql", "a\\b", "str", "E'a\\\\b'"),
        ("mysql", "a\\b'c", "str", "'a\\\\b''c'"),
        ("sqlite", True, "bool", "1"),
        ("postgresql", True, "bool", "TRUE"),
        ("sqlite", None, "int", "NULL"),
        ("sqlite", 3, "int", "3"),
        ("sqlite", b"\x01", "bytes", "X'01'"),
        ("postgresql", {"a": 1}, "json", "'{\"a\":1}'"),
    ],
)
def test_literals(name: str, value: object, kind: str, expected: str) -> None:
    assert get_dialect(name).literal(value, kind) == expected


def test_literal_rejects_nul() -> None:
    with pytest.raises(ValueError, match="NUL"):
        get_dialect("sqlite").literal("a\x00", "str")


def _columns() -> list[ColumnSpec]:
    return [
        ColumnSpec("id", "int", primary_key=True, auto_increment=True, nullable=False),
        ColumnSpec("email", "str", max_length=100, unique=True, nullable=False),
        ColumnSpec("owner_id", "int", references=ForeignKeySpec("users", on_delete="cascade")),
        ColumnSpec("active", "bool", nullable=False, default=True),
    ]


def test_create_table_sqlite() -> None:
    stmts = get_dialect("sqlite").create_table_sql(
        "posts", _columns(), indexes=[IndexSpec("posts", ("owner_id", "active"))]
    )
    assert stmts == [
        'CREATE TABLE "posts" (\n'
        '    "id" INTEGER PRIMARY KEY AUTOINCREMENT,\n'
        '    "email" VARCHAR(100) NOT NULL,\n'
        '    "owner_id" INTEGER,\n'
        '    "active" BOOLEAN NOT NULL DEFAULT 1,\n'
        '    CONSTRAINT "posts_owner_id_fk" FOREIGN KEY ("owner_id") REFERENCES "users" ("id") ON DELETE CASCADE\n'
        ")",
        'CREATE UNIQUE INDEX "posts_email_uniq" ON "posts" ("email")',
        'CREATE INDEX "posts_owner_id_active_idx" ON "posts" ("owner_id", "active")',
    ]


def test_create_table_postgresql_and_mysql() -> None:
    pg = get_dialect("postgresql").create_table_sql(
        "posts", _columns(), unique_together=[("email", "owner_id")]
    )
    assert '"id" SERIAL NOT NULL PRIMARY KEY' in pg[0]
    assert 'CONSTRAINT "posts_email_uniq" UNIQUE ("email")' in pg[0]
    assert 'CONSTRAINT "posts_email_owner_id_uniq" UNIQUE ("email", "owner_id")' in pg[0]
    my = get_dialect("mysql").create_table_sql("posts", _columns(), if_not_exists=True)
    assert my[0].startswith("CREATE TABLE IF NOT EXISTS `posts`")
    assert "`id` INT AUTO_INCREMENT NOT NULL PRIMARY KEY" in my[0]
    assert my[0].endswith("ENGINE=InnoDB DEFAULT CHARSET=utf8mb4")


def test_composite_primary_key() -> None:
    cols = [ColumnSpec("a", "int", primary_key=True), ColumnSpec("b", "int", primary_key=True)]
    sql = get_dialect("postgresql").create_table_sql("t", cols)[0]
    assert 'PRIMARY KEY ("a", "b")' in sql
    assert '"a" INTEGER,' in sql


def test_alter_column_postgresql() -> None:
    old = ColumnSpec("n", "int", nullable=True)
    new = ColumnSpec("n", "bigint", nullable=False, default=0, unique=True)
    assert get_dialect("postgresql").alter_column_sql("t", old, new) == [
        'ALTER TABLE "t" ALTER COLUMN "n" TYPE BIGINT',
        'ALTER TABLE "t" ALTER COLUMN "n" SET DEFAULT 0',
        'ALTER TABLE "t" ALTER COLUMN "n" SET NOT NULL',
        'ALTER TABLE "t" ADD CONSTRAINT "t_n_uniq" UNIQUE ("n")',
    ]


def test_alter_column_mysql() -> None:
    old = ColumnSpec("n", "str", max_length=10, unique=True)
    new = ColumnSpec("n", "str", max_length=20, nullable=False)
    assert get_dialect("mysql").alter_column_sql("t", old, new) == [
        "ALTER TABLE `t` DROP INDEX `t_n_uniq`",
        "ALTER TABLE `t` MODIFY COLUMN `n` VARCHAR(20) NOT NULL",
    ]


def test_alter_column_sqlite_rebuilds() -> None:
    d = get_dialect("sqlite")
    old = ColumnSpec("n", "int")
    new = ColumnSpec("m", "bigint", nullable=False, default=0)
    cols = [ColumnSpec("id", "int", primary_key=True, auto_increment=True), new]
    stmts = d.alter_column_sql("t", old, new, table_columns=cols, indexes=[IndexSpec("t", ("m",))])
    assert stmts[0].startswith('CREATE TABLE "__covet_new_t"')
    assert stmts[1] == 'INSERT INTO "__covet_new_t" ("id", "m") SELECT "id", "n" FROM "t"'
    assert stmts[2:] == [
        'DROP TABLE "t"',
        'ALTER TABLE "__covet_new_t" RENAME TO "t"',
        'CREATE INDEX "t_m_idx" ON "t" ("m")',
    ]
    with pytest.raises(NotSupportedError, match="table_columns"):
        d.alter_column_sql("t", old, new)


def test_add_and_drop_column() -> None:
    fk = ColumnSpec("user_id", "int", references=ForeignKeySpec("users", on_delete="set_null"))
    assert get_dialect("sqlite").add_column_sql("t", fk) == [
        'ALTER TABLE "t" ADD COLUMN "user_id" INTEGER REFERENCES "users" ("id") ON DELETE SET NULL'
    ]
    assert get_dialect("postgresql").add_column_sql("t", fk)[1] == (
        'ALTER TABLE "t" ADD CONSTRAINT "t_user_id_fk" FOREIGN KEY ("user_id") '
        'REFERENCES "users" ("id") ON DELETE SET NULL'
    )
    assert get_dialect("mysql").drop_column_sql("t", fk) == [
        "ALTER TABLE `t` DROP FOREIGN KEY `t_user_id_fk`",
        "ALTER TABLE `t` DROP COLUMN `user_id`",
    ]
    with pytest.raises(NotSupportedError):
        get_dialect("sqlite").drop_column_sql("t", fk)
    with pytest.raises(NotSupportedError):
        get_dialect("postgresql").add_column_sql("t", ColumnSpec("id", "int", primary_key=True))


def test_index_rename_and_drop_sql() -> None:
    idx = IndexSpec("t", ("a",))
    assert get_dialect("mysql").drop_index_sql(idx) == ["DROP INDEX `t_a_idx` ON `t`"]
    assert get_dialect("postgresql").drop_index_sql(idx) == ['DROP INDEX "t_a_idx"']
    assert get_dialect("sqlite").rename_table_sql("a", "b") == ['ALTER TABLE "a" RENAME TO "b"']
    assert get_dialect("mysql").rename_column_sql("t", "a", "b") == [
        "ALTER TABLE `t` RENAME COLUMN `a` TO `b`"
    ]
    assert get_dialect("postgresql").drop_table_sql("t", if_exists=True, cascade=True) == [
        'DROP TABLE IF EXISTS "t" CASCADE'
    ]


def test_schema_specs_validate() -> None:
    with pytest.raises(ValueError, match="on_delete"):
        ForeignKeySpec("users", on_delete="explode")
    with pytest.raises(ValueError, match="unknown column kind"):
        ColumnSpec("x", "money")
    with pytest.raises(ValueError, match="auto_increment"):
        ColumnSpec("x", "str", auto_increment=True)
    with pytest.raises(ValueError, match="at least one column"):
        IndexSpec("t", ())
    with pytest.raises(NotSupportedError, match="SET DEFAULT"):
        get_dialect("mysql").foreign_key_clause(
            "t", "c", ForeignKeySpec("u", on_delete="set_default")
        )


def test_constraint_names_fit_identifier_limits() -> None:
    name = constraint_name("a" * 50, ("b" * 30, "c" * 30), "uniq")
    assert len(name) <= 60 and name.endswith("_uniq")
    assert name == constraint_name("a" * 50, ("b" * 30, "c" * 30), "uniq")


def test_transaction_sql() -> None:
    assert get_dialect("postgresql").begin_sql("serializable") == [
        "BEGIN ISOLATION LEVEL SERIALIZABLE"
    ]
    assert get_dialect("mysql").begin_sql("read_committed") == [
        "SET TRANSACTION ISOLATION LEVEL READ COMMITTED",
        "START TRANSACTION",
    ]
    assert get_dialect("sqlite").begin_sql() == ["BEGIN IMMEDIATE"]
    assert get_dialect("sqlite").savepoint_sql("sp") == 'SAVEPOINT "sp"'
    with pytest.raises(ValueError, match="isolation"):
        get_dialect("postgresql").begin_sql("chaos")
    with pytest.raises(NotSupportedError):
        get_dialect("mysql").returning_clause(["id"])


def test_postgresql_casts_only_across_type_families() -> None:
    pg = get_dialect("postgresql")
    stmts = pg.alter_column_sql("t", ColumnSpec("n", "str", max_length=5), ColumnSpec("n", "int"))
    assert stmts == ['ALTER TABLE "t" ALTER COLUMN "n" TYPE INTEGER USING "n"::INTEGER']
