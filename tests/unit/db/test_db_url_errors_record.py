"""URL parsing and masking, the error registry, and Record (no database)."""

from __future__ import annotations

import pytest

from covet.db import (
    CheckViolation,
    ConnectionLost,
    DatabaseError,
    DataError,
    ForeignKeyViolation,
    IntegrityError,
    InterfaceError,
    NotNullViolation,
    OperationalError,
    PoolTimeout,
    ProgrammingError,
    Record,
    TransactionError,
    UniqueViolation,
)
from covet.db.exceptions import (
    error_class_for_mysql_errno,
    error_class_for_sqlite_message,
    error_class_for_sqlstate,
)
from covet.db.url import DatabaseURL, mask_password, scrub
from covet.exceptions import CovetError


@pytest.mark.parametrize(
    ("url", "database"),
    [
        ("sqlite:///app.db", "app.db"),
        ("sqlite:///sub/dir/app.db", "sub/dir/app.db"),
        ("sqlite:////var/lib/app.db", "/var/lib/app.db"),
        ("sqlite:///:memory:", ":memory:"),
        ("sqlite://", ":memory:"),
    ],
)
def test_sqlite_urls(url: str, database: str) -> None:
    parsed = DatabaseURL.parse(url)
    assert parsed.dialect == "sqlite" and parsed.database == database
    assert parsed.is_memory == (database == ":memory:")


def test_server_urls() -> None:
    u = DatabaseURL.parse(
        "postgres://bob:p%40ss@db.local:6543/app?sslmode=require&min_size=2&max_size=9"
    )
    assert (u.dialect, u.username, u.password, u.host, u.port, u.database) == (
        "postgresql",
        "bob",
        "p@ss",
        "db.local",
        6543,
        "app",
    )
    assert u.pool_options() == {"min_size": 2, "max_size": 9}
    assert u.driver_options() == {"sslmode": "require"}
    m = DatabaseURL.parse("mariadb://root@127.0.0.1/test")
    assert m.dialect == "mysql" and m.is_mariadb_scheme and m.password is None
    assert DatabaseURL.parse("mysql+aiomysql://root@h/db").driver == "aiomysql"


@pytest.mark.parametrize(
    "url",
    [
        "nonsense",
        "oracle://u:pw@h/db",
        "mysql+psycopg://u:pw@h/db",
        "postgresql://u:pw@h:notaport/db",
        "sqlite://relative.db",
    ],
)
def test_bad_urls_raise_interface_error_without_password(url: str) -> None:
    with pytest.raises(InterfaceError) as info:
        DatabaseURL.parse(url)
    assert ":pw@" not in str(info.value)


def test_bad_pool_option_in_url() -> None:
    with pytest.raises(InterfaceError, match="min_size"):
        DatabaseURL.parse("postgresql://h/db?min_size=lots").pool_options()


def test_masking() -> None:
    u = DatabaseURL.parse("postgresql://bob:hunter2@h:5432/app?sslmode=require")
    assert "hunter2" not in str(u) and "hunter2" not in repr(u)
    assert str(u) == "postgresql://bob:***@h:5432/app?sslmode=require"
    assert u.render(mask=False) == "postgresql://bob:hunter2@h:5432/app?sslmode=require"
    assert (
        mask_password("failed for mysql://root:topsecret@h/db")
        == "failed for mysql://root:***@h/db"
    )
    assert scrub("auth with topsecret failed", ("topsecret",)) == "auth with *** failed"


def test_error_tree() -> None:
    assert issubclass(DatabaseError, CovetError)
    assert issubclass(UniqueViolation, IntegrityError)
    assert issubclass(ConnectionLost, OperationalError) and issubclass(
        ConnectionLost, ConnectionError
    )
    assert issubclass(PoolTimeout, OperationalError)
    err = UniqueViolation("dup", sqlstate="23505", constraint="u_email", table="users")
    assert err.to_dict()["context"] == {
        "sqlstate": "23505",
        "constraint": "u_email",
        "table": "users",
    }


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("23505", UniqueViolation),
        ("23503", ForeignKeyViolation),
        ("23502", NotNullViolation),
        ("23514", CheckViolation),
        ("23999", IntegrityError),
        ("42P01", ProgrammingError),
        ("42XXX", ProgrammingError),
        ("22001", DataError),
        ("40001", TransactionError),
        ("57P01", ConnectionLost),
        ("08006", ConnectionLost),
        ("ZZ999", DatabaseError),
        (None, DatabaseError),
    ],
)
def test_sqlstate_registry(code: str | None, cls: type) -> None:
    assert error_class_for_sqlstate(code) is cls


@pytest.mark.parametrize(
    ("errno", "cls"),
    [
        (1062, UniqueViolation),
        (1452, ForeignKeyViolation),
        (1451, ForeignKeyViolation),
        (1557, IntegrityError),
        (1048, NotNullViolation),
        (1146, ProgrammingError),
        (1067, ProgrammingError),
        (1406, DataError),
        (1213, TransactionError),
        (2013, ConnectionLost),
        (2006, ConnectionLost),
        (2999, ConnectionLost),
        (9999, DatabaseError),
    ],
)
def test_mysql_errno_registry(errno: int, cls: type) -> None:
    assert error_class_for_mysql_errno(errno) is cls


@pytest.mark.parametrize(
    ("message", "cls"),
    [
        ("UNIQUE constraint failed: t.a", UniqueViolation),
        ("FOREIGN KEY constraint failed", ForeignKeyViolation),
        ("NOT NULL constraint failed: t.a", NotNullViolation),
        ("CHECK constraint failed: positive", CheckViolation),
        ("no such table: nope", ProgrammingError),
        ('near "SELEC": syntax error', ProgrammingError),
        ("database is locked", OperationalError),
        ("something new", DatabaseError),
    ],
)
def test_sqlite_message_registry(message: str, cls: type) -> None:
    assert error_class_for_sqlite_message(message) is cls


def test_duplicate_registration_is_rejected() -> None:
    with pytest.raises(RuntimeError, match="23505"):

        class Again(IntegrityError):
            sqlstates = ("23505",)


def test_record_is_tuple_and_mapping_like() -> None:
    index = {"id": 0, "name": 1}
    r = Record((1, "a"), index)
    assert r[0] == 1 and r["name"] == "a" and r[-1] == "a" and r[0:1] == (1,)
    assert tuple(r) == (1, "a") and len(r) == 2 and r == (1, "a")
    assert dict(r) == {"id": 1, "name": "a"}
    assert list(r.keys()) == ["id", "name"] and list(r.items()) == [("id", 1), ("name", "a")]
    assert r.get("missing") is None and r.get("missing", 5) == 5
    assert repr(r) == "<Record id=1 name='a'>"
    assert r == Record((1, "a"), index) and hash(r) == hash((1, "a"))
    with pytest.raises(KeyError, match="nope"):
        r["nope"]
    with pytest.raises(IndexError):
        r[5]
