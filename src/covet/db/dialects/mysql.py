"""MySQL and MariaDB (asyncmy, or aiomysql).

Storage choices: booleans as BOOL (TINYINT(1), 0/1), UUIDs as CHAR(36), datetimes as
DATETIME(6) holding UTC (aware values are converted; values come back aware, in UTC),
TIME(6) (the driver's ``timedelta`` is turned back into ``time``), JSON as text in a
JSON column. The ``format`` paramstyle means a literal ``%`` in SQL text that has
parameters is written ``%%`` (``dialect.percent``).

DDL is not transactional: every ``CREATE``/``ALTER``/``DROP`` commits implicitly, so a
failed migration can leave its earlier statements applied. A column's type cannot
change while a foreign key uses it (errors 1832/1833/3780): migrations drop those
foreign keys around the change (``alter_type_drops_foreign_keys``), and a foreign key
needs both columns of the same type (``foreign_key_types_match``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, ClassVar

from covet.db.dialects.adapters import (
    bool_to_int,
    json_dumps,
    to_bool,
    to_utc_aware,
    to_utc_naive,
    uuid_to_str,
)
from covet.db.dialects.base import Dialect
from covet.db.dialects.schema import ColumnSpec, ForeignKeySpec, IndexSpec, constraint_name
from covet.db.exceptions import NotSupportedError

__all__ = ("MySQLDialect",)


def _datetime_to_db(value: Any) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        if isinstance(value, dt.date):
            return dt.datetime(value.year, value.month, value.day)
        return to_utc_naive(dt.datetime.fromisoformat(str(value)))
    return to_utc_naive(value)


def _datetime_from_db(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return to_utc_aware(value)
    return to_utc_aware(dt.datetime.fromisoformat(str(value)))


def _time_from_db(value: Any) -> dt.time:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, dt.timedelta):
        micro = int(value.total_seconds() * 1_000_000) % (24 * 3600 * 1_000_000)
        seconds, us = divmod(micro, 1_000_000)
        return dt.time(seconds // 3600, (seconds // 60) % 60, seconds % 60, us)
    return dt.time.fromisoformat(str(value))


class MySQLDialect(Dialect):
    """MySQL 8 and MariaDB 10.5+; ``is_mariadb`` is set after connecting."""

    name = "mysql"
    quote_char = "`"
    param_style = "format"
    percent = "%%"
    supports_returning = False
    supports_ilike = False
    supports_transactional_ddl = False
    supports_distinct_on = False
    supports_nulls_distinct = False
    alter_type_drops_foreign_keys = True
    upsert_style = "on_duplicate_key"
    max_params = 65535
    max_identifier_length = 64
    random_function = "RAND()"
    table_suffix = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"

    _types: ClassVar[dict[str, str]] = {
        "int": "INT",
        "bigint": "BIGINT",
        "smallint": "SMALLINT",
        "text": "LONGTEXT",
        "bool": "BOOL",
        "float": "DOUBLE",
        "datetime": "DATETIME(6)",
        "date": "DATE",
        "time": "TIME(6)",
        "uuid": "CHAR(36)",
        "bytes": "LONGBLOB",
        "json": "JSON",
    }
    _auto_types: ClassVar[dict[str, str]] = {
        "int": "INT AUTO_INCREMENT",
        "bigint": "BIGINT AUTO_INCREMENT",
        "smallint": "SMALLINT AUTO_INCREMENT",
    }

    def __init__(self) -> None:
        super().__init__()
        self.is_mariadb = False

    def configure(self, server_version: tuple[int, ...], **info: Any) -> None:
        super().configure(server_version, **info)
        self.is_mariadb = bool(info.get("is_mariadb", self.is_mariadb))
        if self.is_mariadb:
            self.supports_returning = server_version >= (10, 5)
            self.supports_skip_locked = server_version >= (10, 6)
        else:
            self.supports_returning = False
            self.supports_skip_locked = server_version >= (8,)

    def placeholder(self, index: int) -> str:
        return "%s"

    def like(self, column_sql: str, placeholder: str) -> str:
        return f"{column_sql} LIKE BINARY {placeholder}"

    def regexp(self, column_sql: str, placeholder: str, *, case_insensitive: bool = False) -> str:
        if self.is_mariadb:
            flag = "(?i)" if case_insensitive else "(?-i)"
            return f"{column_sql} REGEXP CONCAT('{flag}', {placeholder})"
        return f"REGEXP_LIKE({column_sql}, {placeholder}, '{'i' if case_insensitive else 'c'}')"

    def advisory_lock_sql(self, key: int) -> tuple[str, str] | None:
        name = f"covet_lock_{int(key)}"
        return f"SELECT GET_LOCK('{name}', 600)", f"SELECT RELEASE_LOCK('{name}')"

    def begin_sql(self, isolation: str | None = None) -> list[str]:
        if isolation is None:
            return ["START TRANSACTION"]
        return [
            f"SET TRANSACTION ISOLATION LEVEL {self.isolation_level(isolation)}",
            "START TRANSACTION",
        ]

    def _decimal_type(self, digits: int, places: int) -> str:
        if digits > 65:
            raise ValueError(f"MySQL DECIMAL allows at most 65 digits, not {digits}")
        return f"DECIMAL({digits}, {places})"

    def _build_converters(self) -> None:
        super()._build_converters()
        self._to_db.update(
            {
                "bool": bool_to_int,
                "uuid": uuid_to_str,
                "json": json_dumps,
                "datetime": _datetime_to_db,
            }
        )
        self._from_db.update(
            {"bool": to_bool, "datetime": _datetime_from_db, "time": _time_from_db}
        )

    def _string_literal(self, value: str) -> str:
        if "\x00" in value:
            raise ValueError("a default must not contain NUL")
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"

    def _check_fk_action(self, ref: ForeignKeySpec) -> None:
        if ref.on_delete == "set_default" or ref.on_update == "set_default":
            raise NotSupportedError("InnoDB does not support ON DELETE/UPDATE SET DEFAULT")

    # -- DDL ------------------------------------------------------------------------

    def foreign_key_types_match(self, column: ColumnSpec, target: ColumnSpec) -> bool:
        """InnoDB wants the same integer width and decimal precision; VARCHAR lengths may differ."""
        return self._key_type(column) == self._key_type(target)

    def _key_type(self, spec: ColumnSpec) -> str:
        if spec.kind in ("str", "enum"):
            return "VARCHAR"
        return self.column_type(
            spec.kind,
            max_digits=spec.max_digits,
            decimal_places=spec.decimal_places,
            big=spec.big,
        )

    def create_index_sql(self, index: IndexSpec, *, if_not_exists: bool = False) -> list[str]:
        head = "CREATE UNIQUE INDEX " if index.unique else "CREATE INDEX "
        if if_not_exists and self.is_mariadb:
            head += "IF NOT EXISTS "
        cols = ", ".join(self.quote(c) for c in index.columns)
        return [f"{head}{self.quote(index.name)} ON {self.quote(index.table)} ({cols})"]

    def drop_index_sql(self, index: IndexSpec) -> list[str]:
        return [f"DROP INDEX {self.quote(index.name)} ON {self.quote(index.table)}"]

    def drop_unique_sql(self, table: str, columns: Sequence[str]) -> list[str]:
        name = constraint_name(table, tuple(columns), "uniq")
        return [f"ALTER TABLE {self.quote(table)} DROP INDEX {self.quote(name)}"]

    def drop_foreign_key_sql(self, table: str, column: str) -> list[str]:
        return [
            f"ALTER TABLE {self.quote(table)} DROP FOREIGN KEY "
            + self.quote(self.foreign_key_name(table, column))
        ]

    def alter_column_sql(
        self,
        table: str,
        old: ColumnSpec,
        new: ColumnSpec,
        *,
        table_columns: Sequence[ColumnSpec] | None = None,
        indexes: Sequence[IndexSpec] = (),
        unique_together: Sequence[Sequence[str]] = (),
    ) -> list[str]:
        t = self.quote(table)
        stmts: list[str] = []
        if old.references is not None and old.references != new.references:
            stmts.extend(self.drop_foreign_key_sql(table, old.name))
        if old.unique and not new.unique:
            stmts.extend(self.drop_unique_sql(table, (old.name,)))
        definition = self.column_definition(new, inline_pk=False)
        if new.primary_key and "NOT NULL" not in definition:
            definition += " NOT NULL"
        if old.name != new.name:
            stmts.append(f"ALTER TABLE {t} CHANGE COLUMN {self.quote(old.name)} {definition}")
        else:
            stmts.append(f"ALTER TABLE {t} MODIFY COLUMN {definition}")
        if new.unique and not old.unique:
            stmts.extend(self.add_unique_sql(table, (new.name,)))
        if new.references is not None and old.references != new.references:
            stmts.extend(self.add_foreign_key_sql(table, new.name, new.references))
        return stmts
