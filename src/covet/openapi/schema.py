"""Python types -> JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1).

``SchemaRegistry.schema_for(annotation)`` returns the schema of one annotation. Named
types (dataclasses, TypedDicts, NamedTuples, plain annotated classes, enums, pydantic and
msgspec models, objects with ``__covet_json_schema__``) become components and are
referenced with ``$ref``, which also makes recursive models work. Component names are the
class names; when two different classes share a name, both get their qualified name
(``module.Qualname``). Names are settled only in ``components()``, so they never depend on
the order in which the types were met.
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import datetime
import decimal
import enum
import ipaddress
import pathlib
import re
import types
import typing
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

from covet._typing import is_typeddict, split_qualifiers, substituted_hints
from covet.openapi._constraints import apply_constraints, constraints_from_metadata
from covet.openapi._external import external_schema, is_external
from covet.openapi._typeutils import (
    NAME_OK,
    OPTIONAL,
    class_doc,
    enum_schema,
    factory_default,
    is_namedtuple,
    is_plain_class,
    is_upload_file,
    jsonable_default,
    names_for,
    resolve_refs,
    title_of,
    type_hints,
    unwrap_alias,
    with_keyword,
)

__all__ = ("REF_PREFIX", "SchemaMode", "SchemaRegistry", "jsonable_default", "resolve_refs")

REF_PREFIX = "#/components/schemas/"
SchemaMode = Literal["validation", "serialization"]

# Placeholders stand for component names until ``components()`` settles them.
_PLACEHOLDER = "__covet_ref__:"
_NO_DEFAULT = object()  # the field is required

_SIMPLE: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    decimal.Decimal: {"type": "number"},
    uuid.UUID: {"type": "string", "format": "uuid"},
    datetime.datetime: {"type": "string", "format": "date-time"},
    datetime.date: {"type": "string", "format": "date"},
    datetime.time: {"type": "string", "format": "time"},
    datetime.timedelta: {"type": "string", "format": "duration"},
    bytes: {"type": "string", "contentEncoding": "base64"},
    bytearray: {"type": "string", "contentEncoding": "base64"},
    pathlib.Path: {"type": "string", "format": "path"},
    pathlib.PurePath: {"type": "string", "format": "path"},
    ipaddress.IPv4Address: {"type": "string", "format": "ipv4"},
    ipaddress.IPv6Address: {"type": "string", "format": "ipv6"},
    re.Pattern: {"type": "string", "format": "regex"},
    object: {},
    Any: {},
}

_ARRAYS = {list, cabc.Sequence, cabc.MutableSequence, cabc.Iterable, cabc.Collection}
_SETS = {set, frozenset, cabc.Set, cabc.MutableSet}
_MAPPINGS = {dict, cabc.Mapping, cabc.MutableMapping}


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


class SchemaRegistry:
    """Collects component schemas while turning annotations into JSON Schema."""

    def __init__(self) -> None:
        self._keys: dict[Any, str] = {}  # (type, mode) -> placeholder key
        self._schemas: dict[str, dict[str, Any]] = {}  # placeholder key -> schema
        self._wanted: dict[str, tuple[str, str]] = {}  # key -> (short name, qualified name)
        self._fixed: dict[str, dict[str, Any]] = {}  # externally named components
        self._keep_alive: list[Any] = []  # unhashable objects keyed by id()
        self._owner: dict[str, Any] = {}  # key -> the type (or object id) it describes
        self._modes: dict[str, SchemaMode] = {}  # key -> mode it was built for

    # -- public -------------------------------------------------------------------------

    def schema_for(self, annotation: Any, mode: SchemaMode = "validation") -> dict[str, Any]:
        """JSON Schema of ``annotation`` (named types become ``$ref`` placeholders)."""
        return self._schema(annotation, mode)

    def components(self) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        """Settle component names: return ``(schemas by name, placeholder -> ref)``.

        A type met in both modes is one component when both schemas agree, otherwise
        two (``Name-Input`` and ``Name-Output``).
        """
        rep = self._merge_modes()
        by_owner: dict[Any, list[str]] = {}
        for key in sorted(set(rep.values()), key=int):
            by_owner.setdefault(self._owner[key], []).append(key)
        wanted: dict[str, tuple[str, str]] = {}
        for keys in by_owner.values():
            for key in keys:
                short, qualified = self._wanted[key]
                if len(keys) > 1:
                    suffix = "-Input" if self._modes[key] == "validation" else "-Output"
                    short, qualified = short + suffix, qualified + suffix
                wanted[key] = (short, qualified)
        by_short: dict[str, list[str]] = {}
        for key, (short, _qualified) in sorted(wanted.items(), key=lambda kv: kv[1]):
            by_short.setdefault(short, []).append(key)
        names: dict[str, str] = {}
        taken = set(self._fixed)
        for short, keys in sorted(by_short.items()):
            if len(keys) == 1 and short not in taken:
                names[keys[0]] = short
                continue
            for key in keys:
                name = base = wanted[key][1]
                n = 2
                while name in taken or name in names.values():
                    name, n = f"{base}_{n}", n + 1
                names[key] = name
        refs = {_PLACEHOLDER + key: REF_PREFIX + names[rep[key]] for key in rep}
        out = dict(self._fixed)
        for key, name in names.items():
            out[name] = self._schemas[key]
        schemas = {name: resolve_refs(out[name], refs) for name in sorted(out)}
        return schemas, refs

    def _merge_modes(self) -> dict[str, str]:
        """Map each key to the key of an equal schema of the same type (a fixpoint)."""
        rep = {key: key for key in self._schemas}
        changed = True
        while changed:
            changed = False
            mapping = {_PLACEHOLDER + k: _PLACEHOLDER + r for k, r in rep.items()}
            seen: dict[tuple[Any, str], str] = {}
            for key in sorted((k for k, r in rep.items() if k == r), key=int):
                # a reference to the schema itself (a recursive type) compares equal across
                # modes: Node's input and output both say "list of myself"
                own = {k for k, r in rep.items() if r == key}
                local = {**mapping, **{_PLACEHOLDER + k: "__covet_self__" for k in own}}
                canonical = repr(resolve_refs(self._schemas[key], local))
                first = seen.setdefault((self._owner[key], canonical), key)
                if first != key:
                    for other, target in rep.items():
                        if target == key:
                            rep[other] = first
                    changed = True
        return rep

    def reserve_fixed_name(self, name: str, schema: dict[str, Any], suffix: str) -> str:
        """Claim an exact component name for a library-named schema (pydantic, msgspec).

        Returns ``name`` when it is free or already holds an equal schema, otherwise
        ``name + suffix`` (then numbered) so that different schemas never share a name.
        """
        candidates = [name, name + suffix]
        candidates += [f"{name}{suffix}_{n}" for n in range(2, 2 + len(self._fixed))]
        for candidate in candidates:
            existing = self._fixed.get(candidate)
            if existing is None or existing == schema:
                self._fixed[candidate] = schema
                return candidate
        raise AssertionError("unreachable: the candidate list outgrows the components")

    def set_fixed_component(self, name: str, schema: dict[str, Any]) -> None:
        """Store the final schema of a name claimed with ``reserve_fixed_name``."""
        self._fixed[name] = schema

    def ref_named(
        self, obj: Any, mode: SchemaMode, name: str, schema: dict[str, Any]
    ) -> dict[str, Any]:
        """Register an already built ``schema`` for ``obj`` as a component called ``name``."""
        try:
            hash(obj)
            ident: Any = (obj, mode)
        except TypeError:
            ident = (id(obj), mode)
            self._keep_alive.append(obj)
        key = self._keys.get(ident)
        if key is None:
            key = f"{len(self._keys)}"
            self._keys[ident] = key
            self._owner[key], self._modes[key] = ident[0], mode
            short = NAME_OK.sub("_", name)
            module = getattr(obj, "__module__", "") or ""
            self._wanted[key] = (short, NAME_OK.sub("_", f"{module}.{short}" if module else short))
            self._schemas[key] = schema
        return {"$ref": _PLACEHOLDER + key}

    # -- the walk -----------------------------------------------------------------------

    def _schema(self, tp: Any, mode: SchemaMode) -> dict[str, Any]:
        tp = type(None) if tp is None else unwrap_alias(tp)
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            base, *metadata = typing.get_args(tp)
            inner = dict(self._schema(base, mode))
            return apply_constraints(inner, constraints_from_metadata(metadata))
        hashable = _hashable(tp)
        simple = _SIMPLE.get(tp) if hashable else None
        if simple is not None:
            return dict(simple)
        if origin is typing.Literal:
            values = [v.value if isinstance(v, enum.Enum) else v for v in typing.get_args(tp)]
            return enum_schema(values)
        if origin in (typing.Union, types.UnionType):
            return self._union(typing.get_args(tp), mode)
        if origin is not None and (origin in _ARRAYS or origin in _SETS or origin is tuple):
            return self._array(origin, typing.get_args(tp), mode)
        if origin in _MAPPINGS or (hashable and tp in _MAPPINGS):
            args = typing.get_args(tp)
            value = self._schema(args[1], mode) if len(args) == 2 else {}
            schema: dict[str, Any] = {"type": "object"}
            if value:
                schema["additionalProperties"] = value
            key = args[0] if args else str
            key_schema = self._schema(key, mode) if key is not str else {}
            if key_schema and key_schema.get("type") == "string" and len(key_schema) > 1:
                schema["propertyNames"] = key_schema
            return schema
        if hashable and (tp in _ARRAYS or tp in _SETS or tp is tuple):
            return self._array(tp, (), mode)
        if is_upload_file(tp):
            return {"type": "string", "format": "binary"}
        if isinstance(tp, typing.TypeVar):
            if tp.__bound__ is not None:
                return self._schema(tp.__bound__, mode)
            if tp.__constraints__:
                return self._union(tp.__constraints__, mode)
            return {}
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return self._ref(tp, mode, lambda: self._enum(tp))
        if is_external(tp):
            return external_schema(self, tp, mode)
        target = origin if origin is not None else tp
        if dataclasses.is_dataclass(target) and isinstance(target, type):
            return self._ref(tp, mode, lambda: self._dataclass(tp, mode))
        if is_typeddict(target):
            return self._ref(tp, mode, lambda: self._typeddict(tp, mode))
        if is_namedtuple(target):
            return self._ref(tp, mode, lambda: self._namedtuple(tp, mode))
        if is_plain_class(target):
            return self._ref(tp, mode, lambda: self._plain_class(tp, mode))
        if isinstance(tp, type):
            for base, schema in _SIMPLE.items():  # subclasses of str, int, datetime...
                if isinstance(base, type) and base is not object and issubclass(tp, base):
                    return dict(schema)
        raise TypeError(f"cannot build a JSON Schema for {tp!r}")

    def _union(self, members: tuple[Any, ...], mode: SchemaMode) -> dict[str, Any]:
        schemas: list[dict[str, Any]] = []
        for member in members:
            schema = self._schema(member, mode)
            if schema not in schemas:
                schemas.append(schema)
        if any(s == {} for s in schemas):
            return {}
        if len(schemas) == 1:
            return schemas[0]
        simple = [s for s in schemas if set(s) == {"type"} and isinstance(s["type"], str)]
        if len(simple) == len(schemas):
            return {"type": [s["type"] for s in simple]}
        null = {"type": "null"}
        if null in schemas and len(schemas) == 2:
            (other,) = [s for s in schemas if s != null]
            kind = other.get("type")
            if isinstance(kind, str) and "$ref" not in other and "enum" not in other:
                return {**other, "type": [kind, "null"]}
        return {"anyOf": schemas}

    def _array(self, origin: Any, args: tuple[Any, ...], mode: SchemaMode) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array"}
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            if args == ((),):  # tuple[()]
                return {"type": "array", "maxItems": 0}
            schema["prefixItems"] = [self._schema(a, mode) for a in args]
            schema["items"] = False
            schema["minItems"] = schema["maxItems"] = len(args)
            return schema
        if args:
            items = self._schema(args[0], mode)
            if items:
                schema["items"] = items
        if origin in _SETS:
            schema["uniqueItems"] = True
        return schema

    def _ref(
        self, tp: Any, mode: SchemaMode, build: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        ident = (tp, mode)
        key = self._keys.get(ident)
        if key is None:
            key = f"{len(self._keys)}"
            self._keys[ident] = key
            self._owner[key], self._modes[key] = tp, mode
            self._wanted[key] = names_for(tp)
            self._schemas[key] = {}  # reserve: recursive references resolve to this key
            self._schemas[key] = build()
        return {"$ref": _PLACEHOLDER + key}

    # -- named kinds --------------------------------------------------------------------

    def _enum(self, tp: type[enum.Enum]) -> dict[str, Any]:
        schema: dict[str, Any] = {"title": tp.__name__}
        schema.update(enum_schema([m.value for m in tp]))
        doc = class_doc(tp)
        if doc and doc != "An enumeration.":
            schema["description"] = doc
        return schema

    def _object(
        self,
        tp: Any,
        fields: Iterator[tuple[str, Any, Any, Mapping[str, Any]]],
        mode: SchemaMode,
    ) -> dict[str, Any]:
        """Object schema from ``(name, annotation, default, metadata)`` tuples."""
        origin = typing.get_origin(tp) or tp
        props: dict[str, Any] = {}
        required: list[str] = []
        for name, annotation, default, metadata in fields:
            prop = dict(self._schema(annotation, mode))
            prop = apply_constraints(prop, constraints_from_metadata([metadata]))
            for key in ("title", "description", "examples", "deprecated", "readOnly", "writeOnly"):
                if key in metadata:
                    prop = with_keyword(prop, key, metadata[key])
            if default is _NO_DEFAULT:
                required.append(name)
            elif default is not OPTIONAL:
                try:
                    prop = with_keyword(prop, "default", jsonable_default(default))
                except ValueError:
                    pass  # a default the document cannot show is simply left out
            props[name] = prop
        schema: dict[str, Any] = {"type": "object", "title": title_of(tp), "properties": props}
        if required:
            schema["required"] = required
        doc = class_doc(origin)
        if doc:
            schema["description"] = doc
        return schema

    def _dataclass(self, tp: Any, mode: SchemaMode) -> dict[str, Any]:
        origin = typing.get_origin(tp) or tp
        hints = substituted_hints(tp, type_hints)

        declared = dataclasses.fields(origin)
        if mode == "validation":  # InitVar pseudo-fields are __init__ arguments: input only
            names = {f.name for f in declared}
            declared = tuple(
                f
                for f in origin.__dataclass_fields__.values()
                if f.name in names or isinstance(hints.get(f.name), dataclasses.InitVar)
            )

        def fields() -> Iterator[tuple[str, Any, Any, Mapping[str, Any]]]:
            for f in declared:
                if not f.init and mode == "validation":
                    continue
                if f.default is not dataclasses.MISSING:
                    default: Any = f.default
                elif f.default_factory is not dataclasses.MISSING:
                    default = factory_default(f.default_factory)
                else:
                    default = _NO_DEFAULT
                annotation = hints.get(f.name, f.type)
                if isinstance(annotation, dataclasses.InitVar):
                    annotation = annotation.type
                yield f.name, annotation, default, f.metadata

        return self._object(tp, fields(), mode)

    def _typeddict(self, tp: Any, mode: SchemaMode) -> dict[str, Any]:
        origin = typing.get_origin(tp) or tp
        hints = substituted_hints(tp, type_hints)
        required_keys = origin.__required_keys__

        def fields() -> Iterator[tuple[str, Any, Any, Mapping[str, Any]]]:
            for name, hint in hints.items():
                # With postponed annotations (3.10/3.11) the class cannot see NotRequired
                # inside strings, so the resolved hint has the last word.
                annotation, marked = split_qualifiers(hint)
                required = name in required_keys if marked is None else marked
                default = _NO_DEFAULT if required else OPTIONAL
                yield name, annotation, default, {}

        return self._object(tp, fields(), mode)

    def _namedtuple(self, tp: type, mode: SchemaMode) -> dict[str, Any]:
        hints = type_hints(tp)
        defaults = getattr(tp, "_field_defaults", {})
        items = []
        for name in tp._fields:  # type: ignore[attr-defined]
            item = dict(self._schema(hints.get(name, Any), mode))
            item = with_keyword(item, "title", name)
            if name in defaults:
                try:
                    item = with_keyword(item, "default", jsonable_default(defaults[name]))
                except ValueError:
                    pass
            items.append(item)
        required = len(tp._fields) - len(defaults)  # type: ignore[attr-defined]
        schema: dict[str, Any] = {"type": "array", "title": tp.__name__, "prefixItems": items}
        schema.update(items=False, minItems=required, maxItems=len(items))
        return schema

    def _plain_class(self, tp: Any, mode: SchemaMode) -> dict[str, Any]:
        origin = typing.get_origin(tp) or tp
        hints = substituted_hints(tp, type_hints)

        def fields() -> Iterator[tuple[str, Any, Any, Mapping[str, Any]]]:
            for name, annotation in hints.items():
                if name.startswith("_") or typing.get_origin(annotation) is typing.ClassVar:
                    continue
                default = getattr(origin, name, _NO_DEFAULT)
                if callable(default) and not isinstance(default, enum.Enum):
                    default = _NO_DEFAULT
                yield name, annotation, default, {}

        return self._object(tp, fields(), mode)
