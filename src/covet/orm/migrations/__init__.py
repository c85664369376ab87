"""Schema migrations for ``covet.orm`` models.

``covet db makemigrations`` diffs the models against the state the migration files
build (``autodetector``) and writes a reviewable Python file (``writer``); ``covet db
migrate`` / ``downgrade`` apply and revert them (``Migrator``), recording each in the
``covet_migrations`` table with its checksum. See ``docs/migrations.md``.
"""

from __future__ import annotations

from covet.orm.migrations.autodetector import Changes, detect_changes
from covet.orm.migrations.executor import MIGRATIONS_TABLE, MigrationStatus, Migrator
from covet.orm.migrations.loader import Migration, load_migrations, replay
from covet.orm.migrations.operations import (
    AddColumn,
    AddIndex,
    AddUnique,
    AlterColumn,
    CreateTable,
    DropTable,
    Operation,
    RemoveColumn,
    RemoveIndex,
    RemoveUnique,
    RenameColumn,
    RenameTable,
)
from covet.orm.migrations.special import RunPython, RunSQL
from covet.orm.migrations.state import MigrationError, ProjectState, TableState, collect_models

__all__ = (
    "MIGRATIONS_TABLE",
    "AddColumn",
    "AddIndex",
    "AddUnique",
    "AlterColumn",
    "Changes",
    "CreateTable",
    "DropTable",
    "Migration",
    "MigrationError",
    "MigrationStatus",
    "Migrator",
    "Operation",
    "ProjectState",
    "RemoveColumn",
    "RemoveIndex",
    "RemoveUnique",
    "RenameColumn",
    "RenameTable",
    "RunPython",
    "RunSQL",
    "TableState",
    "collect_models",
    "detect_changes",
    "load_migrations",
    "replay",
)
