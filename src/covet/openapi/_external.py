"""Schemas of types that describe themselves: pydantic v2, msgspec, ``__covet_json_schema__``.

pydantic and msgspec are never imported here unless the type at hand comes from them (and
so the library is already loaded). Their ``$defs`` become components under the names the
library chose; a name already taken by a different schema gets ``-Input``/``-Output`` (or a
number) appended, and the references of that batch are rewritten to match.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from covet.openapi.schema import SchemaMode, SchemaRegistry

__all__ = ("external_schema", "is_external")

_EXT_PREFIX = "__covet_ext__:"


def _pydantic_model(tp: Any) -> bool:
    pydantic = sys.modules.get("pydantic")
    if pydantic is None or not isinstance(tp, type):
        return False
    return issubclass(tp, pydantic.BaseModel)


def _msgspec_struct(tp: Any) -> bool:
    msgspec = sys.modules.get("msgspec")
    if msgspec is None or not isinstance(tp, type):
        return False
    return issubclass(tp, msgspec.Struct)


def _self_describing(tp: Any) -> bool:
    return callable(getattr(tp, "__covet_json_schema__", None))


def is_external(tp: Any) -> bool:
    """Whether ``tp`` provides its own JSON Schema."""
    return _self_describing(tp) or _pydantic_model(tp) or _msgspec_struct(tp)


def external_schema(registry: SchemaRegistry, tp: Any, mode: SchemaMode) -> dict[str, Any]:
    """Schema (usually a ``$ref``) of a self-describing type, registering its components."""
    if _self_describing(tp):
        return _covet_protocol(registry, tp, mode)
    if _pydantic_model(tp):
        from pydantic.json_schema import models_json_schema

        mapping, top = models_json_schema([(tp, mode)], ref_template=_EXT_PREFIX + "{model}")
        schema = dict(mapping[(tp, mode)])
        return _merge(registry, top.get("$defs", {}), schema, _EXT_PREFIX, mode)
    import msgspec

    (schema,), defs = msgspec.json.schema_components((tp,), ref_template=_EXT_PREFIX + "{name}")
    return _merge(registry, defs, dict(schema), _EXT_PREFIX, mode)


def _covet_protocol(registry: SchemaRegistry, tp: Any, mode: SchemaMode) -> dict[str, Any]:
    """``__covet_json_schema__()`` (the ORM's models and field subsets implement it).

    The returned schema becomes a component named after its ``title`` (or the class name);
    its ``$defs`` (referenced as ``#/$defs/Name``) are merged into the components. A method
    that accepts a ``mode`` argument receives ``"validation"`` or ``"serialization"``.
    """
    method = tp.__covet_json_schema__
    try:
        accepts_mode = "mode" in inspect.signature(method).parameters
    except (TypeError, ValueError):
        accepts_mode = False
    raw = method(mode=mode) if accepts_mode else method()
    if not isinstance(raw, Mapping):
        raise TypeError(f"{tp!r}.__covet_json_schema__() must return a mapping, got {raw!r}")
    raw = dict(raw)
    defs = raw.pop("$defs", {})
    body = _merge(registry, defs, raw, "#/$defs/", mode)
    name = str(body.get("title") or getattr(tp, "__name__", None) or type(tp).__name__)
    return registry.ref_named(tp, mode, name, body)


def _merge(
    registry: SchemaRegistry,
    defs: Mapping[str, Any],
    schema: dict[str, Any],
    prefix: str,
    mode: SchemaMode,
) -> dict[str, Any]:
    from covet.openapi.schema import REF_PREFIX, resolve_refs

    suffix = "-Input" if mode == "validation" else "-Output"
    identity = {prefix + name: REF_PREFIX + name for name in defs}
    final: dict[str, str] = {}
    for name in sorted(defs):
        final[name] = registry.reserve_fixed_name(name, resolve_refs(defs[name], identity), suffix)
    refs = {prefix + name: REF_PREFIX + final[name] for name in defs}
    for name in sorted(defs):
        registry.set_fixed_component(final[name], resolve_refs(defs[name], refs))
    out: dict[str, Any] = resolve_refs(schema, refs)
    return out
