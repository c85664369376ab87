"""``covet.db``: async database access for SQLite, PostgreSQL and MySQL/MariaDB."""

from __future__ import annotations

from covet.db.dialects import Dialect, get_dialect
from covet.db.exceptions import (
    CheckViolation,
    ConnectionLost,
    DatabaseError,
    DataError,
    DoesNotExist,
    ForeignKeyViolation,
    IntegrityError,
    InterfaceError,
    MultipleObjectsReturned,
    NotNullViolation,
    NotSupportedError,
    OperationalError,
    PoolTimeout,
    ProgrammingError,
    TransactionError,
    UniqueViolation,
)

__all__ = (
    "CheckViolation",
    "ConnectionLost",
    "DataError",
    "DatabaseError",
    "Dialect",
    "DoesNotExist",
    "ForeignKeyViolation",
    "IntegrityError",
    "InterfaceError",
    "MultipleObjectsReturned",
    "NotNullViolation",
    "NotSupportedError",
    "OperationalError",
    "PoolTimeout",
    "ProgrammingError",
    "TransactionError",
    "UniqueViolation",
    "get_dialect",
)
