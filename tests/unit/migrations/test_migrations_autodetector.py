"""Autodetector, operations' state changes, writer and loader (no database)."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from pathlib import Path

import pytest

from covet.db.dialects import ColumnSpec, ForeignKeySpec, IndexSpec, get_dialect
from covet.orm.migrations import (
    AddColumn,
    AddIndex,
    AddUnique,
    AlterColumn,
    CreateTable,
    DropTable,
    MigrationError,
    ProjectState,
    RemoveColumn,
    RemoveIndex,
    RemoveUnique,
    RenameColumn,
    RenameTable,
    TableState,
    detect_changes,
    load_migrations,
    replay,
)
from covet.orm.migrations.serializer import render_value
from covet.orm.migrations.writer import migration_name, render_migration


class Level(enum.Enum):
    LOW = "low"
    HIGH = "high"


ID = ColumnSpec("id", "int", primary_key=True, auto_increment=True, nullable=False)


def table(
    name: str,
    *cols: ColumnSpec,
    indexes: tuple[IndexSpec, ...] = (),
    unique: tuple[tuple[str, ...], ...] = (),
) -> TableState:
    return TableState(
        name, {c.name: c for c in (ID, *cols)}, {i.name: i for i in indexes}, list(unique)
    )


def state(*tables: TableState) -> ProjectState:
    return ProjectState({t.name: t for t in tables})


def kinds(ops: list[object]) -> list[str]:
    return [type(o).__name__ for o in ops]


def test_new_tables_come_referenced_first_and_drops_dependents_first() -> None:
    users = table("users", ColumnSpec("email", "str", max_length=50))
    posts = table("posts", ColumnSpec("user_id", "int", references=ForeignKeySpec("users")))
    changes = detect_changes(ProjectState(), state(posts, users))
    assert [(type(o).__name__, o.name) for o in changes.operations] == [  # type: ignore[attr-defined]
        ("CreateTable", "users"),
        ("CreateTable", "posts"),
    ]
    back = detect_changes(state(posts, users), ProjectState())
    assert [o.name for o in back.operations] == ["posts", "users"]  # type: ignore[attr-defined]
    assert not detect_changes(state(users), state(users))


def test_column_add_remove_alter() -> None:
    before = state(table("t", ColumnSpec("a", "int"), ColumnSpec("b", "str", max_length=10)))
    after = state(
        table(
            "t",
            ColumnSpec("b", "str", max_length=20),
            ColumnSpec("c", "bool", nullable=False, default=False),
        )
    )
    changes = detect_changes(before, after)
    assert kinds(changes.operations) == ["RemoveColumn", "AddColumn", "AlterColumn"]
    assert "if that is a rename" in changes.notes[0]


def test_unambiguous_column_rename() -> None:
    before = state(table("t", ColumnSpec("name", "str", max_length=10)))
    after = state(table("t", ColumnSpec("title", "str", max_length=10), ColumnSpec("n", "int")))
    changes = detect_changes(before, after)
    assert changes.operations[0] == RenameColumn("t", "name", "title")
    assert kinds(changes.operations) == ["RenameColumn", "AddColumn"]


def test_ambiguous_rename_is_drop_and_add() -> None:
    before = state(table("t", ColumnSpec("a", "int"), ColumnSpec("b", "int")))
    after = state(table("t", ColumnSpec("c", "int"), ColumnSpec("d", "int")))
    changes = detect_changes(before, after)
    assert kinds(changes.operations) == ["RemoveColumn", "RemoveColumn", "AddColumn", "AddColumn"]
    assert changes.notes


def test_table_rename_updates_foreign_keys_in_state() -> None:
    before = state(
        table("authors", ColumnSpec("name", "str", max_length=5)),
        table("books", ColumnSpec("author_id", "int", references=ForeignKeySpec("authors"))),
    )
    after = state(
        table("writers", ColumnSpec("name", "str", max_length=5)),
        table("books", ColumnSpec("author_id", "int", references=ForeignKeySpec("writers"))),
    )
    changes = detect_changes(before, after)
    assert changes.operations == [RenameTable("authors", "writers")]
    assert replay_ops(before, changes.operations).tables == after.tables


def test_indexes_and_uniques() -> None:
    idx_a = IndexSpec("t", ("a",))
    before = state(
        table(
            "t",
            ColumnSpec("a", "int"),
            ColumnSpec("b", "int"),
            indexes=(idx_a,),
            unique=(("a", "b"),),
        )
    )
    after = state(
        table(
            "t", ColumnSpec("a", "int"), ColumnSpec("b", "int"), indexes=(IndexSpec("t", ("b",)),)
        )
    )
    changes = detect_changes(before, after)
    assert kinds(changes.operations) == ["RemoveIndex", "RemoveUnique", "AddIndex"]
    assert replay_ops(before, changes.operations).tables == after.tables


def test_not_null_without_default_gets_a_note() -> None:
    changes = detect_changes(
        state(table("t")), state(table("t", ColumnSpec("x", "int", nullable=False)))
    )
    assert "NOT NULL without a default" in changes.notes[0]


def replay_ops(start: ProjectState, ops: list[object]) -> ProjectState:
    s = start.clone()
    for op in ops:
        op.state_forwards(s)  # type: ignore[attr-defined]
    return s


@pytest.mark.parametrize(
    "op",
    [
        CreateTable("t", [ID]),
        DropTable("missing"),
        AddColumn("missing", ColumnSpec("x", "int")),
        RemoveColumn("u", "nope"),
        AlterColumn("u", ColumnSpec("nope", "int")),
        RenameColumn("u", "nope", "x"),
        RemoveIndex("u", "nope"),
        RemoveUnique("u", ("id",)),
    ],
)
def test_invalid_operations_raise(op: object) -> None:
    start = state(table("t"), table("u"))
    with pytest.raises(MigrationError):
        op.state_forwards(start)  # type: ignore[attr-defined]


def test_operations_sql_both_ways() -> None:
    before = state(table("t", ColumnSpec("a", "int")))
    op = AddColumn("t", ColumnSpec("b", "str", max_length=5, unique=True))
    after = replay_ops(before, [op])
    pg = get_dialect("postgresql")
    assert op.forwards_sql(pg, before, after) == [
        'ALTER TABLE "t" ADD COLUMN "b" VARCHAR(5)',
        'ALTER TABLE "t" ADD CONSTRAINT "t_b_uniq" UNIQUE ("b")',
    ]
    assert op.backwards_sql(pg, before, after) == [
        'ALTER TABLE "t" DROP CONSTRAINT "t_b_uniq"',
        'ALTER TABLE "t" DROP COLUMN "b"',
    ]
    idx = AddIndex(IndexSpec("t", ("a",)))
    assert idx.backwards_sql(get_dialect("mysql"), before, before) == [
        "DROP INDEX `t_a_idx` ON `t`"
    ]
    uq = AddUnique("t", ("a",))
    assert uq.forwards_sql(get_dialect("sqlite"), before, before) == [
        'CREATE UNIQUE INDEX "t_a_uniq" ON "t" ("a")'
    ]


@pytest.mark.parametrize(
    ("value", "source"),
    [
        (None, "None"),
        ("it's", '"it\'s"'),
        (decimal.Decimal("1.50"), "decimal.Decimal('1.50')"),
        (dt.date(2024, 1, 2), "datetime.date.fromisoformat('2024-01-02')"),
        (uuid.UUID(int=1), "uuid.UUID('00000000-0000-0000-0000-000000000001')"),
        (("a",), "('a',)"),
        ({"k": [1]}, "{'k': [1]}"),
        (float("inf"), "float('inf')"),
    ],
)
def test_render_value(value: object, source: str) -> None:
    assert render_value(value) == source
    assert eval(source, {"datetime": dt, "decimal": decimal, "uuid": uuid}) == value


def test_render_value_rejects_unknown_types() -> None:
    with pytest.raises(MigrationError, match="cannot write"):
        render_value(object())


def test_written_file_round_trips(tmp_path: Path) -> None:
    after = state(
        table(
            "users",
            ColumnSpec("email", "str", max_length=50, unique=True, nullable=False, default="x@y"),
            ColumnSpec(
                "joined", "datetime", default=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
            ),
            indexes=(IndexSpec("users", ("joined",)),),
        ),
        table(
            "posts",
            ColumnSpec("user_id", "int", references=ForeignKeySpec("users", on_delete="cascade")),
        ),
    )
    changes = detect_changes(ProjectState(), after)
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "0001_initial.py").write_text(render_migration(changes, [], title="0001_initial"))
    loaded = load_migrations(directory)
    assert [m.name for m in loaded] == ["0001_initial"] and len(loaded[0].checksum) == 64
    assert replay(loaded).tables == after.tables


def test_loader_rejects_bad_histories(tmp_path: Path) -> None:
    d = tmp_path / "m"
    d.mkdir()
    (d / "0001_a.py").write_text("dependencies = []\noperations = []\n")
    (d / "0002_b.py").write_text("dependencies = ['0001_a']\noperations = []\n")
    (d / "0003_c.py").write_text("dependencies = ['0001_a']\noperations = []\n")
    with pytest.raises(MigrationError, match="conflicting"):
        load_migrations(d)
    (d / "0003_c.py").write_text("dependencies = ['0009_missing']\noperations = []\n")
    with pytest.raises(MigrationError, match="does not exist"):
        load_migrations(d)
    (d / "0003_c.py").write_text("dependencies = ['0002_b']\noperations = ['not an op']\n")
    with pytest.raises(MigrationError, match="operations"):
        load_migrations(d)
    (d / "0003_c.py").write_text("raise RuntimeError('boom')\n")
    with pytest.raises(MigrationError, match="boom"):
        load_migrations(d)
    (d / "0003_c.py").unlink()
    (d / "notes.txt").write_text("ignored")
    assert [m.name for m in load_migrations(d)] == ["0001_a", "0002_b"]
    assert load_migrations(tmp_path / "absent") == []


def test_migration_names() -> None:
    changes = detect_changes(state(table("t")), state(table("t", ColumnSpec("x", "int"))))
    assert migration_name(1, changes) == "0001_initial"
    assert migration_name(2, changes) == "0002_add_column_t_x"
    assert migration_name(3, changes, "custom_name") == "0003_custom_name"
    with pytest.raises(MigrationError):
        migration_name(3, changes, "../evil")


def test_becoming_not_null_gets_a_note() -> None:
    before = state(table("t", ColumnSpec("x", "int")))
    after = state(table("t", ColumnSpec("x", "int", nullable=False)))
    changes = detect_changes(before, after)
    assert kinds(changes.operations) == ["AlterColumn"]
    assert "becomes NOT NULL" in changes.notes[0]


def test_enum_defaults_round_trip_through_files(tmp_path: Path) -> None:
    from covet.orm import Field, Model
    from covet.orm.migrations import Migrator

    class Task(Model):
        level: Level = Level.LOW
        weight: float = Field(default=1.5)

        class Meta:
            table = f"unit_task_{uuid.uuid4().hex[:6]}"

    migrator = Migrator(None, tmp_path / "m")
    assert migrator.make([Task]) is not None
    assert migrator.make([Task]) is None  # no phantom AlterColumn for the enum default
