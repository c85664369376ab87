"""The SQL backends integration suites run against, as one pytest parameter list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

SQL_BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    pytest.param("mysql", id="mysql", marks=pytest.mark.mysql),
]


def sql_backend_url(request: pytest.FixtureRequest, sqlite_file: Path) -> str:
    """The URL for ``request.param``: a SQLite file, or a fresh PostgreSQL/MariaDB database
    from the session fixtures in tests/conftest.py (which skip or fail when unreachable)."""
    if request.param == "sqlite":
        return f"sqlite:///{sqlite_file}"
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return str(request.getfixturevalue("mysql_url"))


async def table_exists(db: Any, table: str) -> bool:
    """Whether ``table`` exists on ``db`` (a query on it works), on any backend."""
    try:
        await db.fetch_all(f"SELECT 1 FROM {db.dialect.quote(table)} WHERE 1 = 0")
    except Exception:
        return False
    return True
