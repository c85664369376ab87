"""Branched migration histories on SQLite, PostgreSQL and MariaDB: one branch applied,
the other and the merge arrive, then makemigrations, downgrades and forward again."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest

from covet.db import Database
from covet.db.dialects import ColumnSpec
from covet.orm import Field, Model
from covet.orm.migrations import (
    AddColumn,
    AlterColumn,
    Changes,
    CreateTable,
    MigrationError,
    Migrator,
    Operation,
)
from covet.orm.migrations.writer import render_migration
from support.backends import table_exists

pytestmark = pytest.mark.integration


def models(s: str, *, phone: bool = False, wide: bool = False, email: bool = False) -> list[type]:
    """v1: person(name). Branch A adds person.phone; branch B widens person.name (a table
    rebuild on SQLite) and creates tag; after the merge, person.email comes."""
    annotations: dict[str, object] = {"name": "str"}
    namespace: dict[str, object] = {"name": Field(max_length=80 if wide else 40)}
    if phone:
        annotations["phone"] = "str | None"
        namespace["phone"] = Field(default=None, max_length=20)
    if email:
        annotations["email"] = "str | None"
        namespace["email"] = Field(default=None, max_length=100)
    namespace |= {"__annotations__": annotations, "Meta": type("Meta", (), {"table": f"mb_person_{s}"})}
    out: list[type] = [type("Person", (Model,), namespace)]
    if wide:

        class Tag(Model):
            label: str = Field(max_length=30)

            class Meta:
                table = f"mb_tag_{s}"

        out.append(Tag)
    return out


async def _columns(db: Database, table: str) -> set[str]:
    if db.dialect.name == "sqlite":
        info = await db.fetch_all(f"PRAGMA table_info({db.dialect.quote(table)})")
        return {r["name"] for r in info}
    if db.dialect.name == "postgresql":
        sql = "SELECT column_name FROM information_schema.columns WHERE table_name = $1"
    else:
        sql = (
            "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() "
            "AND table_name = %s"
        )
    return {r[0] for r in await db.fetch_all(sql, [table])}


@pytest.mark.parametrize("first", ["phone", "wide"])
async def test_branch_applied_then_other_branch_and_merge(
    db: Database, tmp_path: Path, first: str
) -> None:
    s = uuid.uuid4().hex[:6]
    person, tag = f"mb_person_{s}", f"mb_tag_{s}"
    q, p = db.dialect.quote, db.dialect.placeholder
    main = tmp_path / "migrations"
    migrator = Migrator(db, main, table=f"covet_migrations_{s}")
    try:
        assert migrator.make(models(s)) is not None
        assert await migrator.migrate() == ["0001_initial"]
        # two developers branch off 0001_initial
        for branch in ("phone", "wide"):
            shutil.copytree(main, tmp_path / branch)
        phone = Migrator(None, tmp_path / "phone").make(models(s, phone=True), name="phone")
        # its name sorts first: applied after "phone", it still comes first in the order
        wide = Migrator(None, tmp_path / "wide").make(
            models(s, wide=True), name="longer_name_and_tags"
        )
        assert phone is not None and wide is not None
        ours, theirs = (phone, wide) if first == "phone" else (wide, phone)

        # our branch is applied, with a row in it
        shutil.copy(ours, main)
        assert await migrator.migrate() == [ours.stem]
        values = {"name": "Ann"} | ({"phone": "555"} if first == "phone" else {})
        cols = ", ".join(q(c) for c in values)
        marks = ", ".join(p(i + 1) for i in range(len(values)))
        await db.execute(
            f"INSERT INTO {q(person)} ({cols}) VALUES ({marks})", list(values.values())
        )

        # the other branch arrives: nothing runs until the branches are merged
        shutil.copy(theirs, main)
        with pytest.raises(MigrationError, match="makemigrations --merge"):
            await migrator.migrate()
        with pytest.raises(MigrationError, match="makemigrations --merge"):
            migrator.make(models(s, phone=True, wide=True))
        merge = migrator.merge()
        assert merge is not None
        assert merge.stem == "0003_merge_0002_longer_name_and_tags_0002_phone"
        assert migrator.sql(merge.stem) == []
        assert await migrator.migrate() == [theirs.stem, merge.stem]
        assert await _columns(db, person) == {"id", "name", "phone"}
        assert await table_exists(db, tag)
        row = await db.fetch_one(f"SELECT name, phone FROM {q(person)}")
        assert row is not None and row[0] == "Ann"  # SQLite's table rebuild kept the data
        assert row[1] == ("555" if first == "phone" else None)
        await db.execute(f"UPDATE {q(person)} SET name = {p(1)}", ["x" * 80])  # widened
        await db.execute(f"UPDATE {q(person)} SET name = {p(1)}", ["Ann"])
        status = await migrator.status()
        assert [(x.name, x.applied, x.changed) for x in status] == [
            ("0001_initial", True, False),
            ("0002_longer_name_and_tags", True, False),
            ("0002_phone", True, False),
            (merge.stem, True, False),
        ]

        # makemigrations builds on the merge
        assert migrator.make(models(s, phone=True, wide=True)) is None
        later = migrator.make(models(s, phone=True, wide=True, email=True), name="email")
        assert later is not None and later.name == "0004_email.py"
        assert f"dependencies = [{merge.stem!r}]" in later.read_text()
        assert await migrator.migrate() == ["0004_email"]
        assert await _columns(db, person) == {"id", "name", "phone", "email"}

        # downgrading to a branch's migration reverts what depends on it, not the other branch
        assert await migrator.downgrade("0002_phone") == ["0004_email", merge.stem]
        assert await _columns(db, person) == {"id", "name", "phone"}
        assert await table_exists(db, tag)
        assert [x.applied for x in await migrator.status()] == [True, True, True, False, False]
        assert await migrator.migrate("0004") == [merge.stem, "0004_email"]

        # all the way down, newest first in the order, then forward again
        assert await migrator.downgrade("zero") == [
            "0004_email",
            merge.stem,
            "0002_phone",
            "0002_longer_name_and_tags",
            "0001_initial",
        ]
        assert not await table_exists(db, person) and not await table_exists(db, tag)
        assert await migrator.migrate("0002_longer_name_and_tags") == [
            "0001_initial",
            "0002_longer_name_and_tags",
        ]
        assert await _columns(db, person) == {"id", "name"}
        assert await migrator.migrate() == ["0002_phone", merge.stem, "0004_email"]
        assert await _columns(db, person) == {"id", "name", "phone", "email"}
        await db.execute(f"INSERT INTO {q(person)} ({q('name')}) VALUES ({p(1)})", ["Ann"])
        assert await migrator.downgrade("0001_initial") == [
            "0004_email",
            merge.stem,
            "0002_phone",
            "0002_longer_name_and_tags",
        ]
        assert await _columns(db, person) == {"id", "name"}
        assert await db.fetch_val(f"SELECT name FROM {q(person)}") == "Ann"
        assert await migrator.downgrade("zero") == ["0001_initial"]
    finally:
        for table in (tag, person, f"covet_migrations_{s}"):
            await db.execute(f"DROP TABLE IF EXISTS {q(table)}")


def _file(directory: Path, name: str, deps: list[str], ops: list[Operation]) -> None:
    source = render_migration(Changes(ops), deps, title=name)
    (directory / f"{name}.py").write_text(source)


async def test_downgrade_keeps_a_later_branch_that_does_not_depend_on_the_target(
    db: Database, tmp_path: Path
) -> None:
    """Reverting 0003_a_widen (a table rebuild on SQLite) while 0003_b_email, after it in
    the order but on the other branch, stays applied: its column and data survive."""
    s = uuid.uuid4().hex[:6]
    person = f"mb_person_{s}"
    q, p = db.dialect.quote, db.dialect.placeholder
    d = tmp_path / "migrations"
    d.mkdir()
    key = ColumnSpec("id", "int", primary_key=True, auto_increment=True, nullable=False)
    name = ColumnSpec("name", "str", max_length=40, nullable=False)
    _file(d, "0001_initial", [], [CreateTable(person, [key, name])])
    phone = ColumnSpec("phone", "str", max_length=20)
    _file(d, "0002_a_phone", ["0001_initial"], [AddColumn(person, phone)])
    widen = AlterColumn(person, name.evolve(max_length=80))
    _file(d, "0003_a_widen", ["0002_a_phone"], [widen])
    email = ColumnSpec("email", "str", max_length=100)
    _file(d, "0003_b_email", ["0001_initial"], [AddColumn(person, email)])
    migrator = Migrator(db, d, table=f"covet_migrations_{s}")
    try:
        merge = migrator.merge()
        assert merge is not None and merge.stem == "0004_merge_0003_a_widen_0003_b_email"
        assert await migrator.migrate() == [
            "0001_initial",
            "0002_a_phone",
            "0003_a_widen",
            "0003_b_email",
            merge.stem,
        ]
        await db.execute(
            f"INSERT INTO {q(person)} (name, phone, email) VALUES ({p(1)}, {p(2)}, {p(3)})",
            ["Ann", "555", "ann@example.com"],
        )
        assert await migrator.downgrade("0002_a_phone") == [merge.stem, "0003_a_widen"]
        assert await _columns(db, person) == {"id", "name", "phone", "email"}
        row = await db.fetch_one(f"SELECT name, phone, email FROM {q(person)}")
        assert row is not None and tuple(row) == ("Ann", "555", "ann@example.com")
        assert await migrator.downgrade("zero") == ["0003_b_email", "0002_a_phone", "0001_initial"]
    finally:
        for table in (person, f"covet_migrations_{s}"):
            await db.execute(f"DROP TABLE IF EXISTS {q(table)}")
