"""The migration suites' ``db`` fixture: a connected Database on SQLite (a file),
PostgreSQL and MariaDB, each in its own fresh database, closed and unregistered after."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from covet.db import Database
from support.backends import SQL_BACKENDS, sql_backend_url


@pytest.fixture(params=SQL_BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return sql_backend_url(request, tmp_path / "mig.db")


@pytest.fixture
async def db(backend: str) -> AsyncIterator[Database]:
    database = Database(backend, alias=f"mig-{uuid.uuid4().hex[:6]}")
    await database.connect()
    try:
        yield database
    finally:
        await database.disconnect()
        database.unregister()
