"""Field lookups (``name__icontains=...``) compiled to ``covet.db.sql`` conditions.

Values are always bound parameters; LIKE patterns escape ``%``, ``_`` and ``\\`` so
``contains="50%"`` matches literally.
"""

from __future__ import annotations

import decimal
import enum
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from covet.db.sql.nodes import (
    And,
    Between,
    BinOp,
    Column,
    Expr,
    In,
    IsNull,
    JsonCompare,
    JsonHasKeys,
    JsonKey,
    JsonText,
    JsonTypeIs,
    Like,
    Or,
    Param,
    Select,
)
from covet.orm.exceptions import FieldError

if TYPE_CHECKING:
    from covet.orm.fields import ModelField
    from covet.orm.sqlbuild import QueryBuilder

__all__ = ("JSON_LOOKUPS", "LOOKUPS", "build_json_lookup", "build_lookup", "escape_like")

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
#: lookups on a JSON field itself (or on a key path: ``data__owner__has_key="x"``)
JSON_LOOKUPS = frozenset({"has_key", "has_keys", "has_any_keys"})
_COMPARE = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_TEXT_PATTERNS = {"exact": "{}", "contains": "%{}%", "startswith": "{}%", "endswith": "%{}"}


def escape_like(value: str) -> str:
    """Escape LIKE wildcards with a backslash (the escape character on every backend)."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _param(field: ModelField | None, value: Any) -> Expr:
    if isinstance(value, Expr):
        return value
    from covet.orm.base import Model

    if isinstance(value, Model):
        value = value.pk
    return Param(value, field.kind if field is not None and field.kind != "m2m" else None)


def build_lookup(col: Expr, field: ModelField | None, lookup: str, value: Any, qb: QueryBuilder) -> Expr:
    """One condition: ``col <lookup> value``."""
    if isinstance(col, JsonKey):
        return build_json_lookup(col, lookup, value)
    if lookup in JSON_LOOKUPS:
        if field is None or field.kind != "json" or not isinstance(col, Column):
            raise FieldError(f"lookup {lookup!r} applies to JSON fields only")
        return build_json_lookup(JsonKey(col), lookup, value)
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


def _in_values(field: ModelField | None, value: Any, qb: QueryBuilder) -> Iterable[Any] | Select:
    from covet.orm.query import QuerySet

    if isinstance(value, QuerySet):
        qb.uses_subquery = True
        return value._as_subquery()
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise FieldError("'in' takes a list, tuple, set or QuerySet")
    return [_param(field, v) for v in value]


def build_json_lookup(key: JsonKey, lookup: str, value: Any) -> Expr:
    """A lookup on the JSON value at ``key`` (``data__owner__name__icontains="an"``).

    Values compare by JSON type: numbers as numbers, strings as strings, ``True``/
    ``False`` and ``None`` (JSON null) by type; text lookups match string values only.
    A missing key is SQL NULL: it matches no comparison, and ``isnull=True``.
    """
    if isinstance(value, Expr):
        raise FieldError(f"JSON key lookup {lookup!r} takes a plain value, not an expression")
    if lookup in JSON_LOOKUPS:
        if lookup == "has_key":
            if not isinstance(value, str):
                raise FieldError("has_key takes a str key")
            return JsonHasKeys(key, [value])
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise FieldError(f"{lookup} takes a list of str keys")
        keys = list(value)
        if not keys or not all(isinstance(k, str) for k in keys):
            raise FieldError(f"{lookup} takes a non-empty list of str keys")
        return JsonHasKeys(key, keys, any_=lookup == "has_any_keys")
    if lookup == "isnull":
        if not isinstance(value, bool):
            raise FieldError("isnull takes True or False")
        return IsNull(key, negated=not value)  # True: the key is missing (not JSON null)
    if lookup == "exact":
        return JsonCompare(key, "=", _json_scalar(lookup, value))
    if lookup in _COMPARE:
        return JsonCompare(key, _COMPARE[lookup], _json_ordered(lookup, value))
    if lookup == "in":
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise FieldError("'in' on a JSON key takes a list of JSON scalars")
        return Or(*(JsonCompare(key, "=", _json_scalar(lookup, v)) for v in value))
    if lookup == "range":
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise FieldError("range takes a (low, high) pair")
        low, high = (_json_ordered(lookup, v) for v in value)
        if isinstance(low, str) != isinstance(high, str):
            raise FieldError("range on a JSON key takes two numbers or two strings")
        return And(JsonCompare(key, ">=", low), JsonCompare(key, "<=", high))
    ci = lookup.startswith("i")
    pattern = _TEXT_PATTERNS.get(lookup[1:] if ci else lookup)
    if pattern is None:
        raise FieldError(f"unknown lookup {lookup!r} on a JSON key")
    if not isinstance(value, str):
        raise FieldError(f"lookup {lookup!r} on a JSON key takes a str")
    return And(
        JsonTypeIs(key, "string"),
        Like(JsonText(key), pattern.format(escape_like(value)), case_insensitive=ci),
    )


def _json_scalar(lookup: str, value: Any) -> Any:
    """``value`` as a JSON scalar (str, int, float, Decimal, bool, None), else FieldError."""
    if isinstance(value, enum.Enum):
        value = value.value
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, (float, decimal.Decimal)):
        if not math.isfinite(value):
            raise FieldError(f"lookup {lookup!r} on a JSON key: {value!r} is not a JSON number")
        return value
    raise FieldError(
        f"lookup {lookup!r} on a JSON key compares with a str, number, bool or None, "
        f"not {type(value).__name__} (reach nested values with a longer path: data__a__b)"
    )


def _json_ordered(lookup: str, value: Any) -> Any:
    """A JSON number or string to order against (not bool or None)."""
    value = _json_scalar(lookup, value)
    if value is None or isinstance(value, bool):
        raise FieldError(f"lookup {lookup!r} on a JSON key takes a number or a str, not {value!r}")
    return value
