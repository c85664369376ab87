"""Scalar validators of the stdlib validator: one function per type and mode.

JSON mode is strict about JSON types; string mode (query, headers, forms) parses text.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import math
import uuid
from collections.abc import Callable
from typing import Any

from covet.exceptions import ImproperlyConfigured

from .errors import fail
from .typeinfo import type_name

__all__ = ("SCALARS", "SCALAR_BASES", "enum_validator", "literal_validator", "scalar_base", "subclass_scalar")

Validator = Callable[[Any], Any]

_TRUE = frozenset(("true", "1", "yes", "on"))
_FALSE = frozenset(("false", "0", "no", "off"))


def _identity(v: Any) -> Any:
    return v


def _none(v: Any) -> None:
    if v is not None:
        fail("type_error", "Expected null", v)


def _str_json(v: Any) -> str:
    if type(v) is str:
        return v
    if isinstance(v, str):
        return str(v)
    fail("type_error", "Expected a string", v)


def _str_s(v: Any) -> str:
    if isinstance(v, str):
        return v
    fail("type_error", "Expected a string", v)


def _int_json(v: Any) -> int:
    tv = type(v)
    if tv is int:
        return v
    if tv is float:
        if v.is_integer():
            return int(v)
        fail("type_error", "Expected an integer, got a number with a fraction", v)
    if isinstance(v, int) and tv is not bool:
        return int(v)
    fail("type_error", "Expected an integer", v)


def _int_s(v: Any) -> int:
    if type(v) is int:
        return v
    if isinstance(v, str) and "_" not in v:
        try:
            return int(v)
        except ValueError:
            pass
    fail("type_error", "Expected an integer", v)


def _float_json(v: Any) -> float:
    tv = type(v)
    if tv is float:
        if math.isfinite(v):
            return v
        fail("value_error", "Expected a finite number", v)
    if tv is int:
        return float(v)
    if isinstance(v, int | float) and tv is not bool:
        return _float_json(float(v))
    fail("type_error", "Expected a number", v)


def _float_s(v: Any) -> float:
    if isinstance(v, str) and "_" not in v:
        try:
            f = float(v)
        except ValueError:
            pass
        else:
            if math.isfinite(f):
                return f
    elif type(v) in (int, float):
        return _float_json(v)
    fail("type_error", "Expected a number", v)


def _bool_json(v: Any) -> bool:
    if v is True or v is False:
        return v
    fail("type_error", "Expected a boolean", v)


def _bool_s(v: Any) -> bool:
    if v is True or v is False:
        return v
    if isinstance(v, str):
        low = v.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    fail("type_error", "Expected a boolean (true/false, 1/0, yes/no, on/off)", v)


def _bytes_v(v: Any) -> bytes:
    if isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return v.encode("utf-8")
    if isinstance(v, bytearray | memoryview):
        return bytes(v)
    fail("type_error", "Expected a string", v)


def _decimal_v(v: Any) -> decimal.Decimal:
    if isinstance(v, decimal.Decimal):
        d = v
    elif isinstance(v, int | float | str) and not isinstance(v, bool):
        try:
            d = decimal.Decimal(v if isinstance(v, str | int) else repr(v))
        except (decimal.InvalidOperation, ValueError):
            fail("type_error", "Expected a decimal number", v)
    else:
        fail("type_error", "Expected a decimal number", v)
    if not d.is_finite():
        fail("value_error", "Expected a finite decimal number", v)
    return d


def _uuid_v(v: Any) -> uuid.UUID:
    if isinstance(v, uuid.UUID):
        return v
    if isinstance(v, str):
        try:
            return uuid.UUID(v)
        except ValueError:
            pass
    fail("type_error", "Expected a UUID", v)


def _datetime_v(v: Any) -> datetime.datetime:
    if isinstance(v, datetime.datetime):
        return v
    if isinstance(v, str) and 0 < len(v) <= 64:
        try:
            return datetime.datetime.fromisoformat(v)
        except ValueError:
            pass
    fail("type_error", "Expected an ISO 8601 datetime", v)


def _date_v(v: Any) -> datetime.date:
    if isinstance(v, datetime.date) and not isinstance(v, datetime.datetime):
        return v
    if isinstance(v, str) and 0 < len(v) <= 32:
        try:
            return datetime.date.fromisoformat(v)
        except ValueError:
            pass
    fail("type_error", "Expected an ISO 8601 date", v)


def _time_v(v: Any) -> datetime.time:
    if isinstance(v, datetime.time):
        return v
    if isinstance(v, str) and 0 < len(v) <= 32:
        try:
            return datetime.time.fromisoformat(v)
        except ValueError:
            pass
    fail("type_error", "Expected an ISO 8601 time", v)


def _timedelta_v(v: Any) -> datetime.timedelta:
    if isinstance(v, datetime.timedelta):
        return v
    seconds = _float_s(v) if isinstance(v, str) else _float_json(v)
    try:
        return datetime.timedelta(seconds=seconds)
    except OverflowError:
        fail("value_error", "Duration out of range", v)


SCALARS: dict[type, tuple[Validator, Validator]] = {
    str: (_str_json, _str_s),
    int: (_int_json, _int_s),
    float: (_float_json, _float_s),
    bool: (_bool_json, _bool_s),
    bytes: (_bytes_v, _bytes_v),
    decimal.Decimal: (_decimal_v, _decimal_v),
    uuid.UUID: (_uuid_v, _uuid_v),
    datetime.datetime: (_datetime_v, _datetime_v),
    datetime.date: (_date_v, _date_v),
    datetime.time: (_time_v, _time_v),
    datetime.timedelta: (_timedelta_v, _timedelta_v),
}
SCALAR_BASES = (str, int, float, bytes)


def scalar_base(tp: type) -> type:
    for base in SCALAR_BASES:
        if issubclass(tp, base):
            return base
    raise ImproperlyConfigured(f"unsupported type annotation {type_name(tp)!r}")


def subclass_scalar(tp: type, base_v: Validator) -> Validator:
    def v(value: Any) -> Any:
        if isinstance(value, tp):
            return value
        return tp(base_v(value))

    return v


def literal_validator(values: tuple[Any, ...], strings: bool) -> Validator:
    allowed: dict[Any, Any] = {}
    for val in values:
        allowed[(type(val), val)] = val
    by_str = {str(val).lower() if isinstance(val, bool) else str(val): val for val in values}
    shown = ", ".join(repr(v) for v in values)

    def v(value: Any) -> Any:
        try:
            return allowed[(type(value), value)]
        except (KeyError, TypeError):
            pass
        if strings and isinstance(value, str) and value in by_str:
            return by_str[value]
        fail("enum", f"Expected one of: {shown}", value)

    return v


def enum_validator(tp: type[enum.Enum], strings: bool) -> Validator:
    by_value: dict[Any, enum.Enum] = {}
    for member in tp:
        by_value.setdefault((type(member.value), member.value), member)
    by_str = {str(m.value): m for m in tp}
    shown = ", ".join(repr(m.value) for m in tp)

    def v(value: Any) -> Any:
        if isinstance(value, tp):
            return value
        try:
            return by_value[(type(value), value)]
        except (KeyError, TypeError):
            pass
        if isinstance(value, str) and (strings or issubclass(tp, str)) and value in by_str:
            return by_str[value]
        fail("enum", f"Expected one of: {shown}", value)

    return v
