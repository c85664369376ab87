"""Render migration values and specs as the Python source the writer puts in files."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import math
import uuid
from typing import Any

from covet.db.dialects.schema import NO_DEFAULT, ColumnSpec, ForeignKeySpec, IndexSpec
from covet.orm.migrations.state import MigrationError

__all__ = ("render_column", "render_fk", "render_index", "render_value")


def render_value(value: Any) -> str:
    """Python source for a default or spec value (literals, dates, decimals, uuids, enums)."""
    if value is NO_DEFAULT:
        return "NO_DEFAULT"
    if isinstance(value, enum.Enum):
        return render_value(value.value)
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return f"decimal.Decimal({str(value)!r})"
    if isinstance(value, dt.datetime):
        return f"datetime.datetime.fromisoformat({value.isoformat()!r})"
    if isinstance(value, dt.date):
        return f"datetime.date.fromisoformat({value.isoformat()!r})"
    if isinstance(value, dt.time):
        return f"datetime.time.fromisoformat({value.isoformat()!r})"
    if isinstance(value, uuid.UUID):
        return f"uuid.UUID({str(value)!r})"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(render_value(v) for v in value)
        return (
            f"[{inner}]"
            if isinstance(value, list)
            else f"({inner}{',' if len(value) == 1 else ''})"
        )
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{render_value(k)}: {render_value(v)}" for k, v in value.items()) + "}"
        )
    raise MigrationError(f"cannot write {value!r} ({type(value).__name__}) into a migration file")


_COLUMN_DEFAULTS = {
    f: ColumnSpec.__dataclass_fields__[f].default for f in ColumnSpec.__dataclass_fields__
}


def render_column(spec: ColumnSpec) -> str:
    args = [repr(spec.name), repr(spec.kind)]
    for name in (
        "primary_key",
        "auto_increment",
        "nullable",
        "unique",
        "default",
        "max_length",
        "max_digits",
        "decimal_places",
        "big",
    ):
        value = getattr(spec, name)
        default = _COLUMN_DEFAULTS[name]
        if value is default or (type(value) is type(default) and value == default):
            continue
        args.append(f"{name}={render_value(value)}")
    if spec.references is not None:
        args.append(f"references={render_fk(spec.references)}")
    return f"ColumnSpec({', '.join(args)})"


def render_fk(ref: ForeignKeySpec) -> str:
    args = [repr(ref.table), repr(ref.column), f"on_delete={ref.on_delete!r}"]
    if ref.on_update is not None:
        args.append(f"on_update={ref.on_update!r}")
    return f"ForeignKeySpec({', '.join(args)})"


def render_index(index: IndexSpec) -> str:
    unique = ", unique=True" if index.unique else ""
    return f"IndexSpec({index.table!r}, {render_value(tuple(index.columns))}{unique}, name={index.name!r})"
