"""PostgreSQL (asyncpg).

Native types throughout: BOOLEAN, UUID, NUMERIC, TIMESTAMP WITH TIME ZONE (datetimes
come back aware, in UTC; naive ones are taken as UTC), BYTEA and JSONB (sent as JSON
text, decoded on the way back).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from covet.db.dialects.adapters import to_decimal, uuid_from
from covet.db.dialects.base import Dialect
from covet.db.dialects.schema import ColumnSpec, IndexSpec

__all__ = ("PostgreSQLDialect",)


_FAMILIES = {
    "str": "text",
    "text": "text",
    "enum": "text",
    "int": "int",
    "bigint": "int",
    "smallint": "int",
}


def _family(kind: str) -> str:
    return _FAMILIES.get(kind, kind)


class PostgreSQLDialect(Dialect):
    """PostgreSQL 12+."""

    name = "postgresql"
    quote_char = '"'
    param_style = "numeric"
    supports_ilike = True
    supports_distinct_on = True
    supports_nulls_distinct = True
    upsert_style = "on_conflict"
    max_params = 32767
    max_identifier_length = 63

    _types: ClassVar[dict[str, str]] = {
        "int": "INTEGER",
        "bigint": "BIGINT",
        "smallint": "SMALLINT",
        "text": "TEXT",
        "bool": "BOOLEAN",
        "float": "DOUBLE PRECISION",
        "datetime": "TIMESTAMP WITH TIME ZONE",
        "date": "DATE",
        "time": "TIME",
        "uuid": "UUID",
        "bytes": "BYTEA",
        "json": "JSONB",
    }
    _auto_types: ClassVar[dict[str, str]] = {
        "int": "SERIAL",
        "bigint": "BIGSERIAL",
        "smallint": "SMALLSERIAL",
    }

    def configure(self, server_version: tuple[int, ...], **info: Any) -> None:
        super().configure(server_version, **info)
        self.supports_nulls_distinct = server_version >= (15,)

    def placeholder(self, index: int) -> str:
        return f"${index}"

    def case_insensitive_like(self, column_sql: str, placeholder: str) -> str:
        return f"{column_sql} ILIKE {placeholder}"

    def regexp(self, column_sql: str, placeholder: str, *, case_insensitive: bool = False) -> str:
        return f"{column_sql} {'~*' if case_insensitive else '~'} {placeholder}"

    def advisory_lock_sql(self, key: int) -> tuple[str, str] | None:
        return f"SELECT pg_advisory_lock({int(key)})", f"SELECT pg_advisory_unlock({int(key)})"

    def begin_sql(self, isolation: str | None = None) -> list[str]:
        if isolation is None:
            return ["BEGIN"]
        return [f"BEGIN ISOLATION LEVEL {self.isolation_level(isolation)}"]

    def _build_converters(self) -> None:
        super()._build_converters()
        self._to_db.update({"decimal": to_decimal, "uuid": uuid_from})

    def _string_literal(self, value: str) -> str:
        if "\x00" in value:
            raise ValueError("a default must not contain NUL")
        if "\\" in value:  # E'' strings: backslashes must be doubled, quotes too
            return "E'" + value.replace("\\", "\\\\").replace("'", "''") + "'"
        return "'" + value.replace("'", "''") + "'"

    def _bytes_literal(self, value: bytes) -> str:
        return "'\\x" + value.hex() + "'::bytea"

    def drop_table_sql(
        self, table: str, *, if_exists: bool = False, cascade: bool = False
    ) -> list[str]:
        head = "DROP TABLE IF EXISTS " if if_exists else "DROP TABLE "
        return [head + self.quote(table) + (" CASCADE" if cascade else "")]

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
        if old.name != new.name:
            stmts.extend(self.rename_column_sql(table, old.name, new.name))
        c = self.quote(new.name)
        if old.references is not None and old.references != new.references:
            stmts.extend(self.drop_foreign_key_sql(table, old.name))
        if old.unique and not new.unique:
            stmts.extend(self.drop_unique_sql(table, (old.name,)))
        old_type = self.column_sql_type(old)
        new_type = self.column_sql_type(new)
        if old_type != new_type:
            if new.auto_increment or old.auto_increment:
                base = self.column_type(new.kind, max_length=new.max_length, big=new.big)
            else:
                base = new_type
            if _family(old.kind) == _family(new.kind):
                # implicit conversion: a value that does not fit fails instead of being cut
                stmts.append(f"ALTER TABLE {t} ALTER COLUMN {c} TYPE {base}")
            else:
                stmts.append(f"ALTER TABLE {t} ALTER COLUMN {c} TYPE {base} USING {c}::{base}")
            if new.auto_increment and old.auto_increment:
                # SERIAL's sequence has the column's width: widen (or narrow) it too
                table_text = t.replace("'", "''")
                column_text = new.name.replace("'", "''")
                stmts.append(
                    "DO $$ BEGIN EXECUTE format('ALTER SEQUENCE %s AS "
                    f"{base}', pg_get_serial_sequence('{table_text}', '{column_text}')); END $$"
                )
        if old.has_default and not new.has_default:
            stmts.append(f"ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT")
        elif new.has_default and (not old.has_default or old.default != new.default):
            stmts.append(
                f"ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {self.literal(new.default, new.kind)}"
            )
        if old.nullable != new.nullable and not new.primary_key:
            stmts.append(
                f"ALTER TABLE {t} ALTER COLUMN {c} {'DROP' if new.nullable else 'SET'} NOT NULL"
            )
        if new.unique and not old.unique:
            stmts.extend(self.add_unique_sql(table, (new.name,)))
        if new.references is not None and old.references != new.references:
            stmts.extend(self.add_foreign_key_sql(table, new.name, new.references))
        return stmts
