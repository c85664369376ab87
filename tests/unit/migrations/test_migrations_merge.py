"""Branched histories: loader order and errors, merge migrations, conflict rules (no database)."""

from __future__ import annotations

import ast
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from covet.db.dialects import ColumnSpec, ForeignKeySpec, IndexSpec
from covet.orm.migrations import (
    AddColumn,
    AddIndex,
    AddUnique,
    AlterColumn,
    Changes,
    CreateTable,
    DropTable,
    Migration,
    MigrationError,
    Migrator,
    Operation,
    RemoveColumn,
    RemoveIndex,
    RenameColumn,
    RenameTable,
    RunSQL,
    load_migrations,
    replay,
)
from covet.orm.migrations.loader import ancestors, descendants, leaves
from covet.orm.migrations.merge import merge_conflicts, touches
from covet.orm.migrations.writer import merge_name, render_migration

ID = ColumnSpec("id", "int", primary_key=True, auto_increment=True, nullable=False)
NAME = ColumnSpec("name", "str", max_length=40)
BASE = [CreateTable("person", [ID, NAME], indexes=[IndexSpec("person", ("name",), name="ix")])]


def write(directory: Path, name: str, deps: Sequence[str], ops: Sequence[Operation]) -> None:
    """A migration file as the writer renders it."""
    directory.mkdir(exist_ok=True)
    if ops:
        source = render_migration(Changes(list(ops)), deps, title=name)
    else:
        source = f"dependencies = {list(deps)!r}\noperations = []\n"
    (directory / f"{name}.py").write_text(source)


def branched(tmp_path: Path, a: Sequence[Operation], b: Sequence[Operation]) -> Path:
    """0001 -> 0002_base, then 0003_a and 0003_b both after 0002_base."""
    d = tmp_path / "migrations"
    write(d, "0001_initial", [], BASE)
    write(d, "0002_base", ["0001_initial"], [AddColumn("person", ColumnSpec("age", "int"))])
    write(d, "0003_a", ["0002_base"], a)
    write(d, "0003_b", ["0002_base"], b)
    return d


def names(migrations: Sequence[Migration]) -> list[str]:
    return [m.name for m in migrations]


PHONE = AddColumn("person", ColumnSpec("phone", "str", max_length=20))
TAGS = CreateTable("tag", [ID, ColumnSpec("label", "str", max_length=20)])


def test_branched_history_asks_for_a_merge(tmp_path: Path) -> None:
    d = branched(tmp_path, [PHONE], [TAGS])
    with pytest.raises(MigrationError, match=r"covet db makemigrations --merge") as info:
        load_migrations(d)
    assert "['0003_a', '0003_b']" in str(info.value)
    migrator = Migrator(None, d)
    with pytest.raises(MigrationError, match="--merge"):
        migrator.make([])  # makemigrations keeps refusing until the merge
    assert names(load_migrations(d, branches=True)) == [
        "0001_initial",
        "0002_base",
        "0003_a",
        "0003_b",
    ]


def test_merge_writes_a_readable_migration_on_every_leaf(tmp_path: Path) -> None:
    d = branched(tmp_path, [PHONE], [TAGS, AlterColumn("person", NAME.evolve(max_length=80))])
    migrator = Migrator(None, d)
    path = migrator.merge()
    assert path is not None and path.name == "0004_merge_0003_a_0003_b.py"
    text = path.read_text()
    module = ast.parse(text)
    assert "makemigrations --merge" in (ast.get_docstring(module) or "")
    assert "  - 0003_a: add column person.phone\n" in text
    assert "  - 0003_b: create table tag; alter column person.name\n" in text
    assert "dependencies = ['0003_a', '0003_b']\n" in text
    assert text.endswith("\noperations = []\n")

    migrations = load_migrations(d)  # one leaf again
    assert names(migrations)[-1] == path.stem
    assert migrations[-1].operations == [] and len(migrations[-1].checksum) == 64
    merged = replay(migrations).tables
    assert list(merged["person"].columns) == ["id", "name", "age", "phone"]
    assert merged["person"].columns["name"].max_length == 80 and "tag" in merged
    assert migrator.merge() is None  # nothing left to merge


def test_makemigrations_after_a_merge_builds_on_it(tmp_path: Path) -> None:
    from covet.orm import Model

    def thing(*fields: str) -> list[type[Model]]:
        namespace = {"__annotations__": dict.fromkeys(fields, "int | None")}
        namespace |= dict.fromkeys(fields)
        namespace["Meta"] = type("Meta", (), {"table": "mm_thing"})
        return [type("Thing", (Model,), namespace)]

    d = tmp_path / "migrations"
    Migrator(None, d).make(thing("w"))
    shutil.copytree(d, tmp_path / "x")  # two developers start from 0001
    shutil.copytree(d, tmp_path / "y")
    for branch, models in (("x", thing("w", "x")), ("y", thing("w", "y"))):
        path = Migrator(None, tmp_path / branch).make(models, name=branch)
        assert path is not None
        shutil.copy(path, d)
    migrator = Migrator(None, d)
    with pytest.raises(MigrationError, match="--merge"):
        migrator.make(thing("w", "x", "y"))
    merge = migrator.merge()
    assert merge is not None and merge.stem == "0003_merge_0002_x_0002_y"
    assert migrator.make(thing("w", "x", "y")) is None  # the merged state is the models'
    path = migrator.make(thing("w", "x", "y", "z"))
    assert path is not None and path.name == "0004_add_column_mm_thing_z.py"
    assert "dependencies = ['0003_merge_0002_x_0002_y']" in path.read_text()
    [op] = load_migrations(d)[-1].operations
    assert isinstance(op, AddColumn) and op.column.name == "z"


def test_nothing_to_merge(tmp_path: Path) -> None:
    d = tmp_path / "migrations"
    assert Migrator(None, d).merge() is None  # no history at all
    write(d, "0001_initial", [], BASE)
    write(d, "0002_next", ["0001_initial"], [PHONE])
    assert Migrator(None, d).merge() is None
    assert sorted(p.name for p in d.iterdir() if p.suffix == ".py") == [
        "0001_initial.py",
        "0002_next.py",
    ]


def test_three_branches_merge_at_once(tmp_path: Path) -> None:
    d = branched(tmp_path, [PHONE], [TAGS])
    write(d, "0003_c", ["0002_base"], [AddColumn("person", ColumnSpec("bio", "text"))])
    path = Migrator(None, d).merge()
    assert path is not None and path.stem == "0004_merge_0003_a_0003_b_0003_c"
    assert "dependencies = ['0003_a', '0003_b', '0003_c']" in path.read_text()
    assert len(leaves(load_migrations(d))) == 1


def test_order_is_deterministic_smallest_name_first(tmp_path: Path) -> None:
    d = tmp_path / "migrations"
    write(d, "0001_initial", [], BASE)
    write(d, "0002_zeta", ["0001_initial"], [])
    write(d, "0003_zeta_more", ["0002_zeta"], [])
    write(d, "0002_alpha", ["0001_initial"], [])
    write(d, "0004_merge", ["0003_zeta_more", "0002_alpha"], [])
    expected = ["0001_initial", "0002_alpha", "0002_zeta", "0003_zeta_more", "0004_merge"]
    assert names(load_migrations(d)) == expected
    # the order of `dependencies` in the file does not matter
    write(d, "0004_merge", ["0002_alpha", "0003_zeta_more"], [])
    migrations = load_migrations(d)
    assert names(migrations) == expected
    assert ancestors(migrations, "0003_zeta_more") == {"0001_initial", "0002_zeta", "0003_zeta_more"}
    assert descendants(migrations, "0002_zeta") == {"0003_zeta_more", "0004_merge"}
    assert descendants(migrations, "0004_merge") == set()
    # a dependency on a higher number still comes first
    write(d, "0005_early", ["0006_late"], [])
    write(d, "0006_late", ["0004_merge"], [])
    assert names(load_migrations(d))[-2:] == ["0006_late", "0005_early"]
    write(d, "0006_late", ["0005_early"], [])
    with pytest.raises(MigrationError, match="circular"):
        load_migrations(d)


def test_ambiguous_number_needs_the_full_name(tmp_path: Path) -> None:
    d = branched(tmp_path, [PHONE], [TAGS])
    Migrator(None, d).merge()
    migrations = load_migrations(d)
    with pytest.raises(MigrationError, match="ambiguous"):
        Migrator._index(migrations, "0003")
    assert migrations[Migrator._index(migrations, "0003_b")].name == "0003_b"
    assert migrations[Migrator._index(migrations, "0004")].name.startswith("0004_merge")


FK = ColumnSpec("person_id", "int", references=ForeignKeySpec("person", "id"))

CONFLICTS = [
    ("alter the same column", [AlterColumn("person", NAME.evolve(max_length=50))],
     [AlterColumn("person", NAME.evolve(max_length=60))]),
    ("rename vs remove", [RenameColumn("person", "name", "full_name")],
     [RemoveColumn("person", "name")]),
    ("rename vs alter", [RenameColumn("person", "name", "full_name")],
     [AlterColumn("person", NAME.evolve(nullable=False))]),
    ("both create a table", [TAGS], [TAGS]),
    ("both add a column", [PHONE], [PHONE]),
    ("drop vs alter", [DropTable("person")], [AlterColumn("person", NAME.evolve(max_length=5))]),
    ("drop vs add column", [DropTable("person")], [PHONE]),
    ("rename table vs add column", [RenameTable("person", "people")], [PHONE]),
    ("remove vs index", [RemoveColumn("person", "age")],
     [AddIndex(IndexSpec("person", ("age",), name="ix_age"))]),
    ("remove index vs remove index", [RemoveIndex("person", "ix")], [RemoveIndex("person", "ix")]),
    ("same unique", [AddUnique("person", ("name",))], [AddUnique("person", ("name",))]),
    ("new foreign key vs dropped target", [CreateTable("post", [ID, FK])], [DropTable("person")]),
    ("new foreign key vs renamed key", [CreateTable("post", [ID, FK])],
     [RenameColumn("person", "id", "pk")]),
    ("same index name on two tables", [AddIndex(IndexSpec("person", ("age",), name="ix_x"))],
     [TAGS, AddIndex(IndexSpec("tag", ("label",), name="ix_x"))]),
]

INDEPENDENT = [
    ("different columns", [PHONE], [AddColumn("person", ColumnSpec("bio", "text"))]),
    ("new table vs new column", [TAGS], [PHONE]),
    ("alter one column, add another", [AlterColumn("person", NAME.evolve(max_length=90))], [PHONE]),
    ("index vs other column", [AddIndex(IndexSpec("person", ("age",), name="ix_age"))], [PHONE]),
    ("foreign key to a table the other branch grows", [CreateTable("post", [ID, FK])], [PHONE]),
    ("raw SQL is not checked", [RunSQL("DROP TABLE person")], [PHONE]),
]


@pytest.mark.parametrize(("label", "a", "b"), CONFLICTS, ids=[c[0] for c in CONFLICTS])
def test_conflicting_branches_are_refused(
    tmp_path: Path, label: str, a: list[Operation], b: list[Operation]
) -> None:
    d = branched(tmp_path, a, b)
    migrations = load_migrations(d, branches=True)
    [conflict] = merge_conflicts(migrations)[:1]
    assert (conflict.first, conflict.second) == ("0003_a", "0003_b")
    with pytest.raises(MigrationError, match="cannot merge") as info:
        Migrator(None, d).merge()
    message = str(info.value)
    assert "['0003_a', '0003_b']" in message and "resolve it by hand" in message
    assert f"0003_a: {a[0].describe()}  <->  0003_b: {b[-1].describe()}" in message
    assert not list(d.glob("0004_*"))


@pytest.mark.parametrize(("label", "a", "b"), INDEPENDENT, ids=[c[0] for c in INDEPENDENT])
def test_independent_branches_merge(
    tmp_path: Path, label: str, a: list[Operation], b: list[Operation]
) -> None:
    d = branched(tmp_path, a, b)
    assert merge_conflicts(load_migrations(d, branches=True)) == []
    assert Migrator(None, d).merge() is not None


def test_conflicts_are_found_from_the_common_ancestor(tmp_path: Path) -> None:
    """Longer branches: everything since the fork counts; the shared part does not."""
    d = branched(tmp_path, [PHONE], [TAGS])
    write(d, "0004_a_more", ["0003_a"], [RemoveColumn("person", "age")])
    write(d, "0004_b_more", ["0003_b"], [AlterColumn("person", ColumnSpec("age", "bigint"))])
    conflicts = merge_conflicts(load_migrations(d, branches=True))
    assert [str(c) for c in conflicts] == [
        "0004_a_more: remove column person.age  <->  0004_b_more: alter column person.age"
    ]
    with pytest.raises(MigrationError, match=r"\['0004_a_more', '0004_b_more'\]"):
        Migrator(None, d).merge()
    # 0002_base (shared, it adds `age`) is not compared with either branch
    (d / "0004_a_more.py").unlink()
    path = Migrator(None, d).merge()
    assert path is not None and path.stem == "0005_merge_0003_a_0004_b_more"
    assert "  - 0003_b: create table tag\n  - 0004_b_more: alter column person.age\n" in (
        path.read_text()
    )


def test_a_merge_that_does_not_replay_is_refused(tmp_path: Path) -> None:
    d = branched(tmp_path, [AddColumn("nope", ColumnSpec("x", "int"))], [PHONE])
    with pytest.raises(MigrationError, match="do not apply together: 0003_a: table 'nope'"):
        Migrator(None, d).merge()
    assert not list(d.glob("0004_*"))


def test_touches() -> None:
    assert touches(PHONE) == ({("person", "column:phone")}, set())
    assert touches(CreateTable("post", [ID, FK])) == ({("post",)}, {("person", "column:id")})
    assert touches(RunSQL("x")) == (set(), set())
    assert touches(AddUnique("person", ("name", "age"))) == (
        {("person", "unique:name,age")},
        {("person", "column:name"), ("person", "column:age")},
    )


def test_merge_names() -> None:
    assert merge_name(4, ["0003_b", "0003_a"]) == "0004_merge_0003_a_0003_b"
    long = ["0003_" + "x" * 50, "0003_" + "y" * 50]
    assert merge_name(4, long) == "0004_merge_0003_0003"
    assert merge_name(4, long, "join") == "0004_join"
    with pytest.raises(MigrationError):
        merge_name(4, long, "Bad Name")
