"""The ``backend`` fixture: each test runs on SQLite (a file), PostgreSQL and MariaDB."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from covet.db import Database
from support.backends import SQL_BACKENDS, sql_backend_url


@pytest.fixture(params=SQL_BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for the backend under test."""
    return sql_backend_url(request, tmp_path / "test.db")


@pytest.fixture
async def db(backend: str) -> AsyncIterator[Database]:
    """A connected Database (max_size=4) on the backend, closed afterwards."""
    database = Database(
        backend, alias=f"test-{uuid.uuid4().hex[:8]}", max_size=4, acquire_timeout=5
    )
    await database.connect()
    try:
        yield database
    finally:
        await database.disconnect()
        database.unregister()


@pytest.fixture
async def table(db: Database) -> AsyncIterator[str]:
    """A fresh table ``(id pk auto, name str(100) unique, qty int)``, dropped afterwards."""
    name = f"dbt_{uuid.uuid4().hex[:10]}"
    d = db.dialect
    await db.execute(
        f"CREATE TABLE {d.quote(name)} ("
        f"id {d.column_type('int', auto_increment=True)} PRIMARY KEY, "
        f"name {d.column_type('str', max_length=100)} NOT NULL UNIQUE, "
        f"qty {d.column_type('int')})"
    )
    try:
        yield name
    finally:
        await db.execute(f"DROP TABLE IF EXISTS {d.quote(name)}")
