"""Validation constraints (``ge``, ``max_length``, ``pattern``...) -> JSON Schema keywords.

Constraints come from ``Annotated`` metadata (mappings, ``annotated_types`` objects, the
handler markers' attributes or their ``constraints`` mapping) and from parameter specs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ("apply_constraints", "constraints_from_metadata")

_NUMERIC = {
    "gt": "exclusiveMinimum",
    "ge": "minimum",
    "lt": "exclusiveMaximum",
    "le": "maximum",
    "multiple_of": "multipleOf",
}
_SIZED = {"min_length": "min", "max_length": "max", "min_items": "min", "max_items": "max"}
_PLAIN = {
    "pattern": "pattern",
    "regex": "pattern",
    "unique_items": "uniqueItems",
    "format": "format",
}
# JSON Schema's own spelling is accepted as well.
_NATIVE = {
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties",
    "uniqueItems", "pattern", "format", "const",
}  # fmt: skip
_KNOWN = set(_NUMERIC) | set(_SIZED) | set(_PLAIN) | _NATIVE


def constraints_from_metadata(metadata: Iterable[Any]) -> dict[str, Any]:
    """Collect the constraints of ``Annotated[...]`` metadata items, later items winning."""
    out: dict[str, Any] = {}
    for item in metadata:
        if item is None or isinstance(item, str | bytes | int | float | bool | type):
            continue
        if isinstance(item, Mapping):
            out.update({k: v for k, v in item.items() if k in _KNOWN and v is not None})
            continue
        nested = getattr(item, "constraints", None)
        if isinstance(nested, Mapping):
            out.update({k: v for k, v in nested.items() if k in _KNOWN and v is not None})
        for name in ("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "pattern"):
            value = getattr(item, name, None)
            if value is not None and not callable(value):
                out[name] = value.pattern if hasattr(value, "pattern") else value
        # annotated_types.Len / Interval expose their bounds under those names already;
        # annotated_types.MinLen/MaxLen use min_length/max_length, handled above.
    return out


def apply_constraints(schema: dict[str, Any], constraints: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``schema`` with the JSON Schema keywords for ``constraints`` added."""
    if not constraints:
        return schema
    out = dict(schema)
    kind = out.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    for name, value in constraints.items():
        if value is None:
            continue
        if name in _NUMERIC:
            out[_NUMERIC[name]] = value
        elif name in _SIZED:
            bound = _SIZED[name]
            if "array" in kinds:
                out[f"{bound}Items"] = value
            elif "object" in kinds:
                out[f"{bound}Properties"] = value
            else:
                out[f"{bound}Length"] = value
        elif name in _PLAIN:
            out[_PLAIN[name]] = value.pattern if hasattr(value, "pattern") else value
        elif name in _NATIVE:
            out[name] = value
    return out
