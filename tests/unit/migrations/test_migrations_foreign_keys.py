"""Type changes of columns that foreign keys use, per dialect (SQL only, no database)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from covet.db import Database
from covet.db.dialects import ColumnSpec, ForeignKeySpec, get_dialect
from covet.orm.migrations import (
    AlterColumn,
    MigrationError,
    Migrator,
    Operation,
    ProjectState,
    RemoveColumn,
    TableState,
    detect_changes,
)

MYSQL = get_dialect("mysql")


def pk(big: bool) -> ColumnSpec:
    kind = "bigint" if big else "int"
    return ColumnSpec("id", kind, primary_key=True, auto_increment=True, nullable=False, big=big)


def fk(name: str, table: str, big: bool, on_delete: str = "cascade") -> ColumnSpec:
    kind = "bigint" if big else "int"
    return ColumnSpec(
        name, kind, nullable=on_delete == "set_null", big=big,
        references=ForeignKeySpec(table, "id", on_delete),
    )  # fmt: skip


def schema(big: bool) -> ProjectState:
    tables = [
        TableState("p", {"id": pk(big)}),
        TableState("k", {"id": pk(big), "p_id": fk("p_id", "p", big)}),
        TableState("n", {"id": pk(big), "up_id": fk("up_id", "n", big, "set_null")}),
    ]
    return ProjectState({t.name: t for t in tables})


def sql(
    ops: list[Operation], start: ProjectState, dialect_name: str = "mysql"
) -> tuple[list[str], list[str]]:
    """The statements of ``ops`` forwards and backwards (in reverse order), from ``start``."""
    dialect = get_dialect(dialect_name)
    states = [start]
    for op in ops:
        nxt = states[-1].clone()
        op.state_forwards(nxt)
        states.append(nxt)
    forwards = [
        s for i, op in enumerate(ops) for s in op.forwards_sql(dialect, states[i], states[i + 1])
    ]
    backwards = [
        s
        for i, op in reversed(list(enumerate(ops)))
        for s in op.backwards_sql(dialect, states[i], states[i + 1])
    ]
    return forwards, backwards


DROP_K = "ALTER TABLE `k` DROP FOREIGN KEY `k_p_id_fk`"
ADD_K = (
    "ALTER TABLE `k` ADD CONSTRAINT `k_p_id_fk` FOREIGN KEY (`p_id`) REFERENCES `p` (`id`) "
    "ON DELETE CASCADE"
)
DROP_N = "ALTER TABLE `n` DROP FOREIGN KEY `n_up_id_fk`"
ADD_N = (
    "ALTER TABLE `n` ADD CONSTRAINT `n_up_id_fk` FOREIGN KEY (`up_id`) REFERENCES `n` (`id`) "
    "ON DELETE SET NULL"
)


def test_mysql_widening_keys_drops_and_recreates_their_foreign_keys() -> None:
    ops = detect_changes(schema(False), schema(True)).operations
    assert [(type(o).__name__, o.describe()) for o in ops] == [
        ("AlterColumn", "alter column k.id"),
        ("AlterColumn", "alter column k.p_id"),
        ("AlterColumn", "alter column n.id"),
        ("AlterColumn", "alter column n.up_id"),
        ("AlterColumn", "alter column p.id"),
    ]
    forwards, backwards = sql(ops, schema(False))
    assert forwards == [
        "ALTER TABLE `k` MODIFY COLUMN `id` BIGINT AUTO_INCREMENT NOT NULL",
        DROP_K,  # k.p_id no longer matches p.id: its foreign key waits for p.id
        "ALTER TABLE `k` MODIFY COLUMN `p_id` BIGINT NOT NULL",
        DROP_N,  # a self-reference: the foreign key goes with the key...
        "ALTER TABLE `n` MODIFY COLUMN `id` BIGINT AUTO_INCREMENT NOT NULL",
        "ALTER TABLE `n` MODIFY COLUMN `up_id` BIGINT",
        ADD_N,  # ...and comes back with the second side
        "ALTER TABLE `p` MODIFY COLUMN `id` BIGINT AUTO_INCREMENT NOT NULL",
        ADD_K,
    ]
    assert backwards == [
        DROP_K,
        "ALTER TABLE `p` MODIFY COLUMN `id` INT AUTO_INCREMENT NOT NULL",
        DROP_N,
        "ALTER TABLE `n` MODIFY COLUMN `up_id` INT",
        "ALTER TABLE `n` MODIFY COLUMN `id` INT AUTO_INCREMENT NOT NULL",
        ADD_N,
        "ALTER TABLE `k` MODIFY COLUMN `p_id` INT NOT NULL",
        ADD_K,
        "ALTER TABLE `k` MODIFY COLUMN `id` INT AUTO_INCREMENT NOT NULL",
    ]


def test_mysql_key_first_then_foreign_key() -> None:
    ops: list[Operation] = [AlterColumn("p", pk(True)), AlterColumn("k", fk("p_id", "p", True))]
    forwards, backwards = sql(ops, schema(False))
    assert forwards == [
        DROP_K,
        "ALTER TABLE `p` MODIFY COLUMN `id` BIGINT AUTO_INCREMENT NOT NULL",
        "ALTER TABLE `k` MODIFY COLUMN `p_id` BIGINT NOT NULL",
        ADD_K,
    ]
    assert backwards == [
        DROP_K,
        "ALTER TABLE `k` MODIFY COLUMN `p_id` INT NOT NULL",
        "ALTER TABLE `p` MODIFY COLUMN `id` INT AUTO_INCREMENT NOT NULL",
        ADD_K,
    ]


def test_other_backends_alter_in_place() -> None:
    ops = detect_changes(schema(False), schema(True)).operations
    forwards, backwards = sql(ops, schema(False), "postgresql")
    assert not [s for s in forwards + backwards if "CONSTRAINT" in s]
    assert 'ALTER TABLE "p" ALTER COLUMN "id" TYPE BIGINT' in forwards


def test_mysql_changes_that_keep_the_type_keep_the_foreign_keys() -> None:
    start = schema(False)
    with_default = fk("p_id", "p", False).evolve(default=1)
    forwards, backwards = sql([AlterColumn("k", with_default)], start)
    assert forwards == ["ALTER TABLE `k` MODIFY COLUMN `p_id` INT NOT NULL DEFAULT 1"]
    assert backwards == ["ALTER TABLE `k` MODIFY COLUMN `p_id` INT NOT NULL"]
    # a new ON DELETE rule re-creates the column's own foreign key only
    restrict = fk("p_id", "p", False, "restrict")
    forwards, _ = sql([AlterColumn("k", restrict)], start)
    assert forwards == [
        DROP_K,
        "ALTER TABLE `k` MODIFY COLUMN `p_id` INT NOT NULL",
        ADD_K.replace("CASCADE", "RESTRICT"),
    ]


def test_mysql_string_keys_may_differ_in_length() -> None:
    code = ColumnSpec("code", "str", max_length=10, nullable=False, unique=True)
    ref = ColumnSpec("code_id", "str", max_length=10, references=ForeignKeySpec("s", "code"))
    start = ProjectState(
        {"s": TableState("s", {"code": code}), "l": TableState("l", {"code_id": ref})}
    )
    forwards, _ = sql([AlterColumn("s", code.evolve(max_length=40))], start)
    assert forwards == [
        "ALTER TABLE `l` DROP FOREIGN KEY `l_code_id_fk`",
        "ALTER TABLE `s` MODIFY COLUMN `code` VARCHAR(40) NOT NULL",
        "ALTER TABLE `l` ADD CONSTRAINT `l_code_id_fk` FOREIGN KEY (`code_id`) "
        "REFERENCES `s` (`code`) ON DELETE RESTRICT",
    ]


def test_mysql_removing_a_foreign_key_column_whose_constraint_waits() -> None:
    ops: list[Operation] = [AlterColumn("p", pk(True)), RemoveColumn("k", "p_id")]
    forwards, backwards = sql(ops, schema(False))
    assert forwards == [
        DROP_K,
        "ALTER TABLE `p` MODIFY COLUMN `id` BIGINT AUTO_INCREMENT NOT NULL",
        "ALTER TABLE `k` DROP COLUMN `p_id`",  # its foreign key is already gone
    ]
    assert backwards == [
        "ALTER TABLE `k` ADD COLUMN `p_id` INT NOT NULL",  # added back without it...
        "ALTER TABLE `p` MODIFY COLUMN `id` INT AUTO_INCREMENT NOT NULL",
        ADD_K,  # ...which comes back once the types match
    ]


def write(directory: Path, name: str, deps: list[str], ops: str) -> None:
    directory.mkdir(exist_ok=True)
    (directory / f"{name}.py").write_text(
        "from covet.db.dialects import ColumnSpec, ForeignKeySpec\n"
        "from covet.orm.migrations import AlterColumn, CreateTable\n\n"
        f"dependencies = {deps!r}\noperations = [{ops}]\n"
    )


@pytest.mark.parametrize("url", ["mysql://root@127.0.0.1/x", "postgresql://u@127.0.0.1/x"])
def test_a_migration_may_not_leave_a_foreign_key_of_another_type(tmp_path: Path, url: str) -> None:
    key = "ColumnSpec('id', 'int', primary_key=True, auto_increment=True, nullable=False)"
    ref = "ColumnSpec('p_id', 'int', nullable=False, references=ForeignKeySpec('p'))"
    write(
        tmp_path, "0001_initial", [], f"CreateTable('p', [{key}]), CreateTable('k', [{key}, {ref}])"
    )
    widened = "ColumnSpec('id', 'bigint', primary_key=True, auto_increment=True, nullable=False, big=True)"
    write(tmp_path, "0002_widen", ["0001_initial"], f"AlterColumn('p', {widened})")
    db = Database(url, alias=f"fk-{uuid.uuid4().hex[:8]}")
    try:
        migrator = Migrator(db, tmp_path)
        if db.dialect.name == "mysql":
            with pytest.raises(MigrationError, match=r"k\.p_id \(INT\) -> p\.id \(BIGINT"):
                migrator.sql("0002")
            with pytest.raises(MigrationError, match="alter both in one migration"):
                migrator.sql("0002", backwards=True)
        else:  # PostgreSQL compares integers of any width
            assert 'ALTER TABLE "p" ALTER COLUMN "id" TYPE BIGINT' in migrator.sql("0002")
    finally:
        db.unregister()


def test_sqlmigrate_prints_the_foreign_keys_around_the_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from covet.cli.db import main

    key = "ColumnSpec('id', 'int', primary_key=True, auto_increment=True, nullable=False)"
    ref = "ColumnSpec('p_id', 'int', nullable=False, references=ForeignKeySpec('p'))"
    write(
        tmp_path, "0001_initial", [], f"CreateTable('p', [{key}]), CreateTable('k', [{key}, {ref}])"
    )
    widened = key.replace("'int'", "'bigint'").replace(")", ", big=True)")
    write(tmp_path, "0002_widen", ["0001_initial"], f"AlterColumn('p', {widened})")
    args = ["--migrations", str(tmp_path), "--database", "mysql://root@127.0.0.1/x"]
    assert main(["sqlmigrate", "0002", *args]) == 1  # k.p_id is left behind
    assert "k.p_id (INT) -> p.id (BIGINT AUTO_INCREMENT)" in capsys.readouterr().err

    with_fk = ref.replace("'int'", "'bigint'").replace("nullable=False", "nullable=False, big=True")
    write(
        tmp_path,
        "0002_widen",
        ["0001_initial"],
        f"AlterColumn('p', {widened}), AlterColumn('k', {with_fk})",
    )
    assert main(["sqlmigrate", "0002", *args]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "-- alter column p.id",
        f"{DROP_K};",
        "ALTER TABLE `p` MODIFY COLUMN `id` BIGINT AUTO_INCREMENT NOT NULL;",
        "-- alter column k.p_id",
        "ALTER TABLE `k` MODIFY COLUMN `p_id` BIGINT NOT NULL;",
        f"{ADD_K.replace('CASCADE', 'RESTRICT')};",
    ]
