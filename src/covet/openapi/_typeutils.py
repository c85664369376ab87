"""Helpers of ``covet.openapi.schema``: type inspection, names, defaults, ``$ref`` rewriting."""

from __future__ import annotations

import datetime
import decimal
import enum
import inspect
import re
import typing
import uuid
from collections.abc import Callable, Mapping
from typing import Any

__all__ = (
    "OPTIONAL",
    "class_doc",
    "enum_schema",
    "factory_default",
    "is_namedtuple",
    "is_plain_class",
    "is_upload_file",
    "jsonable_default",
    "names_for",
    "resolve_refs",
    "title_of",
    "type_hints",
    "unwrap_alias",
    "with_keyword",
)

NAME_OK = re.compile(r"[^A-Za-z0-9._-]")
OPTIONAL = object()  # the field may be omitted, but no default can be shown


def is_upload_file(tp: Any) -> bool:
    return (
        isinstance(tp, type)
        and tp.__name__ == "UploadFile"
        and any(base.__module__.startswith(("covet.", "starlette.")) for base in tp.__mro__)
    )


def jsonable_default(value: Any) -> Any:
    """Return ``value`` as JSON data for a ``default``, or raise ``ValueError``."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("non-finite float")
        return value
    if isinstance(value, enum.Enum):
        return jsonable_default(value.value)
    if isinstance(value, decimal.Decimal):
        return jsonable_default(float(value))
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable_default(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ValueError("non-string key")
        return {k: jsonable_default(v) for k, v in value.items()}
    raise ValueError(f"{type(value).__name__} default is not representable in JSON")


def _json_type(value: Any) -> str | None:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def enum_schema(values: list[Any]) -> dict[str, Any]:
    """``enum`` (or ``const``) with a ``type`` when all values share one."""
    kinds = sorted({t for t in map(_json_type, values) if t is not None})
    schema: dict[str, Any] = {"const": values[0]} if len(values) == 1 else {"enum": values}
    if len(kinds) == 1 and all(_json_type(v) is not None for v in values):
        schema["type"] = kinds[0]
    elif set(kinds) == {"integer", "number"}:
        schema["type"] = "number"
    return schema


def class_doc(cls: type) -> str | None:
    doc = cls.__dict__.get("__doc__")
    if not doc:
        return None
    doc = inspect.cleandoc(doc)
    # dataclasses and NamedTuples invent a signature-like docstring: not a description.
    if doc.startswith(f"{cls.__name__}(") or doc.startswith("dict() -> new empty dictionary"):
        return None
    return doc


def is_namedtuple(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, tuple) and hasattr(tp, "_fields")


def is_plain_class(tp: Any) -> bool:
    """A user class that declares its fields with annotations (and nothing else special)."""
    if not isinstance(tp, type) or tp.__module__ in ("builtins", "typing", "collections.abc"):
        return False
    if issubclass(tp, BaseException | enum.Enum):
        return False
    return any("__annotations__" in vars(base) for base in tp.__mro__[:-1])


def type_hints(tp: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(tp, include_extras=True)
    except Exception as exc:  # unresolvable forward reference: a programming error
        raise TypeError(f"cannot resolve the annotations of {tp!r}: {exc}") from exc


def with_keyword(schema: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    """Add a keyword next to a ``$ref`` (allowed in 2020-12) or into the schema."""
    out = dict(schema)
    out[key] = value
    return out


def factory_default(factory: Callable[[], Any]) -> Any:
    """Defaults made by ``list``/``dict``/... are shown; other factories just make it optional."""
    if factory in (list, dict, tuple):
        return factory()
    if factory in (set, frozenset):
        return []
    return OPTIONAL


def unwrap_alias(tp: Any) -> Any:
    while True:
        if isinstance(tp, str):
            raise TypeError(f"unresolved forward reference {tp!r}")
        if isinstance(tp, typing.ForwardRef):
            raise TypeError(f"unresolved forward reference {tp.__forward_arg__!r}")
        supertype = getattr(tp, "__supertype__", None)  # typing.NewType
        if supertype is not None and callable(tp):
            tp = supertype
            continue
        value = getattr(tp, "__value__", None)  # PEP 695 type aliases (3.12+)
        if value is not None and type(tp).__name__ == "TypeAliasType":
            tp = value
            continue
        return tp


def title_of(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is None:
        return str(tp.__name__)
    args = "_".join(arg_name(a) for a in typing.get_args(tp))
    return f"{origin.__name__}_{args}_"


def arg_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is not None:
        inner = "_".join(arg_name(a) for a in typing.get_args(tp))
        return f"{getattr(origin, '__name__', 'T')}_{inner}_"
    return NAME_OK.sub("_", getattr(tp, "__name__", None) or str(tp))


def names_for(tp: Any) -> tuple[str, str]:
    """(short name, qualified name) candidates for a component."""
    origin = typing.get_origin(tp) or tp
    short = NAME_OK.sub("_", title_of(tp))
    module = getattr(origin, "__module__", "") or ""
    qualname = getattr(origin, "__qualname__", origin.__name__).replace(".<locals>.", ".")
    qualified = f"{module}.{qualname}" if module else qualname
    if typing.get_origin(tp) is not None:
        qualified = f"{qualified}.{short}"
    return short, NAME_OK.sub("_", qualified)


def resolve_refs(node: Any, refs: Mapping[str, str]) -> Any:
    """Replace ``$ref`` placeholders in a schema tree by their settled references."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value in refs:
                out[key] = refs[value]
            else:
                out[key] = resolve_refs(value, refs)
        return out
    if isinstance(node, list):
        return [resolve_refs(v, refs) for v in node]
    return node
