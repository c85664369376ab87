"""Field value validation: type checks and JSON coercion, length/choices/range/decimal
constraints, nullability. Errors use the framework format ``{"field", "message", "code",
"value"}``."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import enum
import uuid
from typing import TYPE_CHECKING, Any

from covet.exceptions import ValidationError

if TYPE_CHECKING:
    from covet.orm.base import Model
    from covet.orm.fields import ModelField

__all__ = (
    "INT_RANGES",
    "Invalid",
    "check_value",
    "clean",
    "error_entry",
    "json_ready",
    "validate_fields",
    "validate_instance",
)

INT_RANGES = {
    "smallint": (-(2**15), 2**15 - 1),
    "int": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}


class Invalid(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _parse_datetime(value: str) -> dt.datetime:
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return dt.datetime.fromisoformat(text)


def _coerce(field: ModelField, value: Any, from_json: bool) -> Any:
    """Return the Python value for ``field`` or raise ``Invalid``."""
    kind = field.kind
    if kind in INT_RANGES:
        if isinstance(value, bool) or not isinstance(value, int):
            if field.related_model is not None and hasattr(value, "_meta"):
                return value.pk  # type: ignore[union-attr]
            raise Invalid("type_error", "Input should be a valid integer")
        lo, hi = INT_RANGES[kind]
        if value < lo:
            raise Invalid("too_small", f"Input should be greater than or equal to {lo}")
        if value > hi:
            raise Invalid("too_large", f"Input should be less than or equal to {hi}")
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Invalid("type_error", "Input should be a valid number")
        return float(value)
    if kind == "decimal":
        return _decimal(field, value)
    if kind in ("str", "text"):
        if not isinstance(value, str):
            raise Invalid("type_error", "Input should be a valid string")
        if "\x00" in value:
            raise Invalid("value_error", "String must not contain NUL characters")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise Invalid("type_error", "Input should be a valid boolean")
        return value
    if kind == "datetime":
        if isinstance(value, str) and from_json:
            try:
                return _parse_datetime(value)
            except ValueError:
                raise Invalid("type_error", "Input should be an ISO 8601 datetime") from None
        if not isinstance(value, dt.datetime):
            raise Invalid("type_error", "Input should be a valid datetime")
        return value
    if kind == "date":
        if isinstance(value, str) and from_json:
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                raise Invalid("type_error", "Input should be an ISO 8601 date") from None
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise Invalid("type_error", "Input should be a valid date")
        return value
    if kind == "time":
        if isinstance(value, str) and from_json:
            try:
                return dt.time.fromisoformat(value)
            except ValueError:
                raise Invalid("type_error", "Input should be an ISO 8601 time") from None
        if not isinstance(value, dt.time):
            raise Invalid("type_error", "Input should be a valid time")
        return value
    if kind == "uuid":
        if isinstance(value, str):
            try:
                return uuid.UUID(value)
            except ValueError:
                raise Invalid("type_error", "Input should be a valid UUID") from None
        if not isinstance(value, uuid.UUID):
            if field.related_model is not None and hasattr(value, "_meta"):
                return value.pk
            raise Invalid("type_error", "Input should be a valid UUID")
        return value
    if kind == "bytes":
        if isinstance(value, str) and from_json:
            try:
                return base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                raise Invalid("type_error", "Input should be base64-encoded bytes") from None
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise Invalid("type_error", "Input should be bytes")
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
            raise Invalid("enum", f"Input should be one of {allowed}") from None
    raise Invalid("type_error", f"Unsupported field kind {kind!r}")


def _decimal(field: ModelField, value: Any) -> decimal.Decimal:
    if isinstance(value, bool):
        raise Invalid("type_error", "Input should be a valid decimal")
    try:
        if isinstance(value, decimal.Decimal):
            d = value
        elif isinstance(value, int):
            d = decimal.Decimal(value)
        elif isinstance(value, (float, str)):
            d = decimal.Decimal(str(value).strip())
        else:
            raise Invalid("type_error", "Input should be a valid decimal")
    except decimal.InvalidOperation:
        raise Invalid("type_error", "Input should be a valid decimal") from None
    if not d.is_finite():
        raise Invalid("type_error", "Input should be a finite decimal")
    _sign, digits, exp = d.as_tuple()
    places = -exp if isinstance(exp, int) and exp < 0 else 0
    whole = len(digits) - places if isinstance(exp, int) else len(digits)
    if field.decimal_places is not None and places > field.decimal_places:
        raise Invalid(
            "value_error", f"Decimal should have at most {field.decimal_places} decimal places"
        )
    if field.max_digits is not None:
        max_whole = field.max_digits - (field.decimal_places or 0)
        if whole > max_whole:
            raise Invalid(
                "value_error", f"Decimal should have at most {max_whole} digits before the point"
            )
    return d


def _check_json(value: Any, depth: int) -> None:
    if depth > 64:
        raise Invalid("value_error", "JSON value nested too deeply")
    if value is None or isinstance(value, (str, bool, int, float)):
        return
    if isinstance(value, (list, tuple)):
        for v in value:
            _check_json(v, depth + 1)
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise Invalid("type_error", "JSON object keys must be strings")
            _check_json(v, depth + 1)
        return
    raise Invalid("type_error", f"{type(value).__name__} is not JSON-serialisable")


def _constraints(field: ModelField, value: Any) -> None:
    if field.choices:
        allowed = [c[0] if isinstance(c, (tuple, list)) else c for c in field.choices]
        if value not in allowed:
            raise Invalid("enum", f"Input should be one of {', '.join(repr(a) for a in allowed)}")
    if field.kind in ("str", "text"):
        if field.max_length is not None and len(value) > field.max_length:
            raise Invalid("too_long", f"String should have at most {field.max_length} characters")
        if field.min_length is not None and len(value) < field.min_length:
            raise Invalid("too_short", f"String should have at least {field.min_length} characters")
    if field.ge is not None and value < field.ge:
        raise Invalid("too_small", f"Input should be greater than or equal to {field.ge}")
    if field.le is not None and value > field.le:
        raise Invalid("too_large", f"Input should be less than or equal to {field.le}")


def clean(field: ModelField, value: Any, from_json: bool) -> Any:
    if value is None:
        if field.nullable or field.auto:
            return None
        raise Invalid("type_error", "Field may not be null")
    value = _coerce(field, value, from_json)
    _constraints(field, value)
    return value


def error_entry(loc: str, name: str, exc: Invalid, value: Any) -> dict[str, Any]:
    return {
        "field": f"{loc}.{name}" if loc else name,
        "message": exc.message,
        "code": exc.code,
        "value": json_ready(value) if _safe_echo(value) else None,
    }


def _safe_echo(value: Any) -> bool:
    return value is None or (
        isinstance(value, (str, int, float, bool))
        and not (isinstance(value, str) and len(value) > 200)
    )


def check_value(field: ModelField, value: Any) -> Any:
    """Validate one value for ``field`` (used by ``update()``); raises ValidationError."""
    try:
        return clean(field, value, from_json=False)
    except Invalid as exc:
        raise ValidationError([error_entry("", field.name, exc, value)]) from None


def validate_instance(obj: Model) -> None:
    """Check every concrete field of ``obj``; raise ValidationError with all errors."""
    errors = []
    d = obj.__dict__
    for f in obj._meta.fields:
        value = d.get(f.attname)
        try:
            cleaned = clean(f, value, from_json=False)
        except Invalid as exc:
            errors.append(error_entry("", f.name, exc, value))
            continue
        if cleaned is not value and f.kind in ("float", "decimal", "enum", "uuid", "bytes"):
            d[f.attname] = cleaned
    if errors:
        raise ValidationError(errors)


def validate_fields(obj: Model, fields: list[ModelField]) -> None:
    """Check only ``fields`` of ``obj`` (bulk_update, save(update_fields=...))."""
    errors = []
    d = obj.__dict__
    for f in fields:
        value = d.get(f.attname)
        try:
            clean(f, value, from_json=False)
        except Invalid as exc:
            errors.append(error_entry("", f.name, exc, value))
    if errors:
        raise ValidationError(errors)


def json_ready(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (uuid.UUID, decimal.Decimal)):
        return str(value)
    if isinstance(value, enum.Enum):
        return json_ready(value.value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [json_ready(v) for v in value]
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    return str(value)
