"""A model is also a schema: value validation, JSON-ready ``to_dict``, JSON Schema, and
derived field subsets (``User.schema(exclude={"password_hash"})``) that implement the
handlers' ``__covet_validate__`` / ``__covet_json_schema__`` protocol.

Error entries follow the framework format ``{"field", "message", "code", "value"}``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import enum
import uuid
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from covet.exceptions import ValidationError

if TYPE_CHECKING:
    from covet.orm.base import Model
    from covet.orm.fields import Field

__all__ = (
    "SchemaObject",
    "check_value",
    "derive_schema",
    "instance_to_dict",
    "json_schema",
    "validate_data",
    "validate_fields",
    "validate_instance",
)

_INT_RANGES = {
    "smallint": (-(2**15), 2**15 - 1),
    "int": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}
_REL = "_rel_"


class _Invalid(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _parse_datetime(value: str) -> dt.datetime:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return dt.datetime.fromisoformat(text)


def _coerce(field: Field, value: Any, from_json: bool) -> Any:
    """Return the Python value for ``field`` or raise ``_Invalid``."""
    kind = field.kind
    if kind in _INT_RANGES:
        if isinstance(value, bool) or not isinstance(value, int):
            if field.related_model is not None and hasattr(value, "_meta"):
                return value.pk  # type: ignore[union-attr]
            raise _Invalid("type_error", "Input should be a valid integer")
        lo, hi = _INT_RANGES[kind]
        if not lo <= value <= hi:
            raise _Invalid("range", f"Input should be between {lo} and {hi}")
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _Invalid("type_error", "Input should be a valid number")
        return float(value)
    if kind == "decimal":
        return _decimal(field, value)
    if kind in ("str", "text"):
        if not isinstance(value, str):
            raise _Invalid("type_error", "Input should be a valid string")
        if "\x00" in value:
            raise _Invalid("value_error", "String must not contain NUL characters")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise _Invalid("type_error", "Input should be a valid boolean")
        return value
    if kind == "datetime":
        if isinstance(value, str) and from_json:
            try:
                return _parse_datetime(value)
            except ValueError:
                raise _Invalid("type_error", "Input should be an ISO 8601 datetime") from None
        if not isinstance(value, dt.datetime):
            raise _Invalid("type_error", "Input should be a valid datetime")
        return value
    if kind == "date":
        if isinstance(value, str) and from_json:
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise _Invalid("type_error", "Input should be an ISO 8601 date") from None
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise _Invalid("type_error", "Input should be a valid date")
        return value
    if kind == "time":
        if isinstance(value, str) and from_json:
            try:
                return dt.time.fromisoformat(value)
            except ValueError:
                raise _Invalid("type_error", "Input should be an ISO 8601 time") from None
        if not isinstance(value, dt.time):
            raise _Invalid("type_error", "Input should be a valid time")
        return value
    if kind == "uuid":
        if isinstance(value, str):
            try:
                return uuid.UUID(value)
            except ValueError:
                raise _Invalid("type_error", "Input should be a valid UUID") from None
        if not isinstance(value, uuid.UUID):
            if field.related_model is not None and hasattr(value, "_meta"):
                return value.pk
            raise _Invalid("type_error", "Input should be a valid UUID")
        return value
    if kind == "bytes":
        if isinstance(value, str) and from_json:
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise _Invalid("type_error", "Input should be base64-encoded bytes") from None
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise _Invalid("type_error", "Input should be bytes")
        return bytes(value)
    if kind == "json":
        _check_json(value, 0)
        return value
    if kind == "enum":
        etype = field.enum_type
        assert etype is not None
        if isinstance(value, etype):
            return value
        try:
            return etype(value)
        except ValueError:
            allowed = ", ".join(repr(m.value) for m in etype)
            raise _Invalid("enum", f"Input should be one of {allowed}") from None
    raise _Invalid("type_error", f"Unsupported field kind {kind!r}")


def _decimal(field: Field, value: Any) -> decimal.Decimal:
    if isinstance(value, bool):
        raise _Invalid("type_error", "Input should be a valid decimal")
    try:
        if isinstance(value, decimal.Decimal):
            d = value
        elif isinstance(value, int):
            d = decimal.Decimal(value)
        elif isinstance(value, (float, str)):
            d = decimal.Decimal(str(value).strip())
        else:
            raise _Invalid("type_error", "Input should be a valid decimal")
    except decimal.InvalidOperation:
        raise _Invalid("type_error", "Input should be a valid decimal") from None
    if not d.is_finite():
        raise _Invalid("type_error", "Input should be a finite decimal")
    _sign, digits, exp = d.as_tuple()
    places = -exp if isinstance(exp, int) and exp < 0 else 0
    whole = len(digits) - places if isinstance(exp, int) else len(digits)
    if field.decimal_places is not None and places > field.decimal_places:
        raise _Invalid(
            "decimal_places", f"Decimal should have at most {field.decimal_places} decimal places"
        )
    if field.max_digits is not None:
        max_whole = field.max_digits - (field.decimal_places or 0)
        if whole > max_whole:
            raise _Invalid(
                "max_digits", f"Decimal should have at most {max_whole} digits before the point"
            )
    return d


def _check_json(value: Any, depth: int) -> None:
    if depth > 64:
        raise _Invalid("value_error", "JSON value nested too deeply")
    if value is None or isinstance(value, (str, bool, int, float)):
        return
    if isinstance(value, (list, tuple)):
        for v in value:
            _check_json(v, depth + 1)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise _Invalid("type_error", "JSON object keys must be strings")
            _check_json(v, depth + 1)
        return
    raise _Invalid("type_error", f"{type(value).__name__} is not JSON-serialisable")


def _constraints(field: Field, value: Any) -> None:
    if field.choices:
        allowed = [c[0] if isinstance(c, (tuple, list)) else c for c in field.choices]
        if value not in allowed:
            raise _Invalid(
                "choices", f"Input should be one of {', '.join(repr(a) for a in allowed)}"
            )
    if field.kind in ("str", "text"):
        if field.max_length is not None and len(value) > field.max_length:
            raise _Invalid(
                "max_length", f"String should have at most {field.max_length} characters"
            )
        if field.min_length is not None and len(value) < field.min_length:
            raise _Invalid(
                "min_length", f"String should have at least {field.min_length} characters"
            )
    if field.ge is not None and value < field.ge:
        raise _Invalid("range", f"Input should be greater than or equal to {field.ge}")
    if field.le is not None and value > field.le:
        raise _Invalid("range", f"Input should be less than or equal to {field.le}")


def _clean(field: Field, value: Any, from_json: bool) -> Any:
    if value is None:
        if field.nullable or field.auto:
            return None
        raise _Invalid("null", "Field may not be null")
    value = _coerce(field, value, from_json)
    _constraints(field, value)
    return value


def _entry(loc: str, name: str, exc: _Invalid, value: Any) -> dict[str, Any]:
    return {
        "field": f"{loc}.{name}" if loc else name,
        "message": exc.message,
        "code": exc.code,
        "value": _json_ready(value) if _safe_echo(value) else None,
    }


def _safe_echo(value: Any) -> bool:
    return value is None or (
        isinstance(value, (str, int, float, bool))
        and not (isinstance(value, str) and len(value) > 200)
    )


def check_value(field: Field, value: Any) -> Any:
    """Validate one value for ``field`` (used by ``update()``); raises ValidationError."""
    try:
        return _clean(field, value, from_json=False)
    except _Invalid as exc:
        raise ValidationError([_entry("", field.name, exc, value)]) from None


def validate_instance(obj: Model) -> None:
    """Check every concrete field of ``obj``; raise ValidationError with all errors."""
    errors = []
    d = obj.__dict__
    for f in obj._meta.fields:
        value = d.get(f.attname)
        try:
            cleaned = _clean(f, value, from_json=False)
        except _Invalid as exc:
            errors.append(_entry("", f.name, exc, value))
            continue
        if cleaned is not value and f.kind in ("float", "decimal", "enum", "uuid", "bytes"):
            d[f.attname] = cleaned
    if errors:
        raise ValidationError(errors)


def validate_fields(obj: Model, fields: list[Field]) -> None:
    """Check only ``fields`` of ``obj`` (bulk_update, save(update_fields=...))."""
    errors = []
    d = obj.__dict__
    for f in fields:
        value = d.get(f.attname)
        try:
            _clean(f, value, from_json=False)
        except _Invalid as exc:
            errors.append(_entry("", f.name, exc, value))
    if errors:
        raise ValidationError(errors)


def _schema_fields(model: type[Model], names: tuple[str, ...] | None) -> list[Field]:
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
                        "value": None,
                    }
                )
            continue
        value = data[key]
        try:
            out[f.attname] = _clean(f, value, from_json=True)
        except _Invalid as exc:
            errors.append(_entry(loc, f.attname, exc, value))
    if errors:
        raise ValidationError(errors)
    return out


def _json_ready(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, enum.Enum):
        return _json_ready(value.value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_ready(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    return str(value)


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
            out[f.attname] = _json_ready(d.get(f.attname))
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
            out[key] = _json_ready(value)  # annotations
    return out


def _field_schema(f: Field) -> dict[str, Any]:
    kind = f.kind
    s: dict[str, Any]
    if kind in _INT_RANGES:
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
        s["default"] = _json_ready(f.default)
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
        return {k: _json_ready(v) for k, v in self._data.items()}

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
    title = name or f"{model.__name__}Schema"
    key = (model, chosen, title)
    cls = _derived.get(key)
    if cls is None:
        cls = _derived[key] = type(
            title, (SchemaObject,), {"__model__": model, "__fields__": chosen, "__slots__": ()}
        )
    return cls
