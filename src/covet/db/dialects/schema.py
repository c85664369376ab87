"""Backend-neutral descriptions of tables, columns, foreign keys and indexes.

The ORM (``create_all``) and migrations describe schema with these value objects; each
dialect turns them into DDL. They hold no SQL and do no I/O.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = (
    "COLUMN_KINDS",
    "NO_DEFAULT",
    "ON_DELETE_ACTIONS",
    "ColumnSpec",
    "ForeignKeySpec",
    "IndexSpec",
    "constraint_name",
)

COLUMN_KINDS = frozenset(
    {
        "int",
        "bigint",
        "smallint",
        "str",
        "text",
        "bool",
        "float",
        "decimal",
        "datetime",
        "date",
        "time",
        "uuid",
        "bytes",
        "json",
        "enum",
    }
)

ON_DELETE_ACTIONS: dict[str, str] = {
    "cascade": "CASCADE",
    "set_null": "SET NULL",
    "set_default": "SET DEFAULT",
    "restrict": "RESTRICT",
    "protect": "RESTRICT",
    "no_action": "NO ACTION",
    "do_nothing": "NO ACTION",
}


class _NoDefault:
    """Marker: the column has no database default."""

    _instance: _NoDefault | None = None

    def __new__(cls) -> _NoDefault:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_DEFAULT"

    def __bool__(self) -> bool:
        return False


NO_DEFAULT: Any = _NoDefault()


@dataclass(frozen=True, slots=True)
class ForeignKeySpec:
    """``REFERENCES table (column) ON DELETE ...``; ``on_delete`` is a key of ON_DELETE_ACTIONS."""

    table: str
    column: str = "id"
    on_delete: str = "restrict"
    on_update: str | None = None

    def __post_init__(self) -> None:
        if self.on_delete not in ON_DELETE_ACTIONS:
            raise ValueError(
                f"on_delete must be one of {sorted(ON_DELETE_ACTIONS)}, not {self.on_delete!r}"
            )
        if self.on_update is not None and self.on_update not in ON_DELETE_ACTIONS:
            raise ValueError(
                f"on_update must be one of {sorted(ON_DELETE_ACTIONS)}, not {self.on_update!r}"
            )


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column. ``default`` is a Python value rendered as a SQL literal (or NO_DEFAULT)."""

    name: str
    kind: str
    primary_key: bool = False
    auto_increment: bool = False
    nullable: bool = True
    unique: bool = False
    default: Any = NO_DEFAULT
    max_length: int | None = None
    max_digits: int | None = None
    decimal_places: int | None = None
    big: bool = False
    references: ForeignKeySpec | None = None

    def __post_init__(self) -> None:
        if self.kind not in COLUMN_KINDS:
            raise ValueError(
                f"unknown column kind {self.kind!r}; expected one of {sorted(COLUMN_KINDS)}"
            )
        if self.auto_increment and self.kind not in ("int", "bigint", "smallint"):
            raise ValueError(f"auto_increment needs an integer column, not {self.kind!r}")

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT

    def evolve(self, **changes: Any) -> ColumnSpec:
        """A copy with ``changes`` applied."""
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class IndexSpec:
    """An index on ``columns`` of ``table``; ``name`` is generated when empty."""

    table: str
    columns: tuple[str, ...]
    unique: bool = False
    name: str = field(default="")

    def __post_init__(self) -> None:
        if not self.columns:
            raise ValueError("an index needs at least one column")
        object.__setattr__(self, "columns", tuple(self.columns))
        if not self.name:
            suffix = "uniq" if self.unique else "idx"
            object.__setattr__(self, "name", constraint_name(self.table, self.columns, suffix))


def constraint_name(
    table: str, columns: tuple[str, ...] | list[str], suffix: str, max_length: int = 60
) -> str:
    """A deterministic constraint or index name that fits every backend's limit (63/64)."""
    base = f"{table}_{'_'.join(columns)}_{suffix}"
    if len(base) <= max_length:
        return base
    digest = hashlib.sha256(base.encode()).hexdigest()[:8]
    return f"{base[: max_length - len(suffix) - 10]}_{digest}_{suffix}"
