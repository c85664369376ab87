"""Type-hint utilities shared by ``covet.handlers``, ``covet.openapi`` and ``covet.orm``
(stdlib only).

Both packages read the fields of the same classes (dataclasses, TypedDicts, plain annotated
classes, parametrised generics) and must agree exactly on what those fields are, so the
reading lives here, below both layers. How an unresolvable annotation is reported differs
between them (a configuration error at route registration, a ``TypeError`` while building a
schema), so the caller passes its own hint resolver.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any

__all__ = (
    "is_typeddict",
    "returns_any",
    "split_qualifiers",
    "substitute",
    "substituted_hints",
    "typevar_bindings",
)

HintResolver = Callable[[Any], dict[str, Any]]
P = typing.ParamSpec("P")


def returns_any(cls: Callable[P, object]) -> Callable[P, Any]:
    """``cls`` itself, typed as a callable with its parameters that returns ``Any``.

    For markers used as defaults: ``user: User = Depends(current_user)`` and
    ``email: str = Field(max_length=255)`` type-check (as in FastAPI and pydantic),
    while calls keep their keyword checking.
    """
    return cls


def is_typeddict(tp: Any) -> bool:
    """Whether ``tp`` is a ``TypedDict`` class (``typing`` or ``typing_extensions``)."""
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")


_QUALIFIERS = frozenset({"Required", "NotRequired", "ReadOnly"})


def _qualifier(origin: Any) -> str | None:
    name = getattr(origin, "_name", None)
    if name in _QUALIFIERS and type(origin).__module__ in ("typing", "typing_extensions"):
        return str(name)
    return None


def split_qualifiers(annotation: Any) -> tuple[Any, bool | None]:
    """Strip TypedDict qualifiers: ``(annotation, True/False for Required/NotRequired or None)``.

    Looks through ``Annotated`` (``Annotated[NotRequired[int], Ge(0)]`` is allowed) and
    knows the ``typing`` and ``typing_extensions`` forms (``ReadOnly`` is only the latter
    on Python < 3.13); the ``Annotated`` metadata is kept around the bare type.
    """
    required: bool | None = None
    meta: list[Any] = []
    inner = annotation
    found = False
    while True:
        origin = typing.get_origin(inner)
        if origin is typing.Annotated:
            meta.extend(inner.__metadata__)
            inner = inner.__origin__
            continue
        name = _qualifier(origin)
        if name is None:
            break
        found = True
        if name != "ReadOnly":
            required = name == "Required"
        inner = typing.get_args(inner)[0]
    if not found:
        return annotation, None
    if not meta:
        return inner, required
    args = (inner, *meta)
    return typing.Annotated[args], required


def substitute(annotation: Any, mapping: Mapping[Any, Any]) -> Any:
    """``annotation`` with the TypeVars of ``mapping`` replaced (``list[T]`` -> ``list[int]``)."""
    if isinstance(annotation, typing.TypeVar):
        return mapping.get(annotation, annotation)
    params = getattr(annotation, "__parameters__", None)
    if not params or not isinstance(params, tuple) or not any(p in mapping for p in params):
        return annotation
    try:
        return annotation[tuple(mapping.get(p, p) for p in params)]
    except TypeError:
        return annotation


def typevar_bindings(tp: Any) -> dict[type, dict[Any, Any]]:
    """The TypeVar bindings of every generic class in ``tp``'s hierarchy."""
    out: dict[type, dict[Any, Any]] = {}

    def visit(node: Any, outer: Mapping[Any, Any]) -> None:
        origin = typing.get_origin(node) or node
        if not isinstance(origin, type) or origin in out or origin is typing.Generic:
            return
        params = getattr(origin, "__parameters__", ())
        args = typing.get_args(node) if typing.get_origin(node) is not None else ()
        mapping = {p: substitute(a, outer) for p, a in zip(params, args, strict=False)}
        out[origin] = mapping
        for base in getattr(origin, "__orig_bases__", ()):
            visit(base, mapping)

    visit(tp, {})
    return out


def substituted_hints(tp: Any, resolve: HintResolver) -> dict[str, Any]:
    """Type hints of a class or a parametrised generic (``Page[Item]``), TypeVars filled.

    ``resolve`` reads the hints of one class (``typing.get_type_hints`` with the caller's
    error handling). Bindings follow generic bases (``class ItemPage(Page[Item])``); a
    TypeVar left unbound stays in the hints.
    """
    origin = typing.get_origin(tp) or tp
    bindings = typevar_bindings(tp)
    if not any(bindings.values()):
        return resolve(origin)
    if is_typeddict(origin):  # TypedDict bases are flattened into the class
        mapping = bindings.get(origin, {})
        return {name: substitute(hint, mapping) for name, hint in resolve(origin).items()}
    hints: dict[str, Any] = {}
    for cls in reversed(origin.__mro__):
        own = inspect.get_annotations(cls)
        if not own or cls is object:
            continue
        resolved = resolve(cls)
        mapping = bindings.get(cls, {})
        for name in own:
            if name in resolved:
                hints.pop(name, None)  # redeclared: takes the subclass's place, like get_type_hints
                hints[name] = substitute(resolved[name], mapping)
    return hints
