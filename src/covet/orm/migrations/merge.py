"""Merging branches of a migration history: what each branch changes, and conflicts.

Two developers each add a migration after the same one: the history has two leaves.
A merge migration depends on every leaf and has no operations. Before writing it,
``merge_conflicts`` compares, for each pair of leaves, the operations of the
migrations that only one of the two has (everything since their common ancestors).
Each operation names the schema objects it changes (a table, or one column, index or
unique constraint of a table) and those it relies on (the columns an index covers,
the column a foreign key points at). Two operations conflict when one changes an
object the other changes or relies on, a table counting as every object in it: both
alter, rename or remove the same column, both create the same table, one drops or
renames a table the other alters, one removes a column the other indexes... Adding
different columns, indexes or tables in each branch does not conflict.

``RunSQL`` and ``RunPython`` are opaque (what they touch is unknown): they never
conflict here, so review them by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

from covet.orm.migrations.loader import Migration, ancestors, leaves, replay
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
from covet.orm.migrations.state import MigrationError

__all__ = ("Conflict", "branches", "check_mergeable", "merge_conflicts", "touches")

#: a schema object: ``(table,)`` or ``(table, "column:x" | "index:x" | "unique:a,b")``;
#: ``("", "index:x")`` is an index name, whatever its table
Key = tuple[str, ...]


def _column(table: str, name: str) -> Key:
    return (table, f"column:{name}")


def touches(op: Operation) -> tuple[set[Key], set[Key]]:
    """``(changed, relied_on)``: the schema objects ``op`` changes and those it needs."""
    changed: set[Key] = set()
    needed: set[Key] = set()
    if isinstance(op, CreateTable):
        changed.add((op.name,))
        needed |= {
            _column(c.references.table, c.references.column)
            for c in op.columns
            if c.references is not None and c.references.table != op.name
        }
    elif isinstance(op, DropTable):
        changed.add((op.name,))
    elif isinstance(op, RenameTable):
        changed |= {(op.old,), (op.new,)}
    elif isinstance(op, (AddColumn, AlterColumn)):
        changed.add(_column(op.table, op.column.name))
        ref = op.column.references
        if ref is not None and ref.table != op.table:
            needed.add(_column(ref.table, ref.column))
    elif isinstance(op, RemoveColumn):
        changed.add(_column(op.table, op.name))
    elif isinstance(op, RenameColumn):
        changed |= {_column(op.table, op.old), _column(op.table, op.new)}
    elif isinstance(op, AddIndex):  # index names are per schema on PostgreSQL and SQLite
        changed |= {(op.index.table, f"index:{op.index.name}"), ("", f"index:{op.index.name}")}
        needed |= {_column(op.index.table, c) for c in op.index.columns}
    elif isinstance(op, RemoveIndex):
        changed |= {(op.table, f"index:{op.name}"), ("", f"index:{op.name}")}
    elif isinstance(op, (AddUnique, RemoveUnique)):
        changed.add((op.table, f"unique:{','.join(op.columns)}"))
        needed |= {_column(op.table, c) for c in op.columns}
    return changed, needed


def _overlap(a: set[Key], b: set[Key]) -> bool:
    """Whether a key of ``a`` is a key of ``b`` or contains it (a table holds its columns)."""
    return any(x[: len(y)] == y or y[: len(x)] == x for x in a for y in b)


@dataclass(frozen=True)
class Conflict:
    """Two operations of different branches that change the same schema object."""

    first: str
    first_op: str
    second: str
    second_op: str

    def __str__(self) -> str:
        return f"{self.first}: {self.first_op}  <->  {self.second}: {self.second_op}"


def branches(migrations: list[Migration]) -> dict[str, list[Migration]]:
    """For each leaf: the migrations (in order) it has and another leaf has not."""
    ends = leaves(migrations)
    reach = {leaf.name: ancestors(migrations, leaf.name) for leaf in ends}
    out = {}
    for leaf in ends:
        others = set().union(*(reach[o.name] for o in ends if o is not leaf))
        out[leaf.name] = [m for m in migrations if m.name in reach[leaf.name] - others]
    return out


def merge_conflicts(migrations: list[Migration]) -> list[Conflict]:
    """Conflicting operations between every two branches of ``migrations`` (in order)."""
    ends = leaves(migrations)
    reach = {leaf.name: ancestors(migrations, leaf.name) for leaf in ends}
    found: list[Conflict] = []
    for i, a in enumerate(ends):
        for b in ends[i + 1 :]:
            only_a = [m for m in migrations if m.name in reach[a.name] - reach[b.name]]
            only_b = [m for m in migrations if m.name in reach[b.name] - reach[a.name]]
            for ma in only_a:
                for op_a in ma.operations:
                    changed_a, needed_a = touches(op_a)
                    for mb in only_b:
                        for op_b in mb.operations:
                            changed_b, needed_b = touches(op_b)
                            if _overlap(changed_a, changed_b | needed_b) or _overlap(
                                changed_b, needed_a
                            ):
                                conflict = Conflict(
                                    ma.name, op_a.describe(), mb.name, op_b.describe()
                                )
                                if conflict not in found:
                                    found.append(conflict)
    return found


def check_mergeable(migrations: list[Migration]) -> None:
    """Raise ``MigrationError`` when the branches of ``migrations`` cannot be merged."""
    conflicts = merge_conflicts(migrations)
    if conflicts:
        names = sorted({c.first for c in conflicts} | {c.second for c in conflicts})
        raise MigrationError(
            f"cannot merge: migrations {names} change the same schema objects:\n"
            + "".join(f"  {c}\n" for c in conflicts)
            + "resolve it by hand: add the other branch's last migration to the "
            "`dependencies` of one of them and adjust its operations, so that the history "
            "is linear again"
        )
    try:
        replay(migrations)
    except MigrationError as exc:
        raise MigrationError(f"cannot merge: the branches do not apply together: {exc}") from None
