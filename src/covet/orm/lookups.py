"""Field lookups (``name__icontains=...``) compiled to ``covet.db.sql`` conditions.

Values are always bound parameters; LIKE patterns escape ``%``, ``_`` and ``\\`` so
``contains="50%"`` matches literally.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from covet.db.sql.nodes import Between, BinOp, Expr, In, IsNull, Like, Param, Select
from covet.orm.exceptions import FieldError

if TYPE_CHECKING:
    from covet.orm.fields import Field
    from covet.orm.sqlbuild import QueryBuilder

__all__ = ("LOOKUPS", "build_lookup", "escape_like")

LOOKUPS = frozenset(
    {
        "exact",
        "iexact",
        "contains",
        "icontains",
        "in",
        "gt",
        "gte",
        "lt",
        "lte",
        "startswith",
        "istartswith",
        "endswith",
        "iendswith",
        "isnull",
        "range",
    }
)
_COMPARE = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def escape_like(value: str) -> str:
    """Escape LIKE wildcards with a backslash (the escape character on every backend)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _param(field: Field | None, value: Any) -> Expr:
    if isinstance(value, Expr):
        return value
    from covet.orm.base import Model

    if isinstance(value, Model):
        value = value.pk
    return Param(value, field.kind if field is not None and field.kind != "m2m" else None)


def build_lookup(col: Expr, field: Field | None, lookup: str, value: Any, qb: QueryBuilder) -> Expr:
    """One condition: ``col <lookup> value``."""
    if lookup == "exact":
        if value is None:
            return IsNull(col)
        return BinOp(col, "=", _param(field, value))
    if lookup in _COMPARE:
        if value is None:
            raise FieldError(f"lookup {lookup!r} does not accept None")
        return BinOp(col, _COMPARE[lookup], _param(field, value))
    if lookup == "isnull":
        if not isinstance(value, bool):
            raise FieldError("isnull takes True or False")
        return IsNull(col, negated=not value)
    if lookup == "in":
        return In(col, _in_values(field, value, qb))
    if lookup == "range":
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise FieldError("range takes a (low, high) pair")
        return Between(col, _param(field, value[0]), _param(field, value[1]))
    # Text lookups.
    ci = lookup.startswith("i")
    base = lookup[1:] if ci else lookup
    if isinstance(value, Expr):
        raise FieldError(f"lookup {lookup!r} needs a plain string value")
    if not isinstance(value, str):
        if value is None:
            raise FieldError(f"lookup {lookup!r} does not accept None")
        value = str(value)
    text = escape_like(value)
    pattern = {
        "exact": text,
        "contains": f"%{text}%",
        "startswith": f"{text}%",
        "endswith": f"%{text}",
    }.get(base)
    if pattern is None:
        raise FieldError(f"unknown lookup {lookup!r}")
    return Like(col, pattern, case_insensitive=ci)


def _in_values(field: Field | None, value: Any, qb: QueryBuilder) -> Iterable[Any] | Select:
    from covet.orm.query import QuerySet

    if isinstance(value, QuerySet):
        return value._as_subquery()
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise FieldError("'in' takes a list, tuple, set or QuerySet")
    return [_param(field, v) for v in value]
