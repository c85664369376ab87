"""Schema snapshots: ``ProjectState`` (tables) made of ``TableState`` (columns, indexes,
unique constraints). Built from models (``from_models``) or by replaying migration
operations; the autodetector diffs two of them. Pure values: no I/O.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from covet.db.dialects.schema import ColumnSpec, IndexSpec

__all__ = ("MigrationError", "ProjectState", "TableState", "collect_models")


class MigrationError(Exception):
    """A migration cannot be made, loaded or applied (the message says why)."""


@dataclass
class TableState:
    """One table: ordered columns, named indexes, unique column groups."""

    name: str
    columns: dict[str, ColumnSpec] = field(default_factory=dict)
    indexes: dict[str, IndexSpec] = field(default_factory=dict)
    unique_together: list[tuple[str, ...]] = field(default_factory=list)

    def column_list(self) -> list[ColumnSpec]:
        return list(self.columns.values())

    def index_list(self) -> list[IndexSpec]:
        return list(self.indexes.values())

    def references(self) -> set[str]:
        """Tables this one points at (itself excluded)."""
        return {
            c.references.table
            for c in self.columns.values()
            if c.references is not None and c.references.table != self.name
        }


@dataclass
class ProjectState:
    """Every table of one database, by name."""

    tables: dict[str, TableState] = field(default_factory=dict)

    def clone(self) -> ProjectState:
        return copy.deepcopy(self)

    def table(self, name: str) -> TableState:
        try:
            return self.tables[name]
        except KeyError:
            raise MigrationError(f"table {name!r} does not exist in the migration state") from None

    @classmethod
    def from_models(cls, models: Iterable[Any]) -> ProjectState:
        """The state described by ``covet.orm`` models (their ``_meta``), through tables included."""
        state = cls()
        for model in models:
            meta = model._meta
            if getattr(meta, "abstract", False):
                continue
            table = TableState(meta.table)
            for spec in meta.column_specs:
                if isinstance(spec.default, enum.Enum):  # files store the plain value
                    spec = spec.evolve(default=spec.default.value)
                table.columns[spec.name] = spec
            for index in meta.indexes:
                table.indexes[index.name] = index
            table.unique_together = [tuple(g) for g in meta.unique_together]
            state.tables[table.name] = table
        return state


def collect_models(module_names: Iterable[str]) -> list[Any]:
    """Concrete ``covet.orm`` models defined in the given modules or packages (with their
    auto-created many-to-many through models), in table order."""
    from covet.orm.base import registry

    prefixes = tuple(module_names)
    out: list[Any] = []
    seen: set[str] = set()
    for models in registry.values():
        for model in models:
            meta = model._meta
            if meta.abstract or not meta.ready:
                continue
            mod = model.__module__
            if not any(mod == p or mod.startswith(p + ".") for p in prefixes):
                continue
            if meta.table in seen:
                raise MigrationError(f"two models use the table {meta.table!r}")
            seen.add(meta.table)
            out.append(model)
    return sorted(out, key=lambda m: m._meta.table)
