"""One ``db`` fixture parametrised over SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from orm_models import ALL_MODELS

from covet.db import Database
from covet.orm import create_all
from covet.orm.ddl import _sorted
from support.backends import SQL_BACKENDS, sql_backend_url

_ready: set[str] = set()


@pytest.fixture(scope="session")
def sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("orm") / "orm.db"


@pytest.fixture(params=SQL_BACKENDS)
def backend_url(request: pytest.FixtureRequest, sqlite_file: Path) -> str:
    return sql_backend_url(request, sqlite_file)


@pytest.fixture
async def db(backend_url: str) -> AsyncIterator[Database]:
    """A connected default Database with empty ORM tables."""
    database = Database(backend_url, max_size=5)
    await database.connect()
    if backend_url not in _ready:
        await create_all(database, ALL_MODELS)
        _ready.add(backend_url)
    for model in reversed(_sorted(list(ALL_MODELS))):
        await database.execute(f"DELETE FROM {database.dialect.quote(model._meta.table)}")
    try:
        yield database
    finally:
        await database.disconnect()
        database.unregister()
