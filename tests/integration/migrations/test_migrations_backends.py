"""Migrations forward and back on SQLite, PostgreSQL and MariaDB, with real ORM models."""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import enum
import uuid
from pathlib import Path
from typing import Any

import pytest

from covet.db import Database
from covet.db.dialects import ForeignKeySpec
from covet.db.exceptions import ForeignKeyViolation
from covet.orm import Field, ForeignKey, ManyToMany, Model, OneToOne
from covet.orm.migrations import MigrationError, Migrator, ProjectState
from support.backends import table_exists

pytestmark = pytest.mark.integration

class Shade(enum.Enum):
    LIGHT = "light"
    DARK = "dark"


def models_every_kind(s: str) -> list[type[Model]]:
    class Owner(Model):
        id: int = Field(primary_key=True)
        email: str = Field(max_length=120, unique=True)

        class Meta:
            table = f"mk_owner_{s}"

    class Thing(Model):
        owner: OneToOne[Owner] = Field(on_delete="cascade", related_name="thing")
        label: str = Field(max_length=30, default="it's")
        notes: str | None = None
        count: int = 0
        big: int = Field(default=2**30)
        active: bool = True
        ratio: float = 0.5
        price: decimal.Decimal = Field(
            default=decimal.Decimal("9.99"), max_digits=8, decimal_places=2
        )
        day: dt.date = Field(default=dt.date(2024, 1, 31))
        at: dt.time | None = None
        stamp: dt.datetime | None = None
        key: uuid.UUID = Field(default_factory=uuid.uuid4)
        blob: bytes | None = None
        data: dict = Field(default_factory=dict)
        shade: Shade = Shade.DARK

        class Meta:
            table = f"mk_thing_{s}"
            unique_together = [("label", "count")]
            indexes = [("count", "active")]

    return [Owner, Thing]


def models_v1(s: str) -> list[type[Model]]:
    class Tag(Model):
        name: str = Field(max_length=50, unique=True)

        class Meta:
            table = f"mg_tag_{s}"

    class Writer(Model):
        id: int = Field(primary_key=True)
        name: str = Field(max_length=100)

        class Meta:
            table = f"mg_writer_{s}"

    class Novel(Model):
        writer: ForeignKey[Writer] = Field(on_delete="cascade", related_name="novels")
        title: str = Field(max_length=100, index=True)
        pages: int = 0
        tags: ManyToMany[Tag] = Field(related_name="novels")

        class Meta:
            table = f"mg_novel_{s}"

    return [Tag, Writer, Novel, Novel._meta.by_name["tags"].through]


def models_v2(s: str) -> list[type[Model]]:
    class Tag(Model):
        name: str = Field(max_length=50, unique=True)

        class Meta:
            table = f"mg_tag_{s}"

    class Writer(Model):
        id: int = Field(primary_key=True)
        full_name: str = Field(max_length=100)  # renamed from name
        email: str | None = Field(default=None, max_length=200)  # added

        class Meta:
            table = f"mg_writer_{s}"
            unique_together = [("full_name", "email")]

    class Novel(Model):
        writer: ForeignKey[Writer] = Field(on_delete="cascade", related_name="novels")
        title: str = Field(max_length=300)  # longer, no longer indexed
        pages: int = 0
        tags: ManyToMany[Tag] = Field(related_name="novels")

        class Meta:
            table = f"mg_novel_{s}"

    class Review(Model):  # new table
        novel: ForeignKey[Novel] = Field(on_delete="cascade", related_name="reviews")
        stars: int = Field(default=3)

        class Meta:
            table = f"mg_review_{s}"

    return [Tag, Writer, Novel, Novel._meta.by_name["tags"].through, Review]


async def _columns(db: Database, table: str) -> list[str]:
    rows = await db.fetch_all(f"SELECT * FROM {db.dialect.quote(table)} WHERE 1 = 0")
    if rows:
        return list(rows[0].keys())
    if db.dialect.name == "sqlite":
        info = await db.fetch_all(f"PRAGMA table_info({db.dialect.quote(table)})")
        return [r["name"] for r in info]
    if db.dialect.name == "postgresql":
        sql = "SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position"
    else:
        sql = (
            "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() "
            "AND table_name = %s ORDER BY ordinal_position"
        )
    return [r[0] for r in await db.fetch_all(sql, [table])]


async def test_forward_and_back(db: Database, tmp_path: Path) -> None:
    s = uuid.uuid4().hex[:6]
    q, p = db.dialect.quote, db.dialect.placeholder
    migrator = Migrator(db, tmp_path / "migrations")

    first = migrator.make(models_v1(s))
    assert first is not None and first.name == "0001_initial.py"
    assert migrator.make(models_v1(s)) is None  # nothing changed
    assert await migrator.migrate() == ["0001_initial"]
    assert await migrator.migrate() == []
    writer_id = await db.insert_returning_id(
        f"INSERT INTO {q('mg_writer_' + s)} (name) VALUES ({p(1)})", ["Ann"]
    )
    await db.execute(
        f"INSERT INTO {q('mg_novel_' + s)} (writer_id, title, pages) VALUES ({p(1)}, {p(2)}, {p(3)})",
        [writer_id, "Dune", 412],
    )

    second = migrator.make(models_v2(s))
    assert second is not None
    text = second.read_text()
    assert f"RenameColumn('mg_writer_{s}', 'name', 'full_name')" in text
    assert (
        "AddColumn" in text
        and "AlterColumn" in text
        and "CreateTable" in text
        and "RemoveIndex" in text
    )
    assert await migrator.migrate() == [second.stem]
    assert await _columns(db, f"mg_writer_{s}") == ["id", "full_name", "email"]
    assert await db.fetch_val(f"SELECT full_name FROM {q('mg_writer_' + s)}") == "Ann"
    long_title = "x" * 250
    await db.execute(f"UPDATE {q('mg_novel_' + s)} SET title = {p(1)}", [long_title])
    assert await db.fetch_val(f"SELECT title FROM {q('mg_novel_' + s)}") == long_title
    await db.execute(f"UPDATE {q('mg_novel_' + s)} SET title = {p(1)}", ["Dune"])
    assert await table_exists(db, f"mg_review_{s}")

    # a data migration written by hand
    third = tmp_path / "migrations" / "0003_data.py"
    novel, writer = q("mg_novel_" + s), q("mg_writer_" + s)
    third.write_text(
        f'''"""Hand-written data migration."""

from covet.orm.migrations import RunPython, RunSQL

dependencies = ["{second.stem}"]


async def forwards(db):
    await db.execute({f"UPDATE {novel} SET pages = pages + 1"!r})


async def backwards(db):
    await db.execute({f"UPDATE {novel} SET pages = pages - 1"!r})


operations = [
    RunPython(forwards, backwards),
    RunSQL({f"UPDATE {writer} SET email = 'a@b.c'"!r}, {f"UPDATE {writer} SET email = NULL"!r}),
]
'''
    )
    assert await migrator.migrate() == ["0003_data"]
    assert await db.fetch_val(f"SELECT pages FROM {q('mg_novel_' + s)}") == 413
    assert await db.fetch_val(f"SELECT email FROM {q('mg_writer_' + s)}") == "a@b.c"
    status = await migrator.status()
    assert [str(x) for x in status] == ["[X] 0001_initial", f"[X] {second.stem}", "[X] 0003_data"]

    # back to the first migration: data kept where columns survive
    reverted = await migrator.downgrade("0001")
    assert reverted == ["0003_data", second.stem]
    assert await _columns(db, f"mg_writer_{s}") == ["id", "name"]
    assert await db.fetch_val(f"SELECT name FROM {q('mg_writer_' + s)}") == "Ann"
    assert await db.fetch_val(f"SELECT pages FROM {q('mg_novel_' + s)}") == 412
    assert not await table_exists(db, f"mg_review_{s}")
    assert [x.applied for x in await migrator.status()] == [True, False, False]

    # forward again, then all the way down
    assert await migrator.migrate() == [second.stem, "0003_data"]
    assert await migrator.downgrade("zero") == ["0003_data", second.stem, "0001_initial"]
    for name in ("mg_tag_", "mg_writer_", "mg_novel_", "mg_review_"):
        assert not await table_exists(db, name + s)


async def test_changed_file_is_detected(db: Database, tmp_path: Path) -> None:
    s = uuid.uuid4().hex[:6]
    migrator = Migrator(db, tmp_path / "migrations")
    path = migrator.make(models_v1(s))
    assert path is not None
    await migrator.migrate()
    try:
        path.write_text(path.read_text() + "\n# edited after applying\n")
        assert (await migrator.status())[0].changed
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await migrator.migrate()
        assert await migrator.migrate(allow_changed=True) == []
    finally:
        await migrator.downgrade("zero")


async def test_failed_migration_is_not_recorded(db: Database, tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    directory.mkdir()
    s = uuid.uuid4().hex[:6]
    table = db.dialect.quote(f"mg_fail_{s}")
    (directory / "0001_broken.py").write_text(
        f"""from covet.orm.migrations import RunSQL

dependencies = []
operations = [
    RunSQL({f"CREATE TABLE {table} (id INTEGER)"!r}, {f"DROP TABLE {table}"!r}),
    RunSQL("THIS IS NOT SQL"),
]
"""
    )
    migrator = Migrator(db, directory)
    with pytest.raises(MigrationError, match="0001_broken") as info:
        await migrator.migrate()
    assert "THIS IS NOT SQL" in str(info.value)
    assert [x.applied for x in await migrator.status()] == [False]
    if db.dialect.supports_transactional_ddl:
        assert not await table_exists(db, f"mg_fail_{s}")  # rolled back whole
    else:
        await db.execute(f"DROP TABLE {table}")  # MySQL: DDL committed, cleanup by hand


async def test_sqlmigrate_and_irreversible(db: Database, tmp_path: Path) -> None:
    s = uuid.uuid4().hex[:6]
    migrator = Migrator(db, tmp_path / "migrations")
    migrator.make(models_v1(s))
    forwards = migrator.sql("0001_initial")
    assert any(stmt.startswith("CREATE TABLE") and f"mg_writer_{s}" in stmt for stmt in forwards)
    backwards = migrator.sql("0001_initial", backwards=True)
    statements = [stmt for stmt in backwards if not stmt.startswith("--")]
    if db.dialect.supports_transactional_ddl:
        assert statements[0] in ("BEGIN", "BEGIN IMMEDIATE") and statements[-1] == "COMMIT"
        statements = statements[1:-1]
    assert statements and all(stmt.startswith("DROP TABLE") for stmt in statements)
    assert any(stmt.startswith("-- revert: create table") for stmt in backwards)
    (tmp_path / "migrations" / "0002_raw.py").write_text(
        'from covet.orm.migrations import RunSQL\n\ndependencies = ["0001_initial"]\n'
        'operations = [RunSQL("SELECT 1")]\n'
    )
    await migrator.migrate()
    try:
        with pytest.raises(MigrationError, match="cannot be reverted"):
            await migrator.downgrade("0001_initial")
    finally:
        (tmp_path / "migrations" / "0002_raw.py").unlink()
        await db.execute(
            f"DELETE FROM {db.dialect.quote('covet_migrations')} WHERE name = {db.dialect.placeholder(1)}",
            ["0002_raw"],
        )
        await migrator.downgrade("zero")


def test_state_from_models_matches_replay(tmp_path: Path) -> None:
    s = uuid.uuid4().hex[:6]
    models: list[Any] = models_v2(s)
    migrator = Migrator(Database("sqlite:///:memory:", alias=f"mem-{s}"), tmp_path / "m")
    try:
        migrator.make(models)
        from covet.orm.migrations import replay

        assert replay(migrator.load()).tables == ProjectState.from_models(models).tables
    finally:
        migrator.db.unregister()


async def test_concurrent_migrate_applies_once(db: Database, backend: str, tmp_path: Path) -> None:
    s = uuid.uuid4().hex[:6]
    directory = tmp_path / "migrations"
    Migrator(db, directory).make(models_v1(s))
    other = Database(backend, alias=f"mig-other-{s}")
    try:
        async with other:
            results = await asyncio.gather(
                Migrator(db, directory).migrate(),
                Migrator(other, directory).migrate(),
                return_exceptions=True,
            )
            applied = [r for r in results if r == ["0001_initial"]]
            if db.dialect.advisory_lock_sql(1) is not None:
                assert results.count([]) == 1 and len(applied) == 1  # serialised by the lock
            else:
                assert len(applied) == 1  # SQLite: the loser fails on the record's primary key
    finally:
        other.unregister()
        await Migrator(db, directory).downgrade("zero")


async def test_altering_a_referenced_table_keeps_child_rows(db: Database, tmp_path: Path) -> None:
    s = uuid.uuid4().hex[:6]
    q, p = db.dialect.quote, db.dialect.placeholder
    directory = tmp_path / "migrations"
    migrator = Migrator(db, directory)
    migrator.make(models_v1(s))
    await migrator.migrate()
    writer_id = await db.insert_returning_id(
        f"INSERT INTO {q('mg_writer_' + s)} (name) VALUES ({p(1)})", ["W"]
    )
    await db.execute(
        f"INSERT INTO {q('mg_novel_' + s)} (writer_id, title, pages) VALUES ({p(1)}, {p(2)}, {p(3)})",
        [writer_id, "T", 1],
    )

    def models_v1b() -> list[type[Model]]:
        models = models_v1(s)
        writer = models[1]
        spec = writer._meta.by_name["name"]
        spec.max_length = 150  # the writer table is altered (a rebuild on SQLite)
        return models

    path = migrator.make(models_v1b())
    assert path is not None and "AlterColumn" in path.read_text()
    await migrator.migrate()
    try:
        # the rebuild of the referenced table did not cascade into its children
        assert await db.fetch_val(f"SELECT COUNT(*) FROM {q('mg_novel_' + s)}") == 1
        assert await db.fetch_val(f"SELECT name FROM {q('mg_writer_' + s)}") == "W"
        await db.execute(f"UPDATE {q('mg_writer_' + s)} SET name = {p(1)}", ["w" * 150])
        if db.dialect.name != "sqlite":  # SQLite does not enforce lengths
            with pytest.raises(MigrationError, match="alter column"):
                await migrator.downgrade("0001")  # 150 characters do not fit in 100 again
        await db.execute(f"UPDATE {q('mg_writer_' + s)} SET name = {p(1)}", ["W"])
    finally:
        await db.execute(f"DELETE FROM {q('mg_novel_' + s)}")
        await migrator.downgrade("zero")


async def test_every_kind_migrates_without_phantom_changes(db: Database, tmp_path: Path) -> None:
    s = uuid.uuid4().hex[:6]
    migrator = Migrator(db, tmp_path / "migrations")
    assert migrator.make(models_every_kind(s)) is not None
    assert migrator.make(models_every_kind(s)) is None
    await migrator.migrate()
    try:
        q, p = db.dialect.quote, db.dialect.placeholder
        owner = await db.insert_returning_id(
            f"INSERT INTO {q('mk_owner_' + s)} (email) VALUES ({p(1)})", ["o@x"]
        )
        key = db.dialect.to_db(uuid.uuid4(), "uuid")
        data = db.dialect.to_db({}, "json")
        await db.execute(
            f"INSERT INTO {q('mk_thing_' + s)} (owner_id, {q('key')}, data) VALUES ({p(1)}, {p(2)}, {p(3)})",
            [owner, key, data],
        )
        row = await db.fetch_one(
            f"SELECT label, big, active, price, day, shade FROM {q('mk_thing_' + s)}"
        )
        assert row is not None
        d = db.dialect
        assert (row["label"], row["big"], d.from_db(row["active"], "bool")) == ("it's", 2**30, True)
        assert d.from_db(row["price"], "decimal") == decimal.Decimal("9.99")
        assert d.from_db(row["day"], "date") == dt.date(2024, 1, 31)
        assert row["shade"] == "dark"
    finally:
        await migrator.downgrade("zero")


def models_int_keys(s: str, big: bool | None, bound: Any = None) -> list[type[Model]]:
    class Parent(Model):
        id: int = Field(primary_key=True, big=big)
        name: str = Field(max_length=50)

        class Meta:
            table = f"mw_parent_{s}"
            database = bound

    class Kid(Model):
        id: int = Field(primary_key=True, big=big)
        parent: ForeignKey[Parent] = Field(on_delete="cascade")

        class Meta:
            table = f"mw_kid_{s}"
            database = bound

    Kid.__annotations__["parent"] = ForeignKey[Parent]
    return [Parent, Kid]


async def _reset_auto_increment(db: Database, table: str) -> None:
    """Move the table's id counter back to its highest id (after deleting 64-bit ids)."""
    q = db.dialect.quote
    if db.dialect.name == "postgresql":
        await db.execute(
            f"SELECT setval(pg_get_serial_sequence('{q(table)}', 'id'), "
            f"(SELECT COALESCE(MAX(id), 1) FROM {q(table)}))"
        )
    elif db.dialect.name == "mysql":
        await db.execute(f"ALTER TABLE {q(table)} AUTO_INCREMENT = 1")  # becomes MAX(id) + 1


async def test_widening_32_bit_auto_keys_to_bigint(db: Database, tmp_path: Path) -> None:
    # Projects whose first migration predates 64-bit auto keys get an AlterColumn for
    # each key and foreign key, which applies with rows (and the reference) in place,
    # and reverts with them too. MySQL/MariaDB drop and re-create the foreign key.
    s = uuid.uuid4().hex[:6]
    q, p = db.dialect.quote, db.dialect.placeholder
    migrator = Migrator(db, tmp_path / "migrations")
    migrator.make(models_int_keys(s, big=False))
    await migrator.migrate()
    parent, kid = q(f"mw_parent_{s}"), q(f"mw_kid_{s}")
    insert_kid = f"INSERT INTO {kid} (parent_id) VALUES ({p(1)})"
    pid = await db.insert_returning_id(f"INSERT INTO {parent} (name) VALUES ({p(1)})", ["a"])
    await db.execute(insert_kid, [pid])
    path = migrator.make(models_int_keys(s, big=None))
    assert path is not None and "AlterColumn" in path.read_text()
    if db.dialect.name == "mysql":  # sqlmigrate shows the foreign key going and coming back
        fk = q(f"mw_kid_{s}_parent_id_fk")
        for sql in (migrator.sql(path.stem), migrator.sql(path.stem, backwards=True)):
            assert sql.count(f"ALTER TABLE {kid} DROP FOREIGN KEY {fk}") == 1
            [add] = [stmt for stmt in sql if stmt.startswith(f"ALTER TABLE {kid} ADD")]
            assert add.startswith(f"ALTER TABLE {kid} ADD CONSTRAINT {fk} FOREIGN KEY")
            assert add.endswith("ON DELETE CASCADE")
            modify = [i for i, x in enumerate(sql) if x.startswith(f"ALTER TABLE {parent} MODIFY")]
            modify += [i for i, x in enumerate(sql) if "MODIFY COLUMN `parent_id`" in x]
            assert len(modify) == 2 and sql.index(add) > max(modify)
    assert await migrator.migrate() == [path.stem]
    try:
        assert migrator.make(models_int_keys(s, big=None)) is None  # nothing left to change
        big_id = 2**31 + 7
        await db.execute(f"INSERT INTO {parent} (id, name) VALUES ({p(1)}, {p(2)})", [big_id, "b"])
        await db.execute(insert_kid, [big_id])  # the same SQL text as before the ALTER
        count_kids = f"SELECT COUNT(*) FROM {kid} WHERE parent_id = {p(1)}"
        assert await db.fetch_val(count_kids, [big_id]) == 1
        with pytest.raises(ForeignKeyViolation):  # the foreign key is back
            await db.execute(insert_kid, [big_id + 1])
        await db.execute(f"DELETE FROM {parent} WHERE id = {p(1)}", [big_id])
        assert await db.fetch_val(f"SELECT COUNT(*) FROM {kid}") == 1  # and still cascades
        if db.dialect.name == "postgresql":  # explicit ids do not move the sequence
            await db.execute(
                f"SELECT setval(pg_get_serial_sequence('{parent}', 'id'), {p(1)})", [big_id]
            )
        next_id = await db.insert_returning_id(
            f"INSERT INTO {parent} (name) VALUES ({p(1)})", ["c"]
        )
        assert next_id > big_id
        await db.execute(f"DELETE FROM {parent} WHERE id = {p(1)}", [next_id])
        await _reset_auto_increment(db, f"mw_parent_{s}")

        # back to 32 bits, with the first rows in place
        assert await migrator.downgrade("0001") == [path.stem]
        assert migrator.make(models_int_keys(s, big=False)) is not None  # history vs models
        assert await db.fetch_val(f"SELECT parent_id FROM {kid}") == pid
        with pytest.raises(ForeignKeyViolation):
            await db.execute(insert_kid, [pid + 1000])
        await db.execute(insert_kid, [pid])
        await db.execute(f"DELETE FROM {parent} WHERE id = {p(1)}", [pid])
        assert await db.fetch_val(f"SELECT COUNT(*) FROM {kid}") == 0
    finally:
        await db.execute(f"DELETE FROM {kid}")
        await db.execute(f"DELETE FROM {parent}")  # 64-bit ids do not fit the old columns
        await _reset_auto_increment(db, f"mw_parent_{s}")
        await migrator.downgrade("zero")


async def test_pooled_connections_use_the_new_types_after_migrating(
    backend: str, tmp_path: Path
) -> None:
    # Statements prepared before the migration, on every pooled connection, run again
    # with the new column types: ORM queries and raw SQL, in and out of transactions
    # (asyncpg caches statements with the types of the schema they were prepared for).
    s = uuid.uuid4().hex[:6]
    db = Database(backend, alias=f"mig-pool-{s}", min_size=2, max_size=2)
    try:
        async with db:
            q, p = db.dialect.quote, db.dialect.placeholder
            kid = q(f"mw_kid_{s}")
            insert = f"INSERT INTO {kid} (parent_id) VALUES ({p(1)})"
            select = f"SELECT id, parent_id FROM {kid} WHERE parent_id = {p(1)}"
            migrator = Migrator(db, tmp_path / "migrations")
            migrator.make(models_int_keys(s, big=False))
            await migrator.migrate()

            async def on_each_connection(work: Any) -> None:
                barrier = asyncio.Barrier(2)  # both connections held at once

                async def one(n: int) -> None:
                    async with db.connection():
                        await barrier.wait()
                        await work(n)

                await asyncio.gather(one(0), one(1))
                assert len(db.primary_pool.connections()) == 2

            old_parent, old_kid = models_int_keys(s, big=False, bound=db)

            async def before(n: int) -> None:
                await old_parent.objects.create(id=1000 + n, name="a")
                await old_kid.objects.create(parent_id=1000 + n)
                await db.execute(insert, [1000 + n])
                assert await old_kid.objects.filter(parent_id=1000 + n).count() == 2
                async with db.transaction():
                    assert len(await db.fetch_all(select, [1000 + n])) == 2

            await on_each_connection(before)
            migrator.make(models_int_keys(s, big=None))
            await migrator.migrate()
            new_parent, new_kid = models_int_keys(s, big=None, bound=db)

            async def after(n: int) -> None:
                async with db.transaction():  # the result type changed: no retry possible here
                    rows = await db.fetch_all(select, [1000 + n])
                    assert [r["parent_id"] for r in rows] == [1000 + n] * 2
                big_id = 2**31 + n
                await new_parent.objects.create(id=big_id, name="b")
                await new_kid.objects.create(parent_id=big_id)
                async with db.transaction():
                    await db.execute(insert, [big_id])
                    assert await new_kid.objects.filter(parent_id=big_id).count() == 2
                rows = await db.fetch_all(select, [big_id])
                assert [r["parent_id"] for r in rows] == [big_id] * 2

            await on_each_connection(after)
            await db.execute(f"DELETE FROM {kid}")
            await db.execute(f"DELETE FROM {q(f'mw_parent_{s}')}")
            await _reset_auto_increment(db, f"mw_parent_{s}")
            await migrator.downgrade("zero")
    finally:
        db.unregister()


async def test_altering_a_non_key_column_that_a_foreign_key_references(
    db: Database, tmp_path: Path
) -> None:
    # The ORM's foreign keys point at primary keys; hand-written migrations may point a
    # ForeignKeySpec at any unique column. Widening it (and the referencing column)
    # keeps the rows, the constraint and its ON DELETE rule, both ways.
    s = uuid.uuid4().hex[:6]
    d = db.dialect
    q, p = d.quote, d.placeholder
    directory = tmp_path / "migrations"
    directory.mkdir()
    sku, line = f"mr_sku_{s}", f"mr_line_{s}"
    (directory / "0001_initial.py").write_text(
        f"""from covet.db.dialects import ColumnSpec, ForeignKeySpec
from covet.orm.migrations import CreateTable

dependencies = []
operations = [
    CreateTable({sku!r}, [
        ColumnSpec("id", "bigint", primary_key=True, auto_increment=True, nullable=False, big=True),
        ColumnSpec("code", "str", max_length=10, nullable=False, unique=True),
    ]),
    CreateTable({line!r}, [
        ColumnSpec("id", "bigint", primary_key=True, auto_increment=True, nullable=False, big=True),
        ColumnSpec("sku_code", "str", max_length=10, references=ForeignKeySpec({sku!r}, "code", "set_null")),
    ]),
]
"""
    )
    (directory / "0002_widen.py").write_text(
        f"""from covet.db.dialects import ColumnSpec, ForeignKeySpec
from covet.orm.migrations import AlterColumn

dependencies = ["0001_initial"]
operations = [
    AlterColumn({sku!r}, ColumnSpec("code", "str", max_length=40, nullable=False, unique=True)),
    AlterColumn({line!r}, ColumnSpec("sku_code", "str", max_length=40, references=ForeignKeySpec({sku!r}, "code", "set_null"))),
]
"""
    )
    migrator = Migrator(db, directory)
    fk = d.foreign_key_name(line, "sku_code")
    if d.name == "mysql":  # the referencing foreign key goes around each change
        sql = migrator.sql("0002")
        assert sql.count(f"ALTER TABLE {q(line)} DROP FOREIGN KEY {q(fk)}") == 2
        adds = [x for x in sql if x.startswith(f"ALTER TABLE {q(line)} ADD CONSTRAINT {q(fk)}")]
        assert len(adds) == 2 and all(x.endswith("ON DELETE SET NULL") for x in adds)
    assert await migrator.migrate("0001") == ["0001_initial"]
    insert_sku = f"INSERT INTO {q(sku)} (code) VALUES ({p(1)})"
    insert_line = f"INSERT INTO {q(line)} (sku_code) VALUES ({p(1)})"
    await db.execute(insert_sku, ["short"])
    await db.execute(insert_line, ["short"])
    try:
        assert await migrator.migrate() == ["0002_widen"]
        long_code = "c" * 40
        await db.execute(insert_sku, [long_code])
        await db.execute(insert_line, [long_code])
        with pytest.raises(ForeignKeyViolation):
            await db.execute(insert_line, ["missing"])
        await db.execute(f"DELETE FROM {q(sku)} WHERE code = {p(1)}", [long_code])
        assert await db.fetch_val(f"SELECT COUNT(*) FROM {q(line)} WHERE sku_code IS NULL") == 1

        if d.name == "mysql":  # a failure half-way says what was applied and what was not
            await db.execute(insert_sku, [long_code])
            await db.execute(insert_line, [long_code])
            with pytest.raises(MigrationError) as info:
                await migrator.downgrade("0001")  # 40 characters do not fit in 10
            message = str(info.value)
            [add] = d.add_foreign_key_sql(line, "sku_code", ForeignKeySpec(sku, "code", "set_null"))
            assert "applied statements of this operation:" in message
            assert f"DROP FOREIGN KEY {q(fk)}" in message.split("did not run")[0]
            assert add in message.split("did not run")[1]
            await db.execute(add)  # put the foreign key back, fix the data, downgrade again
            await db.execute(f"DELETE FROM {q(line)} WHERE sku_code = {p(1)}", [long_code])
            await db.execute(f"DELETE FROM {q(sku)} WHERE code = {p(1)}", [long_code])

        assert await migrator.downgrade("0001") == ["0002_widen"]
        with pytest.raises(ForeignKeyViolation):
            await db.execute(insert_line, ["missing"])
        await db.execute(f"DELETE FROM {q(sku)} WHERE code = {p(1)}", ["short"])
        assert await db.fetch_val(f"SELECT COUNT(*) FROM {q(line)} WHERE sku_code IS NULL") == 2
    finally:
        await db.execute(f"DELETE FROM {q(line)}")
        await db.execute(f"DELETE FROM {q(sku)}")
        await migrator.downgrade("zero")
