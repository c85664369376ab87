"""``covet.db``: async database access for SQLite, PostgreSQL and MySQL/MariaDB."""

from __future__ import annotations

from covet.db.connection import Connection, Transaction
from covet.db.database import Database, get_database, registered_databases
from covet.db.dialects import Dialect, get_dialect
from covet.db.events import QueryEvent, QueryListener
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
from covet.db.record import Record

__all__ = (
    "CheckViolation",
    "Connection",
    "ConnectionLost",
    "DataError",
    "Database",
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
    "QueryEvent",
    "QueryListener",
    "Record",
    "Transaction",
    "TransactionError",
    "UniqueViolation",
    "get_database",
    "get_dialect",
    "registered_databases",
)
