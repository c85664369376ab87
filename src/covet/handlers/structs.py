"""Struct validators: dataclasses, TypedDicts and plain annotated classes.

Input models get generated straight-line code (one block per field, no loop); response
models (``from_attributes``) use the general closure, which also reads attributes and
builds plain dicts keyed by alias.
"""

from __future__ import annotations

import dataclasses
import operator
import typing
from collections.abc import Callable
from typing import Any, get_args, get_origin

from covet.exceptions import ImproperlyConfigured

from .errors import MISSING, ErrorEntry, Invalid, fail
from .scalars import _float_json
from .typeinfo import is_typeddict

__all__ = ("StructField", "build_struct", "hints_of", "struct_fields")

Validator = Callable[[Any], Any]
# typing.Required / NotRequired (3.11+); absent names never match
_REQUIRED_MARKS = (getattr(typing, "Required", object()), getattr(typing, "NotRequired", object()))


def hints_of(tp: type) -> dict[str, Any]:
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
    hints = hints_of(tp)
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


def build_struct(tp: type, kind: str, strings: bool, fa: bool, extra: str) -> Validator:
    """The validator of struct ``tp`` (registered in the cache first: recursive types)."""
    from .validation import _cache, _compile

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
