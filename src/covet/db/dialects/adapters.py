"""Value adapters shared by the dialects: Python value <-> what a driver stores."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import uuid
from collections.abc import Callable
from typing import Any

__all__ = (
    "Converter",
    "bool_to_int",
    "enum_value",
    "json_dumps",
    "json_loads",
    "to_bool",
    "to_bytes",
    "to_decimal",
    "to_float",
    "to_utc_aware",
    "to_utc_naive",
    "uuid_from",
    "uuid_to_str",
)

Converter = Callable[[Any], Any]

UTC = dt.timezone.utc


def to_utc_aware(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_utc_naive(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def enum_value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def json_dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def json_loads(value: Any) -> Any:
    if isinstance(value, (str, bytes, bytearray)):
        return json.loads(value)
    return value


def uuid_from(value: Any) -> uuid.UUID:
    if type(value) is uuid.UUID:
        return value
    if isinstance(value, uuid.UUID):  # asyncpg's own UUID subclass
        return uuid.UUID(bytes=value.bytes)
    if isinstance(value, (bytes, bytearray)) and len(value) == 16:
        return uuid.UUID(bytes=bytes(value))
    if isinstance(value, (bytes, bytearray)):
        return uuid.UUID(value.decode("ascii"))
    return uuid.UUID(str(value))


def uuid_to_str(value: Any) -> str:
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


def bool_to_int(value: Any) -> int:
    return 1 if value else 0


def to_bool(value: Any) -> bool:
    return bool(value)


def to_decimal(value: Any) -> decimal.Decimal:
    if isinstance(value, decimal.Decimal):
        return value
    if isinstance(value, float):
        return decimal.Decimal(repr(value))
    return decimal.Decimal(str(value))


def to_float(value: Any) -> float:
    return float(value)


def to_bytes(value: Any) -> bytes:
    return bytes(value)
