"""JSON encoding and decoding: orjson when installed, the stdlib otherwise, same output.

Both paths produce compact UTF-8 JSON (no spaces, non-ASCII kept as UTF-8) and accept
the same extra types: datetime/date/time (ISO 8601), UUID, Decimal (as a number), Enum
(its value), dataclasses,
sets/frozensets/tuples (as arrays) and objects with a ``to_dict()`` method.

The backend is chosen on first use, not at import time, so ``import covet`` never pulls
in an optional extra. Call ``dumps``/``loads`` through this module (``_json.dumps``).
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import json
import uuid
from collections.abc import Callable
from typing import Any

__all__ = ("JSONDecodeError", "backend", "dumps", "loads", "use_stdlib")

JSONDecodeError = ValueError  # both json.JSONDecodeError and orjson.JSONDecodeError subclass it


def default(obj: Any) -> Any:
    """Convert the extra types both backends accept into JSON-native values."""
    if isinstance(obj, datetime.datetime | datetime.date | datetime.time):
        return obj.isoformat()
    if isinstance(obj, uuid.UUID):
        return str(obj)
    if isinstance(obj, decimal.Decimal):
        return float(obj)
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    model_dump = getattr(obj, "model_dump", None)  # pydantic v2
    if callable(model_dump):
        return model_dump(mode="json")
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


_std_encoder = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=default
).encode
_std_decode = json.JSONDecoder().decode


def _std_dumps(obj: Any) -> bytes:
    return _std_encoder(obj).encode("utf-8")


def _std_loads(data: bytes | bytearray | memoryview | str) -> Any:
    if isinstance(data, bytes | bytearray | memoryview):
        data = bytes(data).decode("utf-8")
    return _std_decode(data)


def _select() -> tuple[Callable[[Any], bytes], Callable[[Any], Any], str]:
    try:
        import orjson
    except ImportError:
        return _std_dumps, _std_loads, "json"
    opts = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS
    _dumps = orjson.dumps

    def orjson_dumps(obj: Any) -> bytes:
        try:
            return _dumps(obj, default=default, option=opts)
        except TypeError:
            # orjson refuses what the stdlib accepts (integers beyond 64 bits): same output
            return _std_dumps(obj)

    return orjson_dumps, orjson.loads, "orjson"


def dumps(obj: Any) -> bytes:
    """Serialise ``obj`` to compact UTF-8 JSON bytes."""
    _install()
    return dumps(obj)


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """Parse JSON text or bytes; raises ``ValueError`` on malformed input."""
    _install()
    return loads(data)


def backend() -> str:
    """Name of the active backend: ``"orjson"`` or ``"json"``."""
    _install()
    return _backend


_backend = ""


def _install() -> None:
    global dumps, loads, _backend
    dumps, loads, _backend = _select()  # type: ignore[assignment]


def use_stdlib() -> None:
    """Force the stdlib backend (tests compare both backends' output)."""
    global dumps, loads, _backend
    dumps, loads, _backend = _std_dumps, _std_loads, "json"
