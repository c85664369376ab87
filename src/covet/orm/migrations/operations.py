"""Schema migration operations (``special.py`` holds RunSQL and RunPython).

Each operation changes the state (``state_forwards``, pure) and gives the SQL that
applies it or reverts it on a dialect (``forwards_sql`` / ``backwards_sql``, computed
from the states before and after it, so the executor and the autodetector are tested
apart). ``RunPython`` runs code instead of SQL. ``source()`` renders the operation as
the Python that the migration writer puts in a file.

Foreign keys on MySQL/MariaDB (``Dialect.alter_type_drops_foreign_keys``): a column's
type cannot change while a foreign key uses it, so ``AlterColumn`` drops the foreign
keys of the column and those pointing at it (known from the state, with their
deterministic names and ``ON DELETE`` rules), alters the column and re-creates them.
A foreign key also needs matching types on both sides (``foreign_key_types_match``):
while a migration widens a key and its foreign keys one ``AlterColumn`` at a time, a
constraint whose two columns do not match yet does not exist in the database, and the
``AlterColumn`` that makes them match re-creates it. Every operation reads the state
that way (``foreign_key_exists``); a migration may not end with mismatched types
(``foreign_key_mismatches``, checked by the executor).
"""

from __future__ import annotations

from collections.abc import Sequence

from covet.db.dialects import Dialect
from covet.db.dialects.schema import ColumnSpec, ForeignKeySpec, IndexSpec
from covet.orm.migrations.serializer import render_column, render_index, render_value
from covet.orm.migrations.state import MigrationError, ProjectState, TableState

__all__ = (
    "AddColumn",
    "AddIndex",
    "AddUnique",
    "AlterColumn",
    "CreateTable",
    "DropTable",
    "Operation",
    "RemoveColumn",
    "RemoveIndex",
    "RemoveUnique",
    "RenameColumn",
    "RenameTable",
    "foreign_key_exists",
    "foreign_key_mismatches",
)


def foreign_key_exists(dialect: Dialect, state: ProjectState, column: ColumnSpec) -> bool:
    """Whether ``column``'s foreign key constraint exists in the database at ``state``.

    It does when the column has one and the dialect accepts the two columns' types
    (always, except on MySQL/MariaDB while only one side of a key has been retyped).
    A target outside the state (not created by migrations) counts as matching.
    """
    ref = column.references
    if ref is None:
        return False
    table = state.tables.get(ref.table)
    target = None if table is None else table.columns.get(ref.column)
    return target is None or dialect.foreign_key_types_match(column, target)


def foreign_key_mismatches(dialect: Dialect, state: ProjectState) -> list[str]:
    """The foreign keys of ``state`` that cannot exist on ``dialect`` (types differ)."""
    out = []
    for table in state.tables.values():
        for column in table.columns.values():
            ref = column.references
            if ref is not None and not foreign_key_exists(dialect, state, column):
                target = state.tables[ref.table].columns[ref.column]
                out.append(
                    f"{table.name}.{column.name} ({dialect.column_sql_type(column)}) -> "
                    f"{ref.table}.{ref.column} ({dialect.column_sql_type(target)})"
                )
    return out


def _existing(dialect: Dialect, state: ProjectState, column: ColumnSpec) -> ColumnSpec:
    """``column`` without its foreign key when that does not exist at ``state``."""
    if column.references is None or foreign_key_exists(dialect, state, column):
        return column
    return column.evolve(references=None)


def _referencing(state: ProjectState, table: str, column: str) -> list[tuple[str, ColumnSpec]]:
    """``(table, column)`` of every foreign key in ``state`` pointing at ``table.column``."""
    return [
        (t.name, c)
        for t in state.tables.values()
        for c in t.columns.values()
        if c.references is not None
        and c.references.table == table
        and c.references.column == column
    ]


class Operation:
    """Base class: subclasses implement the state change and the SQL both ways."""

    reversible = True
    #: tables whose SQLite rebuild needs ``PRAGMA foreign_keys = OFF``
    rebuilds_table = False

    def state_forwards(self, state: ProjectState) -> None:
        raise NotImplementedError

    def forwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        raise NotImplementedError

    def backwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        """SQL that turns ``after`` back into ``before``."""
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def source(self) -> str:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.describe()}>"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]


# -- tables ---------------------------------------------------------------------------


class CreateTable(Operation):
    """Create a table with its columns, unique constraints and indexes."""

    def __init__(
        self,
        name: str,
        columns: Sequence[ColumnSpec],
        *,
        unique_together: Sequence[Sequence[str]] = (),
        indexes: Sequence[IndexSpec] = (),
    ) -> None:
        self.name = name
        self.columns = list(columns)
        self.unique_together = [tuple(g) for g in unique_together]
        self.indexes = list(indexes)

    def state_forwards(self, state: ProjectState) -> None:
        if self.name in state.tables:
            raise MigrationError(f"CreateTable: table {self.name!r} already exists")
        state.tables[self.name] = TableState(
            self.name,
            {c.name: c for c in self.columns},
            {i.name: i for i in self.indexes},
            list(self.unique_together),
        )

    def forwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        columns = [_existing(dialect, after, c) for c in self.columns]
        return dialect.create_table_sql(
            self.name, columns, unique_together=self.unique_together, indexes=self.indexes
        )

    def backwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        return dialect.drop_table_sql(self.name)

    def describe(self) -> str:
        return f"create table {self.name}"

    def source(self) -> str:
        cols = "".join(f"            {render_column(c)},\n" for c in self.columns)
        out = f"CreateTable(\n        {self.name!r},\n        [\n{cols}        ],\n"
        if self.unique_together:
            out += f"        unique_together={render_value(self.unique_together)},\n"
        if self.indexes:
            idx = "".join(f"            {render_index(i)},\n" for i in self.indexes)
            out += f"        indexes=[\n{idx}        ],\n"
        return out + "    )"


class DropTable(Operation):
    """Drop a table (reverting recreates it empty, from the state before)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def state_forwards(self, state: ProjectState) -> None:
        state.table(self.name)
        del state.tables[self.name]

    def forwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        return dialect.drop_table_sql(self.name)

    def backwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        t = before.table(self.name)
        columns = [_existing(dialect, before, c) for c in t.column_list()]
        return dialect.create_table_sql(
            t.name, columns, unique_together=t.unique_together, indexes=t.index_list()
        )

    def describe(self) -> str:
        return f"drop table {self.name}"

    def source(self) -> str:
        return f"DropTable({self.name!r})"


class RenameTable(Operation):
    """Rename a table (and the foreign keys in the state that point at it)."""

    def __init__(self, old: str, new: str) -> None:
        self.old = old
        self.new = new

    def state_forwards(self, state: ProjectState) -> None:
        t = state.table(self.old)
        if self.new in state.tables:
            raise MigrationError(f"RenameTable: table {self.new!r} already exists")
        del state.tables[self.old]
        t.name = self.new
        state.tables[self.new] = t
        for other in state.tables.values():
            for name, col in list(other.columns.items()):
                if col.references is not None and col.references.table == self.old:
                    ref = ForeignKeySpec(
                        self.new,
                        col.references.column,
                        col.references.on_delete,
                        col.references.on_update,
                    )
                    other.columns[name] = col.evolve(references=ref)

    def forwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        return dialect.rename_table_sql(self.old, self.new)

    def backwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        return dialect.rename_table_sql(self.new, self.old)

    def describe(self) -> str:
        return f"rename table {self.old} to {self.new}"

    def source(self) -> str:
        return f"RenameTable({self.old!r}, {self.new!r})"


# -- columns --------------------------------------------------------------------------


class AddColumn(Operation):
    """Add a column (NOT NULL needs a default when the table has rows)."""

    def __init__(self, table: str, column: ColumnSpec) -> None:
        self.table = table
        self.column = column

    def state_forwards(self, state: ProjectState) -> None:
        t = state.table(self.table)
        if self.column.name in t.columns:
            raise MigrationError(f"AddColumn: {self.table}.{self.column.name} already exists")
        t.columns[self.column.name] = self.column

    def forwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        return dialect.add_column_sql(self.table, _existing(dialect, after, self.column))

    def backwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        t = before.table(self.table)
        return dialect.drop_column_sql(
            self.table,
            _existing(dialect, after, self.column),
            table_columns=t.column_list(),
            indexes=t.index_list(),
            unique_together=t.unique_together,
        )

    @property
    def rebuilds_table(self) -> bool:  # type: ignore[override]
        return self.column.references is not None

    def describe(self) -> str:
        return f"add column {self.table}.{self.column.name}"

    def source(self) -> str:
        return f"AddColumn({self.table!r}, {render_column(self.column)})"


class RemoveColumn(Operation):
    """Remove a column (reverting re-adds it, empty, from the state before)."""

    def __init__(self, table: str, name: str) -> None:
        self.table = table
        self.name = name

    def state_forwards(self, state: ProjectState) -> None:
        t = state.table(self.table)
        if self.name not in t.columns:
            raise MigrationError(f"RemoveColumn: {self.table}.{self.name} does not exist")
        del t.columns[self.name]

    def forwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        spec = _existing(dialect, before, before.table(self.table).columns[self.name])
        t = after.table(self.table)
        return dialect.drop_column_sql(
            self.table,
            spec,
            table_columns=t.column_list(),
            indexes=t.index_list(),
            unique_together=t.unique_together,
        )

    def backwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        spec = before.table(self.table).columns[self.name]
        return dialect.add_column_sql(self.table, _existing(dialect, before, spec))

    rebuilds_table = True

    def describe(self) -> str:
        return f"remove column {self.table}.{self.name}"

    def source(self) -> str:
        return f"RemoveColumn({self.table!r}, {self.name!r})"


class AlterColumn(Operation):
    """Change a column's definition to ``column`` (same name).

    On MySQL/MariaDB a type change also drops the foreign keys that use the column (its
    own and those pointing at it) and re-creates them, with the same names and rules.
    """

    rebuilds_table = True

    def __init__(self, table: str, column: ColumnSpec) -> None:
        self.table = table
        self.column = column

    def state_forwards(self, state: ProjectState) -> None:
        t = state.table(self.table)
        if self.column.name not in t.columns:
            raise MigrationError(f"AlterColumn: {self.table}.{self.column.name} does not exist")
        t.columns[self.column.name] = self.column

    def _sql(
        self,
        dialect: Dialect,
        old: ColumnSpec,
        new: ColumnSpec,
        current: ProjectState,
        target: ProjectState,
    ) -> list[str]:
        """SQL turning ``old`` (at state ``current``) into ``new`` (at state ``target``)."""
        t = target.table(self.table)

        def alter(old: ColumnSpec, new: ColumnSpec) -> list[str]:
            return dialect.alter_column_sql(
                self.table,
                old,
                new,
                table_columns=t.column_list(),
                indexes=t.index_list(),
                unique_together=t.unique_together,
            )

        if not dialect.alter_type_drops_foreign_keys:
            return alter(old, new)
        retyped = dialect.column_sql_type(old) != dialect.column_sql_type(new)
        dropped: list[tuple[str, ColumnSpec]] = []
        added: list[tuple[str, ColumnSpec]] = []
        if retyped or old.references != new.references:
            dropped.append((self.table, old))
            added.append((self.table, new))
        if retyped:
            dropped += _referencing(current, self.table, old.name)
            added += _referencing(target, self.table, new.name)
        stmts = [
            stmt
            for table, col in dropped
            if foreign_key_exists(dialect, current, col)
            for stmt in dialect.drop_foreign_key_sql(table, col.name)
        ]
        stmts += alter(old.evolve(references=None), new.evolve(references=None))
        for table, col in added:
            if col.references is not None and foreign_key_exists(dialect, target, col):
                stmts += dialect.add_foreign_key_sql(table, col.name, col.references)
        return stmts

    def forwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        old = before.table(self.table).columns[self.column.name]
        return self._sql(dialect, old, self.column, before, after)

    def backwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        old = before.table(self.table).columns[self.column.name]
        return self._sql(dialect, self.column, old, after, before)

    def describe(self) -> str:
        return f"alter column {self.table}.{self.column.name}"

    def source(self) -> str:
        return f"AlterColumn({self.table!r}, {render_column(self.column)})"


class RenameColumn(Operation):
    """Rename a column, keeping its data."""

    def __init__(self, table: str, old: str, new: str) -> None:
        self.table = table
        self.old = old
        self.new = new

    def state_forwards(self, state: ProjectState) -> None:
        t = state.table(self.table)
        if self.old not in t.columns or self.new in t.columns:
            raise MigrationError(
                f"RenameColumn: cannot rename {self.table}.{self.old} to {self.new}"
            )
        t.columns = {
            (self.new if k == self.old else k): (v.evolve(name=self.new) if k == self.old else v)
            for k, v in t.columns.items()
        }
        for name, index in list(t.indexes.items()):
            if self.old in index.columns:
                cols = tuple(self.new if c == self.old else c for c in index.columns)
                t.indexes[name] = IndexSpec(index.table, cols, unique=index.unique, name=index.name)
        t.unique_together = [
            tuple(self.new if c == self.old else c for c in g) for g in t.unique_together
        ]

    def forwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        return dialect.rename_column_sql(self.table, self.old, self.new)

    def backwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        return dialect.rename_column_sql(self.table, self.new, self.old)

    def describe(self) -> str:
        return f"rename column {self.table}.{self.old} to {self.new}"

    def source(self) -> str:
        return f"RenameColumn({self.table!r}, {self.old!r}, {self.new!r})"


# -- indexes and unique constraints --------------------------------------------------


class AddIndex(Operation):
    def __init__(self, index: IndexSpec) -> None:
        self.index = index

    def state_forwards(self, state: ProjectState) -> None:
        t = state.table(self.index.table)
        if self.index.name in t.indexes:
            raise MigrationError(f"AddIndex: index {self.index.name!r} already exists")
        t.indexes[self.index.name] = self.index

    def forwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        return dialect.create_index_sql(self.index)

    def backwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        return dialect.drop_index_sql(self.index)

    def describe(self) -> str:
        return f"add index {self.index.name} on {self.index.table}"

    def source(self) -> str:
        return f"AddIndex({render_index(self.index)})"


class RemoveIndex(Operation):
    def __init__(self, table: str, name: str) -> None:
        self.table = table
        self.name = name

    def state_forwards(self, state: ProjectState) -> None:
        t = state.table(self.table)
        if self.name not in t.indexes:
            raise MigrationError(f"RemoveIndex: index {self.name!r} does not exist on {self.table}")
        del t.indexes[self.name]

    def forwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        return dialect.drop_index_sql(before.table(self.table).indexes[self.name])

    def backwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        return dialect.create_index_sql(before.table(self.table).indexes[self.name])

    def describe(self) -> str:
        return f"remove index {self.name} from {self.table}"

    def source(self) -> str:
        return f"RemoveIndex({self.table!r}, {self.name!r})"


class AddUnique(Operation):
    def __init__(self, table: str, columns: Sequence[str]) -> None:
        self.table = table
        self.columns = tuple(columns)

    def state_forwards(self, state: ProjectState) -> None:
        t = state.table(self.table)
        if self.columns in t.unique_together:
            raise MigrationError(f"AddUnique: {self.table}{self.columns} is already unique")
        t.unique_together.append(self.columns)

    def forwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        return dialect.add_unique_sql(self.table, self.columns)

    def backwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        return dialect.drop_unique_sql(self.table, self.columns)

    def describe(self) -> str:
        return f"add unique ({', '.join(self.columns)}) on {self.table}"

    def source(self) -> str:
        return f"AddUnique({self.table!r}, {render_value(self.columns)})"


class RemoveUnique(Operation):
    def __init__(self, table: str, columns: Sequence[str]) -> None:
        self.table = table
        self.columns = tuple(columns)

    def state_forwards(self, state: ProjectState) -> None:
        t = state.table(self.table)
        if self.columns not in t.unique_together:
            raise MigrationError(f"RemoveUnique: {self.table}{self.columns} is not unique")
        t.unique_together.remove(self.columns)

    def forwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        return dialect.drop_unique_sql(self.table, self.columns)

    def backwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        return dialect.add_unique_sql(self.table, self.columns)

    def describe(self) -> str:
        return f"remove unique ({', '.join(self.columns)}) from {self.table}"

    def source(self) -> str:
        return f"RemoveUnique({self.table!r}, {render_value(self.columns)})"
