"""The stdlib validator: type hints compiled once into specialised closures.

``compile_validator(tp, strings=..., from_attributes=..., extra=...)`` returns a function
``value -> value`` that converts and checks ``value`` against ``tp`` and raises
``Invalid`` carrying *every* error it found. Nothing is reflected per call: struct
fields, converters and constraints are resolved at compile time.

Modes:
- ``strings=True``: input values are strings (query, headers, cookies, path, forms); numbers
  and booleans are parsed (``true/false/1/0/yes/no/on/off``).
- ``strings=False`` (JSON): types must match JSON's; int rejects bools and fractional
  floats, bool accepts only ``true``/``false``; datetimes, UUIDs, Decimals... parse strings.
- ``from_attributes=True``: structs also read attributes of arbitrary objects (responses).
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import math
import operator
import re
import typing
import uuid
from collections.abc import Callable
from typing import Any, Literal, get_args, get_origin

from covet.exceptions import ImproperlyConfigured

from .errors import MISSING, ErrorEntry, Invalid, fail
from .params import constraints_of
from .typeinfo import (
    NONE_TYPE,
    SEQUENCE_ORIGINS,
    foreign_kind,
    is_typeddict,
    is_union,
    type_name,
    unwrap_annotated,
)

__all__ = ("Validator", "apply_constraints", "compile_validator", "struct_fields")

Validator = Callable[[Any], Any]

_TRUE = frozenset(("true", "1", "yes", "on"))
_FALSE = frozenset(("false", "0", "no", "off"))

_cache: dict[tuple[Any, bool, bool, str], Validator] = {}
# typing.Required / NotRequired (3.11+); absent names never match
_REQUIRED_MARKS = (getattr(typing, "Required", object()), getattr(typing, "NotRequired", object()))


def compile_validator(
    tp: Any,
    *,
    strings: bool = False,
    from_attributes: bool = False,
    extra: str = "ignore",
    constraints: dict[str, Any] | None = None,
) -> Validator:
    """Build (or fetch from cache) the validator for ``tp``; ``constraints`` wrap it."""
    base = _compile(tp, strings, from_attributes, extra)
    return apply_constraints(base, constraints) if constraints else base


def _compile(tp: Any, strings: bool, from_attributes: bool, extra: str) -> Validator:
    key = (tp, strings, from_attributes, extra)
    try:
        cached = _cache.get(key)
    except TypeError:  # unhashable metadata inside Annotated
        return _build(tp, strings, from_attributes, extra)
    if cached is not None:
        return cached
    built = _build(tp, strings, from_attributes, extra)
    _cache[key] = built
    return built


def _build(tp: Any, strings: bool, fa: bool, extra: str) -> Validator:
    tp, meta = unwrap_annotated(tp)
    if meta:
        cons: dict[str, Any] = {}
        for m in meta:
            cons.update(constraints_of(m))
        base = _compile(tp, strings, fa, extra)
        return apply_constraints(base, cons) if cons else base
    if tp is typing.Any or tp is object:
        return _identity
    if tp is NONE_TYPE or tp is None:
        return _none
    scalar = _SCALARS.get(tp) if isinstance(tp, type) else None
    if scalar is not None:
        return scalar[1] if strings else scalar[0]
    origin = get_origin(tp)
    if origin is Literal:
        return _literal(get_args(tp), strings)
    if is_union(tp):
        return _union(tp, strings, fa, extra)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum(tp, strings)
    if tp in SEQUENCE_ORIGINS or origin in SEQUENCE_ORIGINS:
        return _sequence(tp, origin or tp, strings, fa, extra)
    if tp is dict or origin is dict or tp is typing.Mapping or origin is typing.Mapping:
        return _mapping(tp, strings, fa, extra)
    kind = foreign_kind(tp)
    if kind is not None:
        from .foreign import python_validator

        return python_validator(tp, kind, from_attributes=fa)
    if isinstance(tp, type):
        if is_typeddict(tp):
            return _struct(tp, "typeddict", strings, fa, extra)
        if dataclasses.is_dataclass(tp):
            return _struct(tp, "dataclass", strings, fa, extra)
        if issubclass(tp, _SCALAR_BASES):
            base_v = _compile(_scalar_base(tp), strings, fa, extra)
            return _subclass_scalar(tp, base_v)
        if _hints(tp):
            return _struct(tp, "class", strings, fa, extra)
    raise ImproperlyConfigured(f"unsupported type annotation {type_name(tp)!r}")


# --- scalars ---------------------------------------------------------------------------


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


_SCALARS: dict[type, tuple[Validator, Validator]] = {
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
_SCALAR_BASES = (str, int, float, bytes)


def _scalar_base(tp: type) -> type:
    for base in _SCALAR_BASES:
        if issubclass(tp, base):
            return base
    raise ImproperlyConfigured(f"unsupported type annotation {type_name(tp)!r}")


def _subclass_scalar(tp: type, base_v: Validator) -> Validator:
    def v(value: Any) -> Any:
        if isinstance(value, tp):
            return value
        return tp(base_v(value))

    return v


def _literal(values: tuple[Any, ...], strings: bool) -> Validator:
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


def _enum(tp: type[enum.Enum], strings: bool) -> Validator:
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


def _union(tp: Any, strings: bool, fa: bool, extra: str) -> Validator:
    args = get_args(tp)
    nullable = NONE_TYPE in args
    members = [a for a in args if a is not NONE_TYPE]
    validators = [_compile(a, strings, fa, extra) for a in members]
    name = type_name(tp)
    if len(validators) == 1:
        only = validators[0]

        def optional(value: Any) -> Any:
            if value is None:
                return None
            return only(value)

        return optional

    exact = tuple(a for a in members if a in (str, int, float, bool))

    def union(value: Any) -> Any:
        if value is None and nullable:
            return None
        if not strings and type(value) in exact:
            return value
        first: Invalid | None = None
        for val in validators:
            try:
                return val(value)
            except Invalid as exc:
                if first is None:
                    first = exc
        if len(validators) > 1:
            fail("type_error", f"Expected {name}", value)
        assert first is not None
        raise first

    return union


def _sequence(tp: Any, origin: Any, strings: bool, fa: bool, extra: str) -> Validator:
    args = get_args(tp)
    if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
        if args == ((),):
            args = ()
        return _fixed_tuple([_compile(a, strings, fa, extra) for a in args])
    item = _compile(args[0], strings, fa, extra) if args else _identity
    exact = args[0] if args and args[0] in (str, int) and not strings else None
    build: Callable[[Any], Any] | None = None if origin is list else origin

    def seq(value: Any) -> Any:
        if type(value) is not list:
            if (fa and isinstance(value, tuple | set | frozenset)) or (strings and isinstance(value, tuple)):
                value = list(value)
            else:
                fail("type_error", f"Expected an array of {type_name(args[0]) if args else 'values'}", value)
        if exact is not None:
            for x in value:
                if type(x) is not exact:
                    break
            else:
                return value if build is None else build(value)
        out = []
        errors = None
        for i, x in enumerate(value):
            try:
                out.append(item(x))
            except Invalid as exc:
                errors = (errors or []) + exc.prefixed(i)
        if errors:
            raise Invalid(errors)
        if build is None:
            return out
        try:
            return build(out)
        except TypeError:
            fail("type_error", "Items must be hashable", value)

    return seq


def _fixed_tuple(items: list[Validator]) -> Validator:
    n = len(items)

    def tup(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list | tuple):
            fail("type_error", f"Expected an array of {n} items", value)
        if len(value) != n:
            fail("value_error", f"Expected an array of {n} items", value)
        out = []
        errors = None
        for i, (val, x) in enumerate(zip(items, value, strict=True)):
            try:
                out.append(val(x))
            except Invalid as exc:
                errors = (errors or []) + exc.prefixed(i)
        if errors:
            raise Invalid(errors)
        return tuple(out)

    return tup


def _mapping(tp: Any, strings: bool, fa: bool, extra: str) -> Validator:
    args = get_args(tp)
    key_v = _compile(args[0], True, fa, extra) if args else _identity
    val_v = _compile(args[1], strings, fa, extra) if args else _identity
    plain = key_v in (_str_s, _identity) and val_v is _identity

    def mapping(value: Any) -> dict[Any, Any]:
        if type(value) is not dict:
            if not isinstance(value, dict):
                fail("type_error", "Expected an object", value)
            value = dict(value)
        if plain:
            return value
        out = {}
        errors = None
        for k, x in value.items():
            try:
                out[key_v(k)] = val_v(x)
            except Invalid as exc:
                errors = (errors or []) + exc.prefixed(str(k))
        if errors:
            raise Invalid(errors)
        return out

    return mapping


# --- structs ---------------------------------------------------------------------------


def _hints(tp: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(tp, include_extras=True)
    except NameError as exc:
        raise ImproperlyConfigured(f"cannot resolve the annotations of {tp.__qualname__}: {exc}") from exc
    except TypeError:
        return {}


@dataclasses.dataclass(slots=True)
class StructField:
    """One field of a structured type, as the validator and OpenAPI see it."""

    name: str
    annotation: Any
    required: bool
    default: Any = MISSING
    default_factory: Callable[[], Any] | None = None
    alias: str | None = None

    @property
    def key(self) -> str:
        return self.alias or self.name


def struct_fields(tp: type, kind: str | None = None) -> list[StructField]:
    """The fields of a dataclass, TypedDict or plain annotated class, in declaration order."""
    hints = _hints(tp)
    kind = kind or ("typeddict" if is_typeddict(tp) else "dataclass" if dataclasses.is_dataclass(tp) else "class")
    fields: list[StructField] = []
    if kind == "dataclass":
        for f in dataclasses.fields(tp):
            if not f.init:
                continue
            ann = hints.get(f.name, Any)
            alias = f.metadata.get("alias") if f.metadata else None
            if f.default is not dataclasses.MISSING:
                fields.append(StructField(f.name, ann, False, f.default, alias=alias))
            elif f.default_factory is not dataclasses.MISSING:
                fields.append(StructField(f.name, ann, False, default_factory=f.default_factory, alias=alias))
            else:
                fields.append(StructField(f.name, ann, True, alias=alias))
    elif kind == "typeddict":
        required = tp.__required_keys__  # type: ignore[attr-defined]
        for name, ann in hints.items():
            is_required = name in required
            while get_origin(ann) in _REQUIRED_MARKS:
                # string annotations hide these from __required_keys__ on Python < 3.12
                is_required = get_origin(ann) is _REQUIRED_MARKS[0]
                ann = get_args(ann)[0]
            fields.append(StructField(name, ann, is_required))
    else:
        for name, ann in hints.items():
            if name.startswith("_") or get_origin(ann) is typing.ClassVar or ann is typing.ClassVar:
                continue
            default = getattr(tp, name, MISSING)
            if isinstance(default, property | classmethod | staticmethod) or callable(default):
                default = MISSING
            fields.append(StructField(name, ann, default is MISSING, default))
    return fields


def _struct(tp: type, kind: str, strings: bool, fa: bool, extra: str) -> Validator:
    key = (tp, strings, fa, extra)
    slot: list[Validator] = []

    def forward(value: Any) -> Any:  # recursive types refer to themselves through this
        return slot[0](value)

    _cache[key] = forward
    try:
        fields = struct_fields(tp, kind)
        specs = []
        for f in fields:
            val = _compile(f.annotation, strings, fa, extra)
            fast = f.annotation if f.annotation in (str, int, bool) and not strings else None
            specs.append((f.name, f.key, fast, val, f.required, f.default, f.default_factory))
    except BaseException:
        del _cache[key]
        raise
    forbid = (getattr(tp, "__covet_extra__", None) or extra) == "forbid"
    keys = [f.key for f in fields]
    getter = operator.attrgetter(*(f.name for f in fields)) if fields else (lambda obj: ())

    def get_all(obj: Any) -> tuple[Any, ...]:
        got = getter(obj)
        return got if len(fields) != 1 else (got,)

    known = frozenset(f.key for f in fields)
    plain_init = kind == "class" and tp.__init__ is object.__init__  # type: ignore[misc]
    name = tp.__name__

    if kind == "typeddict" or fa:  # responses build plain dicts keyed by alias
        construct: Callable[[dict[str, Any]], Any] = dict
    elif plain_init:

        def construct(kwargs: dict[str, Any]) -> Any:
            obj: Any = object.__new__(tp)
            obj.__dict__.update(kwargs)
            return obj

    else:

        def construct(kwargs: dict[str, Any]) -> Any:
            return tp(**kwargs)

    def struct(value: Any) -> Any:
        if type(value) is not dict:
            if kind == "dataclass":
                if fa and type(value) is tp:  # built by the handler itself: copy the fields out
                    return dict(zip(keys, get_all(value), strict=True))
                if not fa and isinstance(value, tp):
                    return value
            if kind == "class" and not fa and isinstance(value, tp):
                return value
            if isinstance(value, dict):
                value = dict(value)
            elif fa and value is not None and not isinstance(value, str | bytes | int | float | list):
                return struct(_attributes(value, specs))
            else:
                fail("type_error", f"Expected an object ({name})", value)
        kwargs = {}
        errors: list[ErrorEntry] | None = None
        for fname, key, fast, val, required, default, factory in specs:
            raw = value.get(key, MISSING)
            if raw is MISSING:
                if required:
                    errors = errors or []
                    errors.append(((key,), "missing", "Field required", MISSING))
                elif factory is not None:
                    kwargs[fname if not fa else key] = factory()
                elif kind != "typeddict":
                    kwargs[fname if not fa else key] = default
                continue
            if type(raw) is fast:
                kwargs[fname if not fa else key] = raw
                continue
            try:
                kwargs[fname if not fa else key] = val(raw)
            except Invalid as exc:
                errors = (errors or []) + exc.prefixed(key)
        if forbid:
            unknown = [k for k in value if k not in known]
            if unknown:
                errors = errors or []
                errors.extend(((str(k),), "extra_forbidden", "Unknown field", value[k]) for k in unknown)
        if errors:
            raise Invalid(errors)
        try:
            return construct(kwargs)
        except (TypeError, ValueError) as exc:  # __post_init__ / __init__ checks
            fail("value_error", str(exc) or f"Invalid {name}", MISSING)

    final = struct if fa else _generate_struct(tp, kind, specs, forbid, known, plain_init, struct)
    slot.append(final)
    _cache[key] = final
    return final


def _generate_struct(
    tp: type,
    kind: str,
    specs: list[tuple[Any, ...]],
    forbid: bool,
    known: frozenset[str],
    plain_init: bool,
    general: Validator,
) -> Validator:
    """Input-mode struct validator as straight-line generated code (no per-field loop).

    Dicts take the generated path; anything else falls back to ``general`` (same rules).
    Only identifiers chosen here and ``repr()`` of keys enter the source.
    """
    ns: dict[str, Any] = {
        "M": MISSING,
        "Invalid": Invalid,
        "general": general,
        "tp": tp,
        "fail": fail,
        "new": object.__new__,
        "unknown_fields": _unknown_fields,
        "name": tp.__name__,
    }
    lines = [
        "def struct(value):",
        "    if type(value) is not dict:",
        "        return general(value)",
        "    get = value.get",
        "    errors = None",
    ]
    for i, (_fname, key, fast, val, required, default, factory) in enumerate(specs):
        ns[f"v{i}"], ns[f"t{i}"], ns[f"d{i}"], ns[f"f{i}"] = val, fast, default, factory
        k = repr(key)
        lines.append(f"    r = get({k}, M)")
        lines.append("    if r is M:")
        if required:
            lines.append(f"        errors = (errors or []) + [(({k},), 'missing', 'Field required', M)]")
        elif factory is not None:
            lines.append(f"        a{i} = f{i}()")
        elif kind == "typeddict":
            lines.append(f"        a{i} = M")
        else:
            lines.append(f"        a{i} = d{i}")
        if fast is not None:
            lines.append(f"    elif type(r) is t{i}:")
            lines.append(f"        a{i} = r")
        elif val is _float_json:  # finite floats pass as is (nan - nan and inf - inf are nan)
            lines.append("    elif type(r) is float and r - r == 0.0:")
            lines.append(f"        a{i} = r")
        lines.append("    else:")
        lines.append("        try:")
        lines.append(f"            a{i} = v{i}(r)")
        lines.append("        except Invalid as exc:")
        lines.append(f"            errors = (errors or []) + exc.prefixed({k})")
    if forbid:
        ns["known"] = known
        lines.append("    errors = unknown_fields(value, known, errors)")
    lines.append("    if errors:")
    lines.append("        raise Invalid(errors)")
    if kind == "typeddict":
        lines.append("    out = {}")
        for i, (_fname, key, _f, _v, required, _d, factory) in enumerate(specs):
            if required or factory is not None:
                lines.append(f"    out[{key!r}] = a{i}")
            else:
                lines.append(f"    if a{i} is not M:")
                lines.append(f"        out[{key!r}] = a{i}")
        lines.append("    return out")
    else:
        args = ", ".join(f"{fname}=a{i}" for i, (fname, *_rest) in enumerate(specs))
        lines.append("    try:")
        if plain_init or _bypass_init(tp, kind):
            lines.append("        obj = new(tp)")
            lines.append(f"        obj.__dict__.update({(args and 'dict(' + args + ')') or '{}'})")
            lines.append("        return obj")
        else:
            lines.append(f"        return tp({args})")
        lines.append("    except (TypeError, ValueError) as exc:")
        lines.append("        fail('value_error', str(exc) or f'Invalid {name}', M)")
    exec(compile("\n".join(lines), f"<covet validator {tp.__qualname__}>", "exec"), ns)
    return ns["struct"]


def _bypass_init(tp: type, kind: str) -> bool:
    """A dataclass whose generated ``__init__`` only assigns: fill ``__dict__`` directly."""
    if kind != "dataclass" or hasattr(tp, "__post_init__") or hasattr(tp, "__slots__"):
        return False
    if "__init__" not in tp.__dict__ or getattr(tp.__dict__["__init__"], "__qualname__", "") != f"{tp.__qualname__}.__init__":
        return False
    params = getattr(tp, "__dataclass_params__", None)
    if params is None or not params.init:
        return False
    return all(f.init for f in dataclasses.fields(tp)) and not any(
        isinstance(f.type, dataclasses.InitVar) or f.type == "InitVar" for f in dataclasses.fields(tp)
    )


def _unknown_fields(value: dict[str, Any], known: frozenset[str], errors: list[ErrorEntry] | None) -> Any:
    unknown = [k for k in value if k not in known]
    if not unknown:
        return errors
    return (errors or []) + [((str(k),), "extra_forbidden", "Unknown field", value[k]) for k in unknown]


def _attributes(obj: Any, specs: list[tuple[Any, ...]]) -> dict[str, Any]:
    out = {}
    for fname, key, *_ in specs:
        val = getattr(obj, fname, MISSING)
        if val is MISSING:
            val = getattr(obj, key, MISSING)
        if val is not MISSING:
            out[key] = val
    return out


# --- constraints -----------------------------------------------------------------------


def apply_constraints(base: Validator, cons: dict[str, Any]) -> Validator:
    """Wrap ``base`` with numeric bounds, length bounds and a regex search."""
    checks: list[Callable[[Any], None]] = []
    gt, ge, lt, le = cons.get("gt"), cons.get("ge"), cons.get("lt"), cons.get("le")
    mult, min_len, max_len = cons.get("multiple_of"), cons.get("min_length"), cons.get("max_length")
    pattern = cons.get("pattern")
    if gt is not None:
        checks.append(_check(lambda x: x > gt, "too_small", f"Must be greater than {gt}"))
    if ge is not None:
        checks.append(_check(lambda x: x >= ge, "too_small", f"Must be greater than or equal to {ge}"))
    if lt is not None:
        checks.append(_check(lambda x: x < lt, "too_large", f"Must be less than {lt}"))
    if le is not None:
        checks.append(_check(lambda x: x <= le, "too_large", f"Must be less than or equal to {le}"))
    if mult is not None:
        checks.append(_check(lambda x: _is_multiple(x, mult), "value_error", f"Must be a multiple of {mult}"))
    if min_len is not None:
        checks.append(
            _check(lambda x: len(x) >= min_len, "too_short", f"Must have at least {min_len} characters or items")
        )
    if max_len is not None:
        checks.append(
            _check(lambda x: len(x) <= max_len, "too_long", f"Must have at most {max_len} characters or items")
        )
    if pattern is not None:
        search = re.compile(pattern).search
        checks.append(_check(lambda x: search(x) is not None, "pattern_mismatch", f"Must match {pattern!r}"))
    if not checks:
        return base

    def constrained(value: Any) -> Any:
        out = base(value)
        if out is None:
            return out
        for check in checks:
            check(out)
        return out

    return constrained


def _check(pred: Callable[[Any], bool], code: str, message: str) -> Callable[[Any], None]:
    def check(x: Any) -> None:
        try:
            ok = pred(x)
        except TypeError:
            ok = True  # constraint does not apply to this type (e.g. pattern on an int)
        if not ok:
            fail(code, message, x)

    return check


def _is_multiple(x: Any, mult: Any) -> bool:
    if isinstance(x, int) and isinstance(mult, int):
        return x % mult == 0
    q = x / mult
    return abs(q - round(q)) < 1e-9
