"""The database error tree, and the registry that maps server error codes onto it.

    CovetError
    └── DatabaseError                  any failure reported by covet.db or a driver
        ├── InterfaceError             misuse of the API (closed database, bad URL, ...)
        ├── OperationalError           the server or the connection failed
        │   ├── ConnectionLost         the connection died (also a ConnectionError)
        │   ├── PoolTimeout            no connection became free within acquire_timeout
        │   └── TransactionError       a transaction was misused or could not complete
        ├── IntegrityError             a constraint rejected the change
        │   ├── UniqueViolation
        │   ├── ForeignKeyViolation
        │   ├── NotNullViolation
        │   └── CheckViolation
        ├── ProgrammingError           bad SQL, unknown table or column, permission denied
        ├── DataError                  a value does not fit its column
        ├── NotSupportedError          the backend lacks the feature asked for
        ├── DoesNotExist               the ORM found no row (subclassed per model)
        └── MultipleObjectsReturned    the ORM found more than one row (subclassed per model)

PostgreSQL SQLSTATE codes and MySQL/MariaDB errnos are registered on the classes
(``sqlstates`` / ``mysql_errnos`` class attributes, collected by ``__init_subclass__``);
``error_class_for_sqlstate`` and ``error_class_for_mysql_errno`` look them up, falling
back on the SQLSTATE class prefix. SQLite reports no codes for constraint failures, so
``error_class_for_sqlite_message`` reads its stable message prefixes.
"""

from __future__ import annotations

import builtins
from typing import Any, ClassVar

from covet.exceptions import CovetError

__all__ = (
    "CheckViolation",
    "ConnectionLost",
    "DataError",
    "DatabaseError",
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
    "error_class_for_mysql_errno",
    "error_class_for_sqlite_message",
    "error_class_for_sqlstate",
)

_BY_SQLSTATE: dict[str, type[DatabaseError]] = {}
_BY_MYSQL_ERRNO: dict[int, type[DatabaseError]] = {}


class DatabaseError(CovetError):
    """Base of every database error.

    ``sqlstate`` (PostgreSQL, and MySQL's SQLSTATE when known) and ``errno`` (MySQL)
    carry the server's code when there is one; ``constraint`` and ``table`` name the
    object involved when the driver reports it.
    """

    error_code = "database_error"
    sqlstates: ClassVar[tuple[str, ...]] = ()
    mysql_errnos: ClassVar[tuple[int, ...]] = ()

    def __init__(
        self,
        message: str = "",
        *,
        sqlstate: str | None = None,
        errno: int | None = None,
        constraint: str | None = None,
        table: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> None:
        ctx = dict(context or {})
        for key, value in (
            ("sqlstate", sqlstate),
            ("errno", errno),
            ("constraint", constraint),
            ("table", table),
        ):
            if value is not None:
                ctx.setdefault(key, value)
        super().__init__(message, context=ctx)
        self.sqlstate = sqlstate
        self.errno = errno
        self.constraint = constraint
        self.table = table

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for code in cls.__dict__.get("sqlstates", ()):
            if code in _BY_SQLSTATE:
                raise RuntimeError(f"SQLSTATE {code} registered twice")
            _BY_SQLSTATE[code] = cls
        for errno in cls.__dict__.get("mysql_errnos", ()):
            if errno in _BY_MYSQL_ERRNO:
                raise RuntimeError(f"MySQL errno {errno} registered twice")
            _BY_MYSQL_ERRNO[errno] = cls


class InterfaceError(DatabaseError):
    """The API was used wrongly: closed database, bad URL, unsupported option."""

    error_code = "database_interface_error"


class OperationalError(DatabaseError):
    """The server or the connection failed: not the query's fault."""

    error_code = "database_operational_error"
    sqlstates: ClassVar[tuple[str, ...]] = (
        "08000",
        "08003",
        "08006",
        "08001",
        "08004",
        "53300",
        "57P01",
        "57P02",
        "57P03",
    )
    mysql_errnos: ClassVar[tuple[int, ...]] = (
        1040,
        1042,
        1043,
        1045,
        1053,
        1129,
        1130,
        1203,
        2002,
        2003,
        2005,
    )


class ConnectionLost(OperationalError, builtins.ConnectionError):
    """The connection died mid-use (server restart, killed backend, network cut).

    The broken connection is discarded; the pool replaces it on the next acquire.
    """

    error_code = "database_connection_lost"
    mysql_errnos: ClassVar[tuple[int, ...]] = (2006, 2013, 2014, 2055, 1927)


class PoolTimeout(OperationalError):
    """No connection became free within ``acquire_timeout`` seconds."""

    error_code = "database_pool_timeout"


class TransactionError(OperationalError):
    """A transaction failed to serialize, deadlocked, or was misused."""

    error_code = "database_transaction_error"
    sqlstates: ClassVar[tuple[str, ...]] = ("40001", "40P01", "25P02", "25001", "25006")
    mysql_errnos: ClassVar[tuple[int, ...]] = (1205, 1213, 1792)


class IntegrityError(DatabaseError):
    """A constraint rejected the change."""

    error_code = "database_integrity_error"
    sqlstates: ClassVar[tuple[str, ...]] = ("23000", "23001")
    mysql_errnos: ClassVar[tuple[int, ...]] = (1022, 1557, 1761, 1762)


class UniqueViolation(IntegrityError):
    """A unique or primary key constraint would be violated."""

    error_code = "database_unique_violation"
    sqlstates: ClassVar[tuple[str, ...]] = ("23505",)
    mysql_errnos: ClassVar[tuple[int, ...]] = (1062, 1586, 1169)


class ForeignKeyViolation(IntegrityError):
    """A foreign key points at a missing row, or a referenced row is still in use."""

    error_code = "database_foreign_key_violation"
    sqlstates: ClassVar[tuple[str, ...]] = ("23503",)
    mysql_errnos: ClassVar[tuple[int, ...]] = (1216, 1217, 1451, 1452)


class NotNullViolation(IntegrityError):
    """NULL was given for a NOT NULL column."""

    error_code = "database_not_null_violation"
    sqlstates: ClassVar[tuple[str, ...]] = ("23502",)
    mysql_errnos: ClassVar[tuple[int, ...]] = (1048, 1364)


class CheckViolation(IntegrityError):
    """A CHECK constraint rejected the row."""

    error_code = "database_check_violation"
    sqlstates: ClassVar[tuple[str, ...]] = ("23514",)
    mysql_errnos: ClassVar[tuple[int, ...]] = (3819, 4025)


class ProgrammingError(DatabaseError):
    """Bad SQL: syntax error, unknown table or column, insufficient privilege."""

    error_code = "database_programming_error"
    sqlstates: ClassVar[tuple[str, ...]] = (
        "42601",
        "42P01",
        "42703",
        "42883",
        "42P07",
        "42701",
        "42710",
        "42501",
        "42000",
    )
    mysql_errnos: ClassVar[tuple[int, ...]] = (
        1044,
        1046,
        1049,
        1050,
        1051,
        1054,
        1060,
        1061,
        1064,
        1067,
        1091,
        1146,
        1142,
        1149,
    )


class DataError(DatabaseError):
    """A value does not fit its column: too long, out of range, malformed."""

    error_code = "database_data_error"
    sqlstates: ClassVar[tuple[str, ...]] = (
        "22000",
        "22001",
        "22003",
        "22007",
        "22008",
        "22012",
        "22P02",
        "22021",
    )
    mysql_errnos: ClassVar[tuple[int, ...]] = (1264, 1265, 1292, 1366, 1406, 1411, 1690, 3140)


class NotSupportedError(DatabaseError):
    """The backend cannot do what was asked (see the dialect's feature flags)."""

    error_code = "database_not_supported"
    sqlstates: ClassVar[tuple[str, ...]] = ("0A000",)
    mysql_errnos: ClassVar[tuple[int, ...]] = (1235,)


class DoesNotExist(DatabaseError):
    """The ORM expected one row and found none; each model has its own subclass."""

    error_code = "does_not_exist"


class MultipleObjectsReturned(DatabaseError):
    """The ORM expected one row and found several; each model has its own subclass."""

    error_code = "multiple_objects_returned"


# SQLSTATE classes (first two characters) for codes not registered exactly.
_SQLSTATE_CLASSES: dict[str, type[DatabaseError]] = {
    "08": ConnectionLost,
    "0A": NotSupportedError,
    "22": DataError,
    "23": IntegrityError,
    "25": TransactionError,
    "40": TransactionError,
    "42": ProgrammingError,
    "53": OperationalError,
    "54": ProgrammingError,
    "55": OperationalError,
    "57": OperationalError,
    "58": OperationalError,
    "XX": OperationalError,
}

# Termination by an administrator or a shutdown means the connection is gone.
_SQLSTATE_CONNECTION_GONE = frozenset({"57P01", "57P02", "57P03", "08000", "08003", "08006"})


def error_class_for_sqlstate(sqlstate: str | None) -> type[DatabaseError]:
    """The error class for a PostgreSQL (or standard) SQLSTATE code."""
    if not sqlstate:
        return DatabaseError
    if sqlstate in _SQLSTATE_CONNECTION_GONE:
        return ConnectionLost
    exact = _BY_SQLSTATE.get(sqlstate)
    if exact is not None:
        return exact
    return _SQLSTATE_CLASSES.get(sqlstate[:2], DatabaseError)


def error_class_for_mysql_errno(errno: int | None) -> type[DatabaseError]:
    """The error class for a MySQL/MariaDB error number."""
    if errno is None:
        return DatabaseError
    exact = _BY_MYSQL_ERRNO.get(errno)
    if exact is not None:
        return exact
    if 2000 <= errno < 3000:  # client library errors: the connection is unusable
        return ConnectionLost
    return DatabaseError


_SQLITE_PREFIXES: tuple[tuple[str, type[DatabaseError]], ...] = (
    ("unique constraint failed", UniqueViolation),
    ("foreign key constraint failed", ForeignKeyViolation),
    ("not null constraint failed", NotNullViolation),
    ("check constraint failed", CheckViolation),
    ("primarykey constraint failed", UniqueViolation),
    ("datatype mismatch", DataError),
    ("string or blob too big", DataError),
    ("no such table", ProgrammingError),
    ("no such column", ProgrammingError),
    ("no such index", ProgrammingError),
    ("no such function", ProgrammingError),
    ("near ", ProgrammingError),
    ("incomplete input", ProgrammingError),
    ("unrecognized token", ProgrammingError),
    ("table ", ProgrammingError),  # "table x already exists", "table x has no column named y"
    ("index ", ProgrammingError),
    ("duplicate column name", ProgrammingError),
    ("database is locked", OperationalError),
    ("database table is locked", OperationalError),
    ("disk i/o error", OperationalError),
    ("unable to open database", OperationalError),
    ("attempt to write a readonly database", OperationalError),
    ("cannot start a transaction within a transaction", TransactionError),
    ("cannot commit - no transaction is active", TransactionError),
    ("cannot rollback - no transaction is active", TransactionError),
    ("no such savepoint", TransactionError),
    ("integer overflow", DataError),
)


def error_class_for_sqlite_message(message: str) -> type[DatabaseError]:
    """The error class for a SQLite error message (SQLite reports no portable codes)."""
    lowered = message.lower()
    for prefix, cls in _SQLITE_PREFIXES:
        if lowered.startswith(prefix):
            return cls
    if "constraint failed" in lowered:
        return IntegrityError
    if "syntax error" in lowered:
        return ProgrammingError
    return DatabaseError
