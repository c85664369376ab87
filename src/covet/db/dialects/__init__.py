"""SQL dialects: how SQLite, PostgreSQL and MySQL/MariaDB spell things.

``get_dialect("postgres")`` returns a fresh dialect instance (aliases accepted);
``Database`` keeps one per database and configures it with the server version.
"""

from __future__ import annotations

from covet.db.dialects.base import Converter, Dialect
from covet.db.dialects.mysql import MySQLDialect
from covet.db.dialects.postgresql import PostgreSQLDialect
from covet.db.dialects.schema import (
    COLUMN_KINDS,
    NO_DEFAULT,
    ON_DELETE_ACTIONS,
    ColumnSpec,
    ForeignKeySpec,
    IndexSpec,
    constraint_name,
)
from covet.db.dialects.sqlite import SQLiteDialect

__all__ = (
    "COLUMN_KINDS",
    "NO_DEFAULT",
    "ON_DELETE_ACTIONS",
    "ColumnSpec",
    "Converter",
    "Dialect",
    "ForeignKeySpec",
    "IndexSpec",
    "MySQLDialect",
    "PostgreSQLDialect",
    "SQLiteDialect",
    "constraint_name",
    "get_dialect",
)

_ALIASES: dict[str, type[Dialect]] = {
    "sqlite": SQLiteDialect,
    "sqlite3": SQLiteDialect,
    "postgresql": PostgreSQLDialect,
    "postgres": PostgreSQLDialect,
    "pg": PostgreSQLDialect,
    "mysql": MySQLDialect,
    "mariadb": MySQLDialect,
}


def get_dialect(name: str) -> Dialect:
    """A new dialect for ``name`` (``sqlite``, ``postgresql``/``postgres``, ``mysql``/``mariadb``)."""
    try:
        cls = _ALIASES[name.lower()]
    except KeyError:
        raise ValueError(
            f"unknown SQL dialect {name!r}; expected one of {sorted(_ALIASES)}"
        ) from None
    dialect = cls()
    if name.lower() == "mariadb" and isinstance(dialect, MySQLDialect):
        dialect.is_mariadb = True
    return dialect
