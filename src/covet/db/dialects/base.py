"""The ``Dialect`` base: placeholders, quoting, feature flags, types, adapters and DDL.

A dialect holds no connection. ``Database`` picks one from the URL; the ORM's SQL
compiler and migrations ask it how to spell things. Capability checks read the feature
flags (``supports_returning``...), never ``name == "mysql"``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Sequence
from typing import Any, ClassVar

from covet.db.dialects.adapters import (
    Converter,
    enum_value,
    json_dumps,
    json_loads,
    to_bool,
    to_bytes,
    to_decimal,
    to_float,
    to_utc_aware,
    uuid_from,
)
from covet.db.dialects.schema import (
    ON_DELETE_ACTIONS,
    ColumnSpec,
    ForeignKeySpec,
    IndexSpec,
    constraint_name,
)
from covet.db.exceptions import NotSupportedError

__all__ = ("Converter", "Dialect")

ISOLATION_LEVELS = {
    "read_uncommitted": "READ UNCOMMITTED",
    "read_committed": "READ COMMITTED",
    "repeatable_read": "REPEATABLE READ",
    "serializable": "SERIALIZABLE",
}


class Dialect:
    """How one SQL backend spells things. Subclasses set the flags and override hooks."""

    name: ClassVar[str] = ""
    quote_char: ClassVar[str] = '"'
    param_style: ClassVar[str] = "qmark"
    #: how a literal ``%`` must be written in SQL text (``%%`` for the format paramstyle)
    percent: ClassVar[str] = "%"

    supports_returning: bool = True
    supports_for_update: bool = True
    supports_skip_locked: bool = True
    supports_ilike: bool = False
    supports_savepoints: bool = True
    supports_transactional_ddl: bool = True
    supports_distinct_on: bool = False
    supports_nulls_distinct: bool = False
    supports_json_ops: bool = True
    supports_regexp: bool = True
    supports_alter_column: bool = True
    supports_drop_column: bool = True
    #: changing a column's type needs the foreign keys that use it (its own and those
    #: pointing at it) dropped first and re-created after (MySQL/MariaDB)
    alter_type_drops_foreign_keys: bool = False
    upsert_style: str = "on_conflict"
    max_params: int = 32767
    max_identifier_length: int = 63
    like_escape_clause: str = ""
    random_function: str = "RANDOM()"
    current_timestamp: str = "CURRENT_TIMESTAMP"

    def __init__(self) -> None:
        #: server version as a tuple, filled in after connecting (``(0,)`` until then)
        self.server_version: tuple[int, ...] = (0,)
        self._to_db: dict[str, Converter | None] = {}
        self._from_db: dict[str, Converter | None] = {}
        self._build_converters()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(server_version={self.server_version!r})"

    def configure(self, server_version: tuple[int, ...], **info: Any) -> None:
        """Record the server version (after connecting) and adjust version-dependent flags."""
        self.server_version = tuple(server_version)

    # -- placeholders and identifiers -------------------------------------------------

    def placeholder(self, index: int) -> str:
        """The placeholder for the ``index``-th parameter (1-based)."""
        return "?"

    def param(self, index: int) -> str:
        """Alias of :meth:`placeholder`."""
        return self.placeholder(index)

    def quote(self, identifier: str) -> str:
        """Quote an identifier, doubling embedded quote characters."""
        if not isinstance(identifier, str):
            raise TypeError(f"identifier must be a str, not {type(identifier).__name__}")
        if not identifier:
            raise ValueError("identifier must not be empty")
        if "\x00" in identifier:
            raise ValueError("identifier must not contain NUL")
        if len(identifier) > self.max_identifier_length:
            raise ValueError(
                f"identifier {identifier[:20]!r}... is longer than {self.max_identifier_length} characters"
            )
        q = self.quote_char
        return q + identifier.replace(q, q + q) + q

    def quote_dotted(self, dotted: str) -> str:
        """Quote ``table.column`` (or ``schema.table``) part by part."""
        return ".".join(self.quote(part) for part in dotted.split("."))

    # -- LIKE, regexp -----------------------------------------------------------------

    escape_char: ClassVar[str] = "\\"

    def escape_like(self, value: str) -> str:
        """Escape ``%``, ``_`` and the escape character so ``value`` matches literally."""
        e = self.escape_char
        return value.replace(e, e + e).replace("%", e + "%").replace("_", e + "_")

    def like(self, column_sql: str, placeholder: str) -> str:
        """Case-sensitive ``LIKE`` (pattern escaped with :meth:`escape_like`)."""
        return f"{column_sql} LIKE {placeholder}{self.like_escape_clause}"

    def case_insensitive_like(self, column_sql: str, placeholder: str) -> str:
        """Case-insensitive ``LIKE``."""
        return f"LOWER({column_sql}) LIKE LOWER({placeholder}){self.like_escape_clause}"

    def regexp(self, column_sql: str, placeholder: str, *, case_insensitive: bool = False) -> str:
        """A regular expression match; raises NotSupportedError without ``supports_regexp``."""
        raise NotSupportedError(f"{self.name} does not support regular expression matching")

    # -- JSON -------------------------------------------------------------------------

    def json_path(self, path: Sequence[str | int]) -> str:
        """The JSON path string (``$."a"."b"[0]``) of ``path``, sent as a bound parameter.

        Keys are written as JSON strings (escaped by ``json_dumps``, as stored values
        are), so ``.``, ``[``, ``*``, ``$`` and quotes inside a key stay literal.
        """
        out = ["$"]
        for step in path:
            out.append(f"[{int(step)}]" if isinstance(step, int) else "." + json_dumps(step))
        return "".join(out)

    # -- transactions -----------------------------------------------------------------

    def begin_sql(self, isolation: str | None = None) -> list[str]:
        """Statements that open a transaction (with an optional isolation level)."""
        if isolation is None:
            return ["BEGIN"]
        return ["BEGIN", f"SET TRANSACTION ISOLATION LEVEL {self.isolation_level(isolation)}"]

    def isolation_level(self, isolation: str) -> str:
        try:
            return ISOLATION_LEVELS[isolation.lower().replace(" ", "_")]
        except KeyError:
            raise ValueError(
                f"isolation must be one of {sorted(ISOLATION_LEVELS)}, not {isolation!r}"
            ) from None

    def savepoint_sql(self, name: str) -> str:
        return f"SAVEPOINT {self.quote(name)}"

    def release_savepoint_sql(self, name: str) -> str:
        return f"RELEASE SAVEPOINT {self.quote(name)}"

    def rollback_to_savepoint_sql(self, name: str) -> str:
        return f"ROLLBACK TO SAVEPOINT {self.quote(name)}"

    def advisory_lock_sql(self, key: int) -> tuple[str, str] | None:
        """``(acquire, release)`` statements of a session-level named lock, or None.

        Used to keep two processes from migrating one database at once.
        """
        return None

    def returning_clause(self, columns: Sequence[str]) -> str:
        """`` RETURNING a, b`` or NotSupportedError without ``supports_returning``."""
        if not self.supports_returning:
            raise NotSupportedError(f"{self.name} does not support RETURNING")
        return " RETURNING " + ", ".join(self.quote(c) for c in columns)

    # -- types and adapters -----------------------------------------------------------

    def column_type(
        self,
        kind: str,
        *,
        max_length: int | None = None,
        max_digits: int | None = None,
        decimal_places: int | None = None,
        auto_increment: bool = False,
        big: bool = False,
    ) -> str:
        """The column type for a field kind (see ``COLUMN_KINDS``)."""
        if kind == "int" and big:
            kind = "bigint"
        if kind in ("str", "enum"):
            length = max_length if max_length is not None else 255
            if length <= 0:
                raise ValueError(f"max_length must be positive, not {length}")
            return f"VARCHAR({int(length)})"
        if kind == "decimal":
            digits = max_digits if max_digits is not None else 20
            places = decimal_places if decimal_places is not None else 6
            if places > digits or digits <= 0 or places < 0:
                raise ValueError(f"invalid decimal precision ({digits}, {places})")
            return self._decimal_type(int(digits), int(places))
        try:
            if auto_increment:
                return self._auto_types[kind]
            return self._types[kind]
        except KeyError:
            raise ValueError(f"unknown column kind {kind!r}") from None

    _types: ClassVar[dict[str, str]] = {}
    _auto_types: ClassVar[dict[str, str]] = {}

    def _decimal_type(self, digits: int, places: int) -> str:
        return f"NUMERIC({digits}, {places})"

    def _build_converters(self) -> None:
        """Fill ``_to_db`` / ``_from_db``: kind -> converter (None when values pass as-is)."""
        self._to_db.update(
            {
                "int": None,
                "bigint": None,
                "smallint": None,
                "str": None,
                "text": None,
                "float": None,
                "enum": enum_value,
                "bytes": None,
                "json": json_dumps,
                "bool": None,
                "decimal": None,
                "datetime": to_utc_aware,
                "date": None,
                "time": None,
                "uuid": None,
            }
        )
        self._from_db.update(
            {
                "int": None,
                "bigint": None,
                "smallint": None,
                "str": None,
                "text": None,
                "enum": None,
                "float": to_float,
                "bytes": to_bytes,
                "json": json_loads,
                "bool": to_bool,
                "decimal": to_decimal,
                "datetime": to_utc_aware,
                "date": None,
                "time": None,
                "uuid": uuid_from,
            }
        )

    def to_db_converter(self, kind: str) -> Converter | None:
        """The function adapting Python values of ``kind`` for the driver, or None."""
        try:
            return self._to_db[kind]
        except KeyError:
            raise ValueError(f"unknown column kind {kind!r}") from None

    def from_db_converter(self, kind: str) -> Converter | None:
        """The function turning driver values of ``kind`` into Python values, or None."""
        try:
            return self._from_db[kind]
        except KeyError:
            raise ValueError(f"unknown column kind {kind!r}") from None

    def to_db(self, value: Any, kind: str) -> Any:
        """Adapt one Python value for the driver (None stays None: SQL NULL)."""
        if value is None:
            return None
        conv = self.to_db_converter(kind)
        return value if conv is None else conv(value)

    def from_db(self, value: Any, kind: str) -> Any:
        """Turn one driver value into the Python value for ``kind``."""
        if value is None:
            return None
        conv = self.from_db_converter(kind)
        return value if conv is None else conv(value)

    # -- literals (DDL defaults only; data always travels as parameters) ---------------

    def literal(self, value: Any, kind: str) -> str:
        """Render ``value`` as a SQL literal for a DDL ``DEFAULT``."""
        if value is None:
            return "NULL"
        value = self.to_db(value, kind)
        if isinstance(value, bool):
            return self._bool_literal(value)
        if isinstance(value, (int, float, decimal.Decimal)):
            if isinstance(value, float) and value != value:
                raise ValueError("NaN cannot be a column default")
            return str(value)
        if isinstance(value, (bytes, bytearray, memoryview)):
            return self._bytes_literal(bytes(value))
        if isinstance(value, dt.datetime):
            value = value.isoformat(sep=" ")
        elif isinstance(value, (dt.date, dt.time, uuid.UUID)):
            value = str(value)
        return self._string_literal(str(value))

    def _bool_literal(self, value: bool) -> str:
        return "TRUE" if value else "FALSE"

    def _string_literal(self, value: str) -> str:
        if "\x00" in value:
            raise ValueError("a default must not contain NUL")
        return "'" + value.replace("'", "''") + "'"

    def _bytes_literal(self, value: bytes) -> str:
        return "X'" + value.hex() + "'"

    # -- DDL ------------------------------------------------------------------------

    def column_definition(self, column: ColumnSpec, *, inline_pk: bool = True) -> str:
        """``"name" TYPE [NOT NULL] [DEFAULT x] [UNIQUE] [PRIMARY KEY]``."""
        parts = [
            self.quote(column.name),
            self.column_sql_type(column),
        ]
        if column.primary_key and inline_pk:
            parts.append(self._primary_key_suffix(column))
        elif not column.nullable:
            parts.append("NOT NULL")
        if column.has_default and not column.auto_increment:
            parts.append("DEFAULT " + self.literal(column.default, column.kind))
        return " ".join(parts)

    def _primary_key_suffix(self, column: ColumnSpec) -> str:
        return "NOT NULL PRIMARY KEY"

    def foreign_key_clause(self, table: str, column: str, ref: ForeignKeySpec) -> str:
        """``CONSTRAINT name FOREIGN KEY (col) REFERENCES t (c) ON DELETE ...``."""
        self._check_fk_action(ref)
        sql = (
            f"CONSTRAINT {self.quote(self.foreign_key_name(table, column))} "
            f"FOREIGN KEY ({self.quote(column)}) "
            f"REFERENCES {self.quote(ref.table)} ({self.quote(ref.column)}) "
            f"ON DELETE {ON_DELETE_ACTIONS[ref.on_delete]}"
        )
        if ref.on_update is not None:
            sql += f" ON UPDATE {ON_DELETE_ACTIONS[ref.on_update]}"
        return sql

    def add_foreign_key_sql(self, table: str, column: str, ref: ForeignKeySpec) -> list[str]:
        """``ALTER TABLE ... ADD CONSTRAINT`` for the foreign key of ``table.column``."""
        return [
            f"ALTER TABLE {self.quote(table)} ADD " + self.foreign_key_clause(table, column, ref)
        ]

    def foreign_key_types_match(self, column: ColumnSpec, target: ColumnSpec) -> bool:
        """Whether a foreign key from ``column`` to ``target`` can exist with these types.

        True by default (PostgreSQL compares across integer widths; SQLite has no types).
        """
        return True

    def column_sql_type(self, column: ColumnSpec) -> str:
        """The SQL type of ``column`` (auto-increment included), as in its definition."""
        return self.column_type(
            column.kind,
            max_length=column.max_length,
            max_digits=column.max_digits,
            decimal_places=column.decimal_places,
            auto_increment=column.auto_increment,
            big=column.big,
        )

    def _check_fk_action(self, ref: ForeignKeySpec) -> None:
        """Hook: reject actions the backend does not support."""

    def foreign_key_name(self, table: str, column: str) -> str:
        return constraint_name(table, (column,), "fk")

    def create_table_sql(
        self,
        table: str,
        columns: Sequence[ColumnSpec],
        *,
        unique_together: Sequence[Sequence[str]] = (),
        indexes: Sequence[IndexSpec] = (),
        if_not_exists: bool = False,
        physical_name: str | None = None,
    ) -> list[str]:
        """``CREATE TABLE`` (with foreign keys and unique constraints) plus its indexes.

        ``physical_name`` creates the table under another name while constraint and index
        names still derive from ``table`` (used by table rebuilds).
        """
        if not columns:
            raise ValueError(f"table {table!r} needs at least one column")
        pks = [c for c in columns if c.primary_key]
        inline_pk = len(pks) == 1
        items = [self.column_definition(c, inline_pk=inline_pk) for c in columns]
        if len(pks) > 1:
            items.append("PRIMARY KEY (" + ", ".join(self.quote(c.name) for c in pks) + ")")
        uniques: list[tuple[str, ...]] = [
            (c.name,) for c in columns if c.unique and not c.primary_key
        ]
        uniques += [tuple(group) for group in unique_together]
        after: list[str] = []
        for cols in uniques:
            if self.unique_as_index:
                index = IndexSpec(
                    table, cols, unique=True, name=constraint_name(table, cols, "uniq")
                )
                after.extend(self.create_index_sql(index, if_not_exists=if_not_exists))
            else:
                items.append(
                    f"CONSTRAINT {self.quote(constraint_name(table, cols, 'uniq'))} "
                    "UNIQUE (" + ", ".join(self.quote(c) for c in cols) + ")"
                )
        for c in columns:
            if c.references is not None:
                items.append(self.foreign_key_clause(table, c.name, c.references))
        head = "CREATE TABLE IF NOT EXISTS " if if_not_exists else "CREATE TABLE "
        sql = (
            head
            + self.quote(physical_name or table)
            + " (\n    "
            + ",\n    ".join(items)
            + "\n)"
            + self.table_suffix
        )
        for index in indexes:
            after.extend(self.create_index_sql(index, if_not_exists=if_not_exists))
        return [sql, *after]

    #: unique constraints are created as named unique indexes (SQLite: droppable without a rebuild)
    unique_as_index: ClassVar[bool] = False

    table_suffix: ClassVar[str] = ""

    def drop_table_sql(
        self, table: str, *, if_exists: bool = False, cascade: bool = False
    ) -> list[str]:
        head = "DROP TABLE IF EXISTS " if if_exists else "DROP TABLE "
        return [
            head + self.quote(table) + (" CASCADE" if cascade and self.name == "postgresql" else "")
        ]

    def rename_table_sql(self, old: str, new: str) -> list[str]:
        return [f"ALTER TABLE {self.quote(old)} RENAME TO {self.quote(new)}"]

    def add_column_sql(self, table: str, column: ColumnSpec) -> list[str]:
        """``ALTER TABLE ... ADD COLUMN`` (and its foreign key where it needs its own statement)."""
        if column.primary_key:
            raise NotSupportedError(
                "adding a primary key column to an existing table is not supported"
            )
        stmts = [f"ALTER TABLE {self.quote(table)} ADD COLUMN {self.column_definition(column)}"]
        if column.unique:
            stmts.extend(self.add_unique_sql(table, (column.name,)))
        if column.references is not None:
            stmts.extend(self.add_foreign_key_sql(table, column.name, column.references))
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
        """Drop a column (its unique constraint and foreign key first).

        ``table_columns`` (the columns that remain) and ``indexes`` are used by backends
        that must rebuild the table (SQLite, for key or foreign-key columns).
        """
        name = column if isinstance(column, str) else column.name
        stmts: list[str] = []
        if isinstance(column, ColumnSpec) and column.references is not None:
            stmts.extend(self.drop_foreign_key_sql(table, name))
        if isinstance(column, ColumnSpec) and column.unique and not column.primary_key:
            stmts.extend(self.drop_unique_sql(table, (name,)))
        stmts.append(f"ALTER TABLE {self.quote(table)} DROP COLUMN {self.quote(name)}")
        return stmts

    def drop_foreign_key_sql(self, table: str, column: str) -> list[str]:
        return [
            f"ALTER TABLE {self.quote(table)} DROP CONSTRAINT "
            + self.quote(self.foreign_key_name(table, column))
        ]

    def rename_column_sql(self, table: str, old: str, new: str) -> list[str]:
        return [
            f"ALTER TABLE {self.quote(table)} RENAME COLUMN {self.quote(old)} TO {self.quote(new)}"
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
        """Change a column's type, nullability, default, uniqueness or foreign key.

        ``table_columns`` (the table's full column list AFTER the change), ``indexes``
        and ``unique_together`` are needed by backends that rebuild the table (SQLite).
        Foreign keys of other tables are not touched: with ``alter_type_drops_foreign_keys``
        the caller (the ``AlterColumn`` migration operation) drops and re-creates them.
        """
        raise NotImplementedError

    def create_index_sql(self, index: IndexSpec, *, if_not_exists: bool = False) -> list[str]:
        head = "CREATE UNIQUE INDEX " if index.unique else "CREATE INDEX "
        if if_not_exists and self.name != "mysql":
            head += "IF NOT EXISTS "
        cols = ", ".join(self.quote(c) for c in index.columns)
        return [f"{head}{self.quote(index.name)} ON {self.quote(index.table)} ({cols})"]

    def drop_index_sql(self, index: IndexSpec) -> list[str]:
        return [f"DROP INDEX {self.quote(index.name)}"]

    def add_unique_sql(self, table: str, columns: Sequence[str]) -> list[str]:
        cols = tuple(columns)
        if self.unique_as_index:
            return self.create_index_sql(
                IndexSpec(table, cols, unique=True, name=constraint_name(table, cols, "uniq"))
            )
        return [
            f"ALTER TABLE {self.quote(table)} ADD CONSTRAINT {self.quote(constraint_name(table, cols, 'uniq'))} "
            "UNIQUE (" + ", ".join(self.quote(c) for c in cols) + ")"
        ]

    def drop_unique_sql(self, table: str, columns: Sequence[str]) -> list[str]:
        cols = tuple(columns)
        if self.unique_as_index:
            return self.drop_index_sql(
                IndexSpec(table, cols, unique=True, name=constraint_name(table, cols, "uniq"))
            )
        return [
            f"ALTER TABLE {self.quote(table)} DROP CONSTRAINT "
            + self.quote(constraint_name(table, tuple(columns), "uniq"))
        ]
