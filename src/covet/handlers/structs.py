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
from typing import Any, get_origin

from covet._typing import substituted_hints
from covet.exceptions import ImproperlyConfigured

from .errors import MISSING, ErrorEntry, Invalid, fail
from .scalars import _float_json
from .typeinfo import is_typeddict, split_qualifiers

__all__ = ("StructField", "build_struct", "class_hints", "hints_of", "struct_fields")

Validator = Callable[[Any], Any]
_LEAVES = frozenset({str, int, float, bool})


def hints_of(tp: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(tp, include_extras=True)
    except NameError as exc:
        where = "a local class" if "<locals>" in tp.__qualname__ else "the class"
        raise ImproperlyConfigured(
            f"cannot resolve the annotations of {tp.__module__}.{tp.__qualname__}: {exc} "
            f"(names in postponed annotations of {where} must be importable from module "
            f"{tp.__module__!r}; define the types at module level)"
        ) from exc
    except TypeError:
        return {}


def class_hints(tp: Any) -> dict[str, Any]:
    """Type hints of a class or a parametrised generic (``Page[Item]``), TypeVars filled.

    Bindings follow generic bases (``class ItemPage(Page[Item])``); a TypeVar left
    unbound stays in the hints (the validator reads it as its bound, or ``Any``).
    """
    return substituted_hints(tp, hints_of)


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


def struct_fields(tp: Any, kind: str | None = None, *, output: bool = False) -> list[StructField]:
    """The fields of a dataclass, TypedDict or plain annotated class, in declaration order.

    ``tp`` may be a parametrised generic (``Page[Item]``): type variables are substituted.
    ``output``: also the dataclass fields with ``init=False`` (responses show them).
    """
    hints = class_hints(tp)
    tp = get_origin(tp) or tp
    kind = kind or ("typeddict" if is_typeddict(tp) else "dataclass" if dataclasses.is_dataclass(tp) else "class")
    fields: list[StructField] = []
    if kind == "dataclass":
        for f in _dataclass_fields(tp, hints, output):
            if not f.init and not output:
                continue
            ann = hints.get(f.name, Any)
            if isinstance(ann, dataclasses.InitVar):  # an __init__/__post_init__ argument
                ann = ann.type
            alias = f.metadata.get("alias") if f.metadata else None
            if f.default is not dataclasses.MISSING:
                fields.append(StructField(f.name, ann, False, f.default, alias=alias))
            elif f.default_factory is not dataclasses.MISSING:
                fields.append(StructField(f.name, ann, False, default_factory=f.default_factory, alias=alias))
            else:  # no default: required on input; set by __post_init__ when init=False
                fields.append(StructField(f.name, ann, f.init, alias=alias))
    elif kind == "typeddict":
        required = tp.__required_keys__
        for name, hint in hints.items():
            # string annotations hide the qualifiers from __required_keys__ on Python < 3.12,
            # so the resolved hint has the last word
            ann, marked = split_qualifiers(hint)
            fields.append(StructField(name, ann, name in required if marked is None else marked))
    else:
        for name, ann in hints.items():
            if name.startswith("_") or get_origin(ann) is typing.ClassVar or ann is typing.ClassVar:
                continue
            default = getattr(tp, name, MISSING)
            if isinstance(default, property | classmethod | staticmethod) or callable(default):
                default = MISSING
            fields.append(StructField(name, ann, default is MISSING, default))
    return fields


def _dataclass_fields(tp: type, hints: dict[str, Any], output: bool) -> list[dataclasses.Field[Any]]:
    """``dataclasses.fields``, plus the ``InitVar`` pseudo-fields on input (``__init__`` takes them)."""
    fields = dataclasses.fields(tp)
    if output:
        return list(fields)
    names = {f.name for f in fields}
    return [
        f
        for f in tp.__dataclass_fields__.values()  # type: ignore[attr-defined]
        if f.name in names or isinstance(hints.get(f.name), dataclasses.InitVar)
    ]


def build_struct(alias: Any, kind: str, strings: bool, fa: bool, extra: str) -> Validator:
    """The validator of struct ``alias`` (registered in the cache first: recursive types).

    ``alias`` is a class or a parametrised generic of one (``Page[Item]``).
    """
    from .validation import _cache, _compile

    key = (alias, strings, fa, extra)
    tp: type = get_origin(alias) or alias
    slot: list[Validator] = []

    def forward(value: Any) -> Any:  # recursive types refer to themselves through this
        return slot[0](value)

    _cache[key] = forward
    try:
        fields = struct_fields(alias, kind, output=fa)
        specs = []
        for f in fields:
            val = _compile(f.annotation, strings, fa, extra)
            fast = f.annotation if f.annotation in (str, int, bool) and not strings else None
            specs.append((f.name, f.key, fast, val, f.required, f.default, f.default_factory))
    except BaseException:
        del _cache[key]
        raise
    forbid = (getattr(tp, "__covet_extra__", None) or extra) == "forbid"
    getter = operator.attrgetter(*(f.name for f in fields)) if fields else (lambda obj: ())

    def get_all(obj: Any) -> tuple[Any, ...]:
        got = getter(obj)
        return got if len(fields) != 1 else (got,)

    # responses: a field value of its exact declared leaf type is copied; anything else
    # (nested models, containers, subclasses) goes through its validator, which filters
    # nested objects down to their declared fields
    copy_plan = [
        (f.key, f.annotation if f.annotation in _LEAVES else None, spec[3])
        for f, spec in zip(fields, specs, strict=True)
    ]

    copy_out = _generate_copy_out(tp, copy_plan, get_all)

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
                    try:
                        return copy_out(value)
                    except AttributeError:  # an init=False field never set: leave it out
                        return struct(_attributes(value, specs))
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
                elif kind != "typeddict" and default is not MISSING:
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


def _generate_copy_out(
    tp: type, plan: list[tuple[str, type | None, Validator]], get_all: Callable[[Any], tuple[Any, ...]]
) -> Callable[[Any], dict[str, Any]]:
    """Response copy-out of a dataclass instance as straight-line generated code.

    ``plan`` is ``(key, leaf type or None, validator)`` per field: a value of its exact leaf
    type is kept, anything else is validated (nested models are filtered). Only
    identifiers chosen here and ``repr()`` of keys enter the source.
    """
    ns: dict[str, Any] = {"Invalid": Invalid, "get_all": get_all}
    names = ", ".join(f"a{i}" for i in range(len(plan)))
    lines = ["def copy_out(obj):", "    errors = None"]
    if plan:
        lines.append(f"    {names}{',' if len(plan) == 1 else ''} = get_all(obj)")
    for i, (key, leaf, val) in enumerate(plan):
        ns[f"v{i}"], ns[f"t{i}"] = val, leaf
        indent = "    "
        if leaf is not None:
            lines.append(f"    if type(a{i}) is not t{i}:")
            indent = "        "
        lines.append(f"{indent}try:")
        lines.append(f"{indent}    a{i} = v{i}(a{i})")
        lines.append(f"{indent}except Invalid as exc:")
        lines.append(f"{indent}    errors = (errors or []) + exc.prefixed({key!r})")
    lines.append("    if errors:")
    lines.append("        raise Invalid(errors)")
    items = ", ".join(f"{key!r}: a{i}" for i, (key, _leaf, _val) in enumerate(plan))
    lines.append(f"    return {{{items}}}")
    exec(compile("\n".join(lines), f"<covet copy-out {tp.__qualname__}>", "exec"), ns)
    return ns["copy_out"]


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
