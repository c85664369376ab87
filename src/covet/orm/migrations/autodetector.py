"""Diff two ``ProjectState``s into operations (never touches a database).

The passes run in an order that keeps every intermediate state valid:

1. renamed tables (only when unambiguous: exactly one dropped and one new table with
   identical columns),
2. new tables, referenced tables first,
3. per table: dropped indexes and unique constraints, renamed columns (only when
   unambiguous: exactly one dropped and one new column in the table with the same
   definition apart from the name), dropped, added and altered columns, then new
   unique constraints and indexes,
4. dropped tables, referencing tables first.

A rename that is not certain becomes a drop and an add, and ``notes`` says so (the
writer puts the notes in the migration file as comments, for review).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from covet.db.dialects.schema import ColumnSpec
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
from covet.orm.migrations.state import ProjectState, TableState

__all__ = ("Changes", "detect_changes")


@dataclass
class Changes:
    """The operations that turn one state into another, and notes for the reviewer."""

    operations: list[Operation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.operations)


def _without_name(spec: ColumnSpec) -> ColumnSpec:
    return spec.evolve(name="_")


def _creation_order(tables: list[TableState]) -> list[TableState]:
    names = {t.name for t in tables}
    by_name = {t.name: t for t in tables}
    ordered: list[TableState] = []
    done: set[str] = set()

    def visit(t: TableState, stack: set[str]) -> None:
        if t.name in done or t.name in stack:
            return
        stack.add(t.name)
        for ref in sorted(t.references() & names):
            visit(by_name[ref], stack)
        stack.discard(t.name)
        done.add(t.name)
        ordered.append(t)

    for t in sorted(tables, key=lambda t: t.name):
        visit(t, set())
    return ordered


def detect_changes(before: ProjectState, after: ProjectState) -> Changes:
    """The operations turning ``before`` into ``after``."""
    changes = Changes()
    ops = changes.operations
    old_names = set(before.tables) - set(after.tables)
    new_names = set(after.tables) - set(before.tables)

    # 1. table renames, when there is exactly one candidate each way
    renamed: dict[str, str] = {}
    for old in sorted(old_names):
        candidates = [
            n for n in new_names if _same_shape_renamed(before.tables[old], after.tables[n])
        ]
        if len(candidates) == 1:
            back = [
                o
                for o in old_names
                if _same_shape_renamed(before.tables[o], after.tables[candidates[0]])
            ]
            if len(back) == 1:
                renamed[old] = candidates[0]
    working = before.clone()
    for old, new in sorted(renamed.items()):
        op = RenameTable(old, new)
        op.state_forwards(working)
        ops.append(op)
        changes.notes.append(f"{old} -> {new} detected as a table rename (same columns)")
    old_names -= set(renamed)
    new_names -= set(renamed.values())

    # 2. new tables
    for t in _creation_order([after.tables[n] for n in new_names]):
        ops.append(
            CreateTable(
                t.name, t.column_list(), unique_together=t.unique_together, indexes=t.index_list()
            )
        )

    # 3. changed tables
    for name in sorted(set(working.tables) & set(after.tables)):
        _diff_table(working.tables[name], after.tables[name], changes)

    # 4. dropped tables, dependents first
    for t in reversed(_creation_order([working.tables[n] for n in old_names])):
        ops.append(DropTable(t.name))
    return changes


def _same_shape_renamed(a: TableState, b: TableState) -> bool:
    """Identical columns (foreign keys to the renamed table aside) and constraints."""
    if list(a.columns) != list(b.columns):
        return False
    for ca, cb in zip(a.columns.values(), b.columns.values(), strict=True):
        if ca.references is not None and cb.references is not None:
            ca = ca.evolve(references=None)
            cb = cb.evolve(references=None)
        if ca != cb:
            return False
    return sorted(a.unique_together) == sorted(b.unique_together)


def _diff_table(old: TableState, new: TableState, changes: Changes) -> None:
    ops = changes.operations
    table = new.name
    dropped_cols = [c for c in old.columns if c not in new.columns]
    added_cols = [c for c in new.columns if c not in old.columns]

    # a dropped and an added column with the same definition are a rename, when that
    # pairing is the only possible one both ways
    renames: dict[str, str] = {}
    for d in dropped_cols:
        spec = _without_name(old.columns[d])
        candidates = [a for a in added_cols if _without_name(new.columns[a]) == spec]
        if len(candidates) == 1:
            back = [
                x
                for x in dropped_cols
                if _without_name(old.columns[x]) == _without_name(new.columns[candidates[0]])
            ]
            if len(back) == 1:
                renames[d] = candidates[0]
    left_dropped = [c for c in dropped_cols if c not in renames]
    left_added = [c for c in added_cols if c not in renames.values()]
    if left_dropped and left_added:
        changes.notes.append(
            f"{table}: columns {', '.join(left_dropped)} dropped and {', '.join(left_added)} added; "
            "if that is a rename, replace the pair with RenameColumn to keep the data"
        )

    def renamed(col: str) -> str:
        return renames.get(col, col)

    # indexes and unique constraints are compared after applying the rename
    old_indexes = {
        name: tuple(renamed(c) for c in idx.columns) for name, idx in old.indexes.items()
    }
    for name, idx in old.indexes.items():
        still = new.indexes.get(name)
        if still is None or tuple(still.columns) != old_indexes[name] or still.unique != idx.unique:
            ops.append(RemoveIndex(table, name))
    old_uniques = {tuple(renamed(c) for c in g) for g in old.unique_together}
    new_uniques = {tuple(g) for g in new.unique_together}
    for group in old.unique_together:
        if tuple(renamed(c) for c in group) not in new_uniques:
            ops.append(RemoveUnique(table, group))

    for old_name, new_name in renames.items():
        ops.append(RenameColumn(table, old_name, new_name))
        changes.notes.append(f"{table}.{old_name} -> {new_name} detected as a column rename")
    for col in left_dropped:
        ops.append(RemoveColumn(table, col))
    for col in left_added:
        spec = new.columns[col]
        if not spec.nullable and not spec.has_default and not spec.auto_increment:
            changes.notes.append(
                f"{table}.{col} is NOT NULL without a default: adding it fails if the table "
                "has rows (give it a default or make it nullable)"
            )
        ops.append(AddColumn(table, spec))
    previous = {
        renamed(name): spec.evolve(name=renamed(name)) for name, spec in old.columns.items()
    }
    for col, spec in new.columns.items():
        before_col = previous.get(col)
        if before_col is not None and before_col != spec:
            if before_col.nullable and not spec.nullable:
                changes.notes.append(
                    f"{table}.{col} becomes NOT NULL: the migration fails if rows hold NULL "
                    "(fill them first, e.g. with a RunSQL or RunPython operation)"
                )
            ops.append(AlterColumn(table, spec))

    for group in new.unique_together:
        if tuple(group) not in old_uniques:
            ops.append(AddUnique(table, group))
    for name, idx in new.indexes.items():
        prior = old.indexes.get(name)
        if prior is None or old_indexes[name] != tuple(idx.columns) or prior.unique != idx.unique:
            ops.append(AddIndex(idx))
