"""Classifying type hints: scalars, structured models, and which model system owns a type.

Foreign model systems are detected by duck typing and ``sys.modules`` look-ups, so
pydantic and msgspec are never imported unless the application already did.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import sys
import types
import typing
import uuid
from typing import Any, Literal, Union, get_args, get_origin

from covet._typing import is_typeddict, split_qualifiers

__all__ = (
    "NONE_TYPE",
    "SCALAR_TYPES",
    "foreign_kind",
    "generic_origin",
    "involves_foreign",
    "is_scalar",
    "is_scalar_sequence",
    "is_struct",
    "is_typeddict",
    "split_qualifiers",
    "type_name",
    "unwrap_annotated",
    "unwrap_optional",
)

NONE_TYPE = type(None)
SCALAR_TYPES: tuple[type, ...] = (
    str,
    int,
    float,
    bool,
    bytes,
    decimal.Decimal,
    uuid.UUID,
    datetime.datetime,
    datetime.date,
    datetime.time,
    datetime.timedelta,
)
SEQUENCE_ORIGINS = (list, set, frozenset, tuple)


def unwrap_annotated(tp: Any) -> tuple[Any, list[Any]]:
    """``Annotated[T, a, b]`` -> ``(T, [a, b])`` (flattening nested Annotated)."""
    meta: list[Any] = []
    while get_origin(tp) is typing.Annotated:
        meta = [*tp.__metadata__, *meta]
        tp = tp.__origin__
    return tp, meta


def is_union(tp: Any) -> bool:
    origin = get_origin(tp)
    return origin is Union or origin is types.UnionType


def unwrap_optional(tp: Any) -> tuple[Any, bool]:
    """``Optional[T]`` -> ``(T, True)``; other types -> ``(tp, False)``."""
    if is_union(tp):
        args = [a for a in get_args(tp) if a is not NONE_TYPE]
        if len(args) != len(get_args(tp)):
            if len(args) == 1:
                return args[0], True
            return Union[tuple(args)], True
    return tp, False


def foreign_kind(tp: Any) -> str | None:
    """``"pydantic"``, ``"msgspec"`` or ``"protocol"`` for a model class of those systems.

    A parametrised generic msgspec ``Struct`` (``Page[Item]``) is ``"msgspec"`` too.
    """
    if not isinstance(tp, type):
        origin = get_origin(tp)
        if isinstance(origin, type) and _user_class(origin):
            ms = sys.modules.get("msgspec")
            if ms is not None and issubclass(origin, ms.Struct):
                return "msgspec"
        return None
    if hasattr(tp, "__covet_validate__"):
        return "protocol"
    pyd = sys.modules.get("pydantic")
    if pyd is not None and issubclass(tp, pyd.BaseModel):
        return "pydantic"
    ms = sys.modules.get("msgspec")
    if ms is not None and issubclass(tp, ms.Struct):
        return "msgspec"
    return None


def involves_foreign(tp: Any, kind: str) -> bool:
    """Whether ``tp`` is or contains (in its type arguments) a model of system ``kind``."""
    tp, _ = unwrap_annotated(tp)
    if foreign_kind(tp) == kind:
        return True
    return any(involves_foreign(a, kind) for a in get_args(tp) if a is not Ellipsis)


def _user_class(tp: type) -> bool:
    return tp.__module__ not in ("builtins", "typing", "typing_extensions", "collections.abc")


def generic_origin(tp: Any) -> type | None:
    """The class of a parametrised generic struct (``Page[Item]`` -> ``Page``), else None.

    Only user dataclasses, TypedDicts and plain annotated classes count; builtin and
    ``typing`` generics (``list[int]``) and foreign models are handled elsewhere.
    """
    origin = get_origin(tp)
    if not isinstance(origin, type) or not _user_class(origin) or foreign_kind(origin) is not None:
        return None
    if is_typeddict(origin) or dataclasses.is_dataclass(origin) or _is_plain_class(origin):
        return origin
    return None


def _is_plain_class(tp: Any) -> bool:
    if not isinstance(tp, type) or tp.__module__ == "builtins" or issubclass(tp, enum.Enum):
        return False
    if issubclass(tp, SCALAR_TYPES):
        return False
    try:
        hints = typing.get_type_hints(tp)
    except Exception:
        return False
    return bool(hints)


def is_struct(tp: Any) -> bool:
    """A structured type (read from a JSON body): models, dataclasses, TypedDicts, dicts, lists of those."""
    tp, _ = unwrap_annotated(tp)
    tp, _ = unwrap_optional(tp)
    if foreign_kind(tp) is not None or is_typeddict(tp):
        return True
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return True
    if generic_origin(tp) is not None:
        return True
    origin = get_origin(tp)
    if tp is dict or origin is dict or tp is typing.Any:
        return tp is not typing.Any
    if origin is tuple and Ellipsis not in get_args(tp):
        return True  # a fixed-length tuple is a JSON array: it cannot be a repeated query key
    if origin in SEQUENCE_ORIGINS or tp in SEQUENCE_ORIGINS:
        return any(is_struct(a) for a in get_args(tp) if a is not Ellipsis) or tp in SEQUENCE_ORIGINS
    if is_union(tp):
        return any(is_struct(a) for a in get_args(tp))
    return _is_plain_class(tp)


def is_scalar(tp: Any) -> bool:
    """A type read from one string: str, int, ..., Enum, Literal, and Optional/Union of those."""
    tp, _ = unwrap_annotated(tp)
    tp, _ = unwrap_optional(tp)
    if tp is typing.Any:
        return True
    if get_origin(tp) is Literal:
        return True
    if is_union(tp):
        return all(is_scalar(a) for a in get_args(tp))
    return isinstance(tp, type) and (issubclass(tp, SCALAR_TYPES) or issubclass(tp, enum.Enum))


def is_scalar_sequence(tp: Any) -> bool:
    """``list[scalar]`` (also set, frozenset, ``tuple[scalar, ...]``), for repeated query keys."""
    tp, _ = unwrap_annotated(tp)
    tp, _ = unwrap_optional(tp)
    if tp in (list, set, frozenset):
        return True
    origin = get_origin(tp)
    if origin in (list, set, frozenset):
        args = get_args(tp)
        return not args or is_scalar(args[0])
    if origin is tuple:
        args = get_args(tp)
        return len(args) == 2 and args[1] is Ellipsis and is_scalar(args[0])
    return False


def type_name(tp: Any) -> str:
    """A short human name for error messages (``int``, ``list[str]``, ``Item``)."""
    tp, _ = unwrap_annotated(tp)
    if tp is NONE_TYPE or tp is None:
        return "null"
    if get_origin(tp) is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if is_union(tp):
        return " | ".join(type_name(a) for a in get_args(tp))
    origin = get_origin(tp)
    if origin is not None:
        args = ", ".join("..." if a is Ellipsis else type_name(a) for a in get_args(tp))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    return getattr(tp, "__name__", str(tp))
