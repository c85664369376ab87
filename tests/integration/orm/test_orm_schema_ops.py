"""``Database.create_all()`` / ``drop_all()`` delegate to the ORM."""

from __future__ import annotations

from pathlib import Path

import pytest
from orm_models import Author, Counter

from covet.db import Database

pytestmark = pytest.mark.integration


async def test_database_create_all_and_drop_all(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'schema.db'}")
    try:
        await db.create_all()
        await db.create_all()  # idempotent
        tables = {
            r[0] for r in await db.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        assert {"orm_author", "orm_article", "orm_article_labels", "orm_counter"} <= tables
        await Counter.objects.create(name="c")
        assert await Counter.objects.count() == 1
        await db.drop_all()
        tables = {
            r[0] for r in await db.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        assert Author._meta.table not in tables and "orm_article_labels" not in tables
    finally:
        await db.disconnect()
        db.unregister()
