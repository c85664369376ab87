"""A model is also a schema: input validation, JSON-ready ``to_dict``, JSON Schema, and
derived field subsets (``User.schema(exclude={"password_hash"})``) that implement the
handlers' ``__covet_validate__`` / ``__covet_json_schema__`` protocol.

Error entries follow the framework format ``{"field", "message", "code", "value"}``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from covet.exceptions import ValidationError
from covet.orm.validation import INT_RANGES, Invalid, clean, error_entry, json_ready

if TYPE_CHECKING:
    from covet.orm.base import Model
    from covet.orm.fields import ModelField

_REL = "_rel_"

__all__ = (
    "SchemaObject",
    "derive_schema",
    "instance_to_dict",
    "json_schema",
    "validate_data",
)


def _schema_fields(model: type[Model], names: tuple[str, ...] | None) -> list[ModelField]:
    if names is None:
        return list(model._meta.fields)
    return [model._meta.by_name[n] for n in names]


def validate_data(
    model: type[Model], data: Any, loc: str, fields: tuple[str, ...] | None
) -> dict[str, Any]:
    """Validate decoded JSON ``data`` for ``model``; returns ``{attname: value}``."""
    if not isinstance(data, Mapping):
        raise ValidationError(
            [
                {
                    "field": loc,
                    "message": "Input should be an object",
                    "code": "type_error",
                    "value": None,
                }
            ]
        )
    errors: list[dict[str, Any]] = []
    out: dict[str, Any] = {}
    for f in _schema_fields(model, fields):
        key = f.attname if f.attname in data else f.name
        if key not in data:
            if f.required:
                errors.append(
                    {
                        "field": f"{loc}.{f.attname}" if loc else f.attname,
                        "message": "Field required",
                        "code": "missing",
                    }
                )
            continue
        value = data[key]
        try:
            out[f.attname] = clean(f, value, from_json=True)
        except Invalid as exc:
            errors.append(error_entry(loc, f.attname, exc, value))
    if errors:
        raise ValidationError(errors)
    return out


def instance_to_dict(
    obj: Model, *, include: set[str] | None = None, exclude: set[str] | None = None
) -> dict[str, Any]:
    meta = obj._meta
    d = obj.__dict__

    def wanted(*names: str) -> bool:
        if include is not None and not any(n in include for n in names):
            return False
        return not (exclude and any(n in exclude for n in names))

    out: dict[str, Any] = {}
    for f in meta.fields:
        if wanted(f.name, f.attname):
            out[f.attname] = json_ready(d.get(f.attname))
        if f.relation is not None and _REL + f.name in d and wanted(f.name):
            rel = d[_REL + f.name]
            out[f.name] = rel.to_dict() if rel is not None else None
    for key, value in d.get("_prefetched", {}).items():
        if wanted(key):
            out[key] = [v.to_dict() for v in value]
    for key, value in d.items():
        if (
            key.startswith(_REL)
            and key[len(_REL) :] not in out
            and meta.get_reverse(key[len(_REL) :])
            and wanted(key[len(_REL) :])
        ):
            out[key[len(_REL) :]] = value.to_dict() if value is not None else None
        elif (
            not key.startswith("_")
            and key not in meta.by_attname
            and key not in out
            and wanted(key)
        ):
            out[key] = json_ready(value)  # annotations
    return out


def _field_schema(f: ModelField) -> dict[str, Any]:
    kind = f.kind
    s: dict[str, Any]
    if kind in INT_RANGES:
        s = {"type": "integer"}
    elif kind == "float":
        s = {"type": "number"}
    elif kind == "decimal":
        s = {"type": "string", "format": "decimal"}
    elif kind in ("str", "text"):
        s = {"type": "string"}
        if f.max_length is not None:
            s["maxLength"] = f.max_length
        if f.min_length is not None:
            s["minLength"] = f.min_length
    elif kind == "bool":
        s = {"type": "boolean"}
    elif kind in ("datetime", "date", "time", "uuid"):
        s = {"type": "string", "format": {"datetime": "date-time"}.get(kind, kind)}
    elif kind == "bytes":
        s = {"type": "string", "contentEncoding": "base64"}
    elif kind == "enum":
        assert f.enum_type is not None
        s = {"enum": [m.value for m in f.enum_type]}
    else:
        s = {}
    if f.choices:
        s["enum"] = [c[0] if isinstance(c, (tuple, list)) else c for c in f.choices]
    if f.ge is not None:
        s["minimum"] = f.ge
    if f.le is not None:
        s["maximum"] = f.le
    if f.description:
        s["description"] = f.description
    if f.auto:
        s["readOnly"] = True
    if f.nullable:
        s = {"anyOf": [s, {"type": "null"}]} if s else {}
    if f.has_default and f.default_factory is None and f.default is not None:
        s["default"] = json_ready(f.default)
    return s


def json_schema(model: type[Model], fields: tuple[str, ...] | None, title: str) -> dict[str, Any]:
    props: dict[str, Any] = {}
    required: list[str] = []
    for f in _schema_fields(model, fields):
        props[f.attname] = _field_schema(f)
        if f.required:
            required.append(f.attname)
    out: dict[str, Any] = {"type": "object", "title": title, "properties": props}
    if required:
        out["required"] = required
    return out


class SchemaObject(Mapping[str, Any]):
    """A validated subset of a model's fields: a read-only mapping of Python values
    (``Model.objects.create(**obj)`` works) with attribute access and ``to_dict()``."""

    __model__: type[Model]
    __fields__: tuple[str, ...]
    __slots__ = ("_data",)

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"

    def to_dict(self) -> dict[str, Any]:
        return {k: json_ready(v) for k, v in self._data.items()}

    @classmethod
    def __covet_validate__(cls, data: Any, loc: str = "body") -> SchemaObject:
        if hasattr(data, "_meta") and isinstance(data, cls.__model__):
            data = data.to_dict()
        return cls(validate_data(cls.__model__, data, loc, cls.__fields__))

    @classmethod
    def __covet_json_schema__(cls) -> dict[str, Any]:
        return json_schema(cls.__model__, cls.__fields__, cls.__name__)


_derived: dict[tuple[Any, ...], type[SchemaObject]] = {}


def derive_schema(
    model: type[Model], *, include: set[str] | None, exclude: set[str] | None, name: str | None
) -> type[SchemaObject]:
    meta = model._meta
    for group in (include or set(), exclude or set()):
        for n in group:
            if n not in meta.by_name and n not in meta.by_attname:
                raise ValueError(f"{model.__name__} has no field {n!r}")
    chosen = tuple(
        f.name
        for f in meta.fields
        if (include is None or f.name in include or f.attname in include)
        and not (exclude and (f.name in exclude or f.attname in exclude))
    )
    title = name or _default_name(model, include, exclude, chosen)
    key = (model, chosen, title)
    cls = _derived.get(key)
    if cls is None:
        namespace = {
            "__model__": model,
            "__fields__": chosen,
            "__slots__": (),
            "__module__": model.__module__,
            "__qualname__": title,
        }
        cls = _derived[key] = type(title, (SchemaObject,), namespace)
    return cls


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def _default_name(
    model: type[Model],
    include: set[str] | None,
    exclude: set[str] | None,
    chosen: tuple[str, ...],
) -> str:
    """A stable name telling subsets apart: ``UserOnlyEmailName`` (the fields kept, in
    model order, when ``include`` is given), ``UserWithoutPasswordHash`` (the fields
    dropped, sorted), ``UserSchema`` (all fields)."""
    base = model.__name__
    if include is not None:
        return f"{base}Only{''.join(_camel(n) for n in chosen)}" if chosen else f"{base}Empty"
    if exclude:
        meta = model._meta
        dropped = sorted({(meta.by_name.get(n) or meta.by_attname[n]).name for n in exclude})
        return f"{base}Without{''.join(_camel(n) for n in dropped)}"
    return f"{base}Schema"
