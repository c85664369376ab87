"""SQLite (stdlib ``sqlite3``).

Storage choices: booleans as 0/1, UUIDs as CHAR(36) text, decimals as TEXT (exact, but
ordered as text), datetimes as ISO-8601 text in UTC with a fixed width
(``YYYY-MM-DD HH:MM:SS.ffffff``, so text order is time order), dates and times as ISO
text, JSON as text. Connections run ``PRAGMA case_sensitive_like = ON`` so ``LIKE`` is
case-sensitive as on the other backends, and register a Python ``REGEXP`` function.

SQLite can alter little in place: ``alter_column_sql`` and some ``drop_column_sql`` calls
rebuild the table (create ``__covet_new_<t>``, copy rows, drop the old table, rename,
recreate indexes). Run a rebuild with ``PRAGMA foreign_keys = OFF`` (set outside the
transaction; the migration executor does this) or dropping the old table would fire
``ON DELETE`` actions of tables that reference it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import sqlite3
from collections.abc import Sequence
from typing import Any, ClassVar

from covet.db.dialects.adapters import (
    bool_to_int,
    json_dumps,
    to_bool,
    uuid_to_str,
)
from covet.db.dialects.base import Dialect
from covet.db.dialects.schema import ON_DELETE_ACTIONS, ColumnSpec, ForeignKeySpec, IndexSpec
from covet.db.exceptions import NotSupportedError

__all__ = ("SQLiteDialect",)

_UTC = dt.timezone.utc


def _datetime_to_text(value: Any) -> str:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        if isinstance(value, dt.date):
            value = dt.datetime(value.year, value.month, value.day)
        else:
            raise TypeError(f"expected a datetime, not {type(value).__name__}")
    if value.tzinfo is not None:
        value = value.astimezone(_UTC).replace(tzinfo=None)
    return value.isoformat(sep=" ", timespec="microseconds")


def _text_to_datetime(value: Any) -> dt.datetime:
    parsed = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=_UTC)
    return parsed.astimezone(_UTC)


def _date_to_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        value = value.date()
    return (
        value.isoformat()
        if isinstance(value, dt.date)
        else dt.date.fromisoformat(str(value)).isoformat()
    )


def _text_to_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _time_to_text(value: Any) -> str:
    if not isinstance(value, dt.time):
        value = dt.time.fromisoformat(str(value))
    return value.isoformat(timespec="microseconds")


def _text_to_time(value: Any) -> dt.time:
    return value if isinstance(value, dt.time) else dt.time.fromisoformat(str(value))


def _decimal_to_text(value: Any) -> str:
    if isinstance(value, float):
        value = decimal.Decimal(repr(value))
    elif not isinstance(value, decimal.Decimal):
        value = decimal.Decimal(str(value))
    if not value.is_finite():
        raise ValueError(f"cannot store non-finite decimal {value}")
    return str(value)


def _text_to_decimal(value: Any) -> decimal.Decimal:
    if isinstance(value, decimal.Decimal):
        return value
    if isinstance(value, float):
        return decimal.Decimal(repr(value))
    return decimal.Decimal(str(value))


class SQLiteDialect(Dialect):
    """SQLite 3.35+ (RETURNING needs it; older versions fall back to ``lastrowid``)."""

    name = "sqlite"
    quote_char = '"'
    supports_for_update = False
    supports_skip_locked = False
    supports_ilike = False
    supports_distinct_on = False
    supports_nulls_distinct = False
    supports_alter_column = False
    unique_as_index = True
    upsert_style = "on_conflict"
    max_identifier_length = 1024
    like_escape_clause = " ESCAPE '\\'"
    random_function = "RANDOM()"

    _types: ClassVar[dict[str, str]] = {
        "int": "INTEGER",
        "bigint": "BIGINT",
        "smallint": "SMALLINT",
        "text": "TEXT",
        "bool": "BOOLEAN",
        "float": "REAL",
        "datetime": "DATETIME",
        "date": "DATE",
        "time": "TIME",
        "uuid": "CHAR(36)",
        "bytes": "BLOB",
        "json": "TEXT",
    }
    _auto_types: ClassVar[dict[str, str]] = {
        "int": "INTEGER",
        "bigint": "INTEGER",
        "smallint": "INTEGER",
    }

    def __init__(self) -> None:
        super().__init__()
        self.configure(tuple(int(p) for p in sqlite3.sqlite_version.split(".")))

    def configure(self, server_version: tuple[int, ...], **info: Any) -> None:
        super().configure(server_version, **info)
        self.supports_returning = server_version >= (3, 35)
        self.supports_drop_column = server_version >= (3, 35)
        self.supports_json_ops = server_version >= (3, 38)  # the -> and ->> operators
        self.max_params = 32766 if server_version >= (3, 32) else 999

    def _decimal_type(self, digits: int, places: int) -> str:
        return "TEXT"

    def _build_converters(self) -> None:
        super()._build_converters()
        self._to_db.update(
            {
                "bool": bool_to_int,
                "uuid": uuid_to_str,
                "json": json_dumps,
                "decimal": _decimal_to_text,
                "datetime": _datetime_to_text,
                "date": _date_to_text,
                "time": _time_to_text,
            }
        )
        self._from_db.update(
            {
                "bool": to_bool,
                "decimal": _text_to_decimal,
                "datetime": _text_to_datetime,
                "date": _text_to_date,
                "time": _text_to_time,
            }
        )

    def _bool_literal(self, value: bool) -> str:
        return "1" if value else "0"

    def _primary_key_suffix(self, column: ColumnSpec) -> str:
        return "PRIMARY KEY AUTOINCREMENT" if column.auto_increment else "NOT NULL PRIMARY KEY"

    def regexp(self, column_sql: str, placeholder: str, *, case_insensitive: bool = False) -> str:
        if case_insensitive:
            return f"{column_sql} REGEXP ('(?i)' || {placeholder})"
        return f"{column_sql} REGEXP {placeholder}"

    def begin_sql(self, isolation: str | None = None) -> list[str]:
        # SQLite transactions are serializable; IMMEDIATE takes the write lock up front
        # so two writers wait on busy_timeout instead of failing at their first write.
        if isolation is not None:
            self.isolation_level(isolation)  # validate
        return ["BEGIN IMMEDIATE"]

    # -- DDL ------------------------------------------------------------------------

    def add_column_sql(self, table: str, column: ColumnSpec) -> list[str]:
        if column.primary_key:
            raise NotSupportedError(
                "adding a primary key column to an existing table is not supported"
            )
        definition = self.column_definition(column)
        if column.references is not None:
            ref = column.references
            definition += (
                f" REFERENCES {self.quote(ref.table)} ({self.quote(ref.column)})"
                f" ON DELETE {ON_DELETE_ACTIONS[ref.on_delete]}"
            )
        stmts = [f"ALTER TABLE {self.quote(table)} ADD COLUMN {definition}"]
        if column.unique:
            stmts.extend(self.add_unique_sql(table, (column.name,)))
        return stmts

    def drop_column_sql(
        self,
        table: str,
        column: ColumnSpec | str,
        *,
        table_columns: Sequence[ColumnSpec] | None = None,
        indexes: Sequence[IndexSpec] = (),
        unique_together: Sequence[Sequence[str]] = (),
    ) -> list[str]:
        name = column if isinstance(column, str) else column.name
        needs_rebuild = not self.supports_drop_column or (
            isinstance(column, ColumnSpec) and (column.primary_key or column.references is not None)
        )
        if not needs_rebuild:
            stmts: list[str] = []
            if isinstance(column, ColumnSpec) and column.unique and not column.primary_key:
                stmts.extend(self.drop_unique_sql(table, (name,)))
            stmts.append(f"ALTER TABLE {self.quote(table)} DROP COLUMN {self.quote(name)}")
            return stmts
        if table_columns is None:
            raise NotSupportedError(
                f"dropping column {name!r} on SQLite rebuilds the table: pass table_columns"
            )
        kept = [c for c in table_columns if c.name != name]
        return self.rebuild_table_sql(
            table,
            kept,
            {c.name: c.name for c in kept},
            indexes=[i for i in indexes if name not in i.columns],
            unique_together=[g for g in unique_together if name not in g],
        )

    def drop_foreign_key_sql(self, table: str, column: str) -> list[str]:
        raise NotSupportedError("SQLite cannot drop a foreign key in place: rebuild the table")

    def add_foreign_key_sql(self, table: str, column: str, ref: ForeignKeySpec) -> list[str]:
        raise NotSupportedError("SQLite cannot add a foreign key in place: rebuild the table")

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
        if table_columns is None:
            raise NotSupportedError(
                "altering a column on SQLite rebuilds the table: pass table_columns"
            )
        if not any(c.name == new.name for c in table_columns):
            raise ValueError(f"table_columns must include the altered column {new.name!r}")
        mapping = {c.name: c.name for c in table_columns}
        mapping[new.name] = old.name
        return self.rebuild_table_sql(
            table, table_columns, mapping, indexes=indexes, unique_together=unique_together
        )

    def rebuild_table_sql(
        self,
        table: str,
        columns: Sequence[ColumnSpec],
        column_map: dict[str, str],
        *,
        indexes: Sequence[IndexSpec] = (),
        unique_together: Sequence[Sequence[str]] = (),
    ) -> list[str]:
        """Rebuild ``table`` with ``columns``, copying ``new name -> old name`` per ``column_map``.

        Must run with ``PRAGMA foreign_keys = OFF`` (see the module docstring).
        """
        tmp = "__covet_new_" + table
        create = self.create_table_sql(
            table, columns, unique_together=unique_together, indexes=indexes, physical_name=tmp
        )
        new_cols = [c.name for c in columns if c.name in column_map]
        copy = (
            f"INSERT INTO {self.quote(tmp)} ({', '.join(self.quote(c) for c in new_cols)}) "
            f"SELECT {', '.join(self.quote(column_map[c]) for c in new_cols)} FROM {self.quote(table)}"
        )
        return [
            create[0],
            copy,
            f"DROP TABLE {self.quote(table)}",
            f"ALTER TABLE {self.quote(tmp)} RENAME TO {self.quote(table)}",
            *create[1:],
        ]
