"""The SQL backends integration suites run against, as one pytest parameter list."""

from __future__ import annotations

from pathlib import Path

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
