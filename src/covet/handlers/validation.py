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
import enum
import re
import typing
from collections.abc import Callable
from typing import Any, Literal, get_args, get_origin

from covet.exceptions import ImproperlyConfigured

from .errors import Invalid, fail
from .params import constraints_of
from .scalars import (
    SCALAR_BASES,
    SCALARS,
    _identity,
    _none,
    _str_s,
    enum_validator,
    literal_validator,
    scalar_base,
    subclass_scalar,
)
from .structs import StructField, build_struct, hints_of, struct_fields
from .typeinfo import (
    NONE_TYPE,
    SEQUENCE_ORIGINS,
    foreign_kind,
    generic_origin,
    is_typeddict,
    is_union,
    type_name,
    unwrap_annotated,
)

__all__ = ("StructField", "Validator", "apply_constraints", "compile_validator", "struct_fields")

Validator = Callable[[Any], Any]


_cache: dict[tuple[Any, bool, bool, str], Validator] = {}


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
    if isinstance(tp, typing.TypeVar):  # an unbound type variable of a generic model
        if tp.__constraints__:
            return _compile(typing.Union[tp.__constraints__], strings, fa, extra)
        return _compile(tp.__bound__, strings, fa, extra) if tp.__bound__ is not None else _identity
    scalar = SCALARS.get(tp) if isinstance(tp, type) else None
    if scalar is not None:
        return scalar[1] if strings else scalar[0]
    origin = get_origin(tp)
    if origin is Literal:
        return literal_validator(get_args(tp), strings)
    if is_union(tp):
        return _union(tp, strings, fa, extra)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return enum_validator(tp, strings)
    if tp in SEQUENCE_ORIGINS or origin in SEQUENCE_ORIGINS:
        return _sequence(tp, origin or tp, strings, fa, extra)
    if tp is dict or origin is dict or tp is typing.Mapping or origin is typing.Mapping:
        return _mapping(tp, strings, fa, extra)
    kind = foreign_kind(tp)
    if kind is not None:
        from .foreign import output_validator, python_validator

        return output_validator(tp, kind) if fa else python_validator(tp, kind)
    generic = generic_origin(tp)
    if generic is not None:  # Page[Item]: the struct with its type variables substituted
        kind = "typeddict" if is_typeddict(generic) else "dataclass" if dataclasses.is_dataclass(generic) else "class"
        return build_struct(tp, kind, strings, fa, extra)
    if isinstance(tp, type):
        if issubclass(tp, tuple) and hasattr(tp, "_fields"):
            return _namedtuple(tp, strings, fa, extra)
        if is_typeddict(tp):
            return build_struct(tp, "typeddict", strings, fa, extra)
        if dataclasses.is_dataclass(tp):
            return build_struct(tp, "dataclass", strings, fa, extra)
        if issubclass(tp, SCALAR_BASES):
            base_v = _compile(scalar_base(tp), strings, fa, extra)
            return subclass_scalar(tp, base_v)
        if hints_of(tp):
            return build_struct(tp, "class", strings, fa, extra)
    raise ImproperlyConfigured(f"unsupported type annotation {type_name(tp)!r}")


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
        return tuple(_positional(items, value))

    return tup


def _positional(items: list[Validator], value: list[Any] | tuple[Any, ...]) -> list[Any]:
    """Item ``i`` of ``value`` through validator ``i`` (as many as the shorter of the two)."""
    out = []
    errors = None
    for i, (val, x) in enumerate(zip(items, value, strict=False)):
        try:
            out.append(val(x))
        except Invalid as exc:
            errors = (errors or []) + exc.prefixed(i)
    if errors:
        raise Invalid(errors)
    return out


def _namedtuple(tp: type, strings: bool, fa: bool, extra: str) -> Validator:
    """A NamedTuple is a JSON array of its fields (trailing fields with defaults optional)."""
    hints = hints_of(tp)
    names: tuple[str, ...] = tp._fields  # type: ignore[attr-defined]
    items = [_compile(hints.get(n, typing.Any), strings, fa, extra) for n in names]
    n = len(names)
    least = n - len(tp._field_defaults)  # type: ignore[attr-defined]
    expected = f"Expected an array of {least} to {n} items" if least != n else f"Expected an array of {n} items"
    name = tp.__name__

    def named(value: Any) -> Any:
        if not isinstance(value, list | tuple):
            fail("type_error", f"{expected} ({name})", value)
        if not least <= len(value) <= n:
            fail("value_error", f"{expected} ({name})", value)
        out = _positional(items, value)
        if fa:  # responses: the full array, defaults filled in
            return list(tp(*out))
        return tp(*out)

    return named


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
