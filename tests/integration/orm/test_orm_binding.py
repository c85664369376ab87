"""``Meta.database`` binds a model to another Database (by alias or object)."""

from __future__ import annotations

from pathlib import Path

import pytest

from covet.db import Database
from covet.orm import Field, Model, create_all

pytestmark = pytest.mark.integration


class AuditEntry(Model):
    action: str = Field(max_length=50)

    class Meta:
        table = "audit_entry"
        database = "audit"


async def test_model_bound_to_alias(tmp_path: Path) -> None:
    main = Database(f"sqlite:///{tmp_path / 'main.db'}", alias="default")
    audit = Database(f"sqlite:///{tmp_path / 'audit.db'}", alias="audit")
    try:
        await create_all(audit, [AuditEntry])
        await AuditEntry.objects.create(action="login")
        assert await AuditEntry.objects.count() == 1
        rows = await audit.fetch_all('SELECT "action" FROM "audit_entry"')
        assert [r[0] for r in rows] == ["login"]
        main_tables = await main.fetch_all(
            "SELECT name FROM sqlite_master WHERE name = 'audit_entry'"
        )
        assert main_tables == []
        assert await AuditEntry.objects.using(audit).filter(action="login").exists()
    finally:
        for db in (main, audit):
            await db.disconnect()
            db.unregister()
