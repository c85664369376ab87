"""Signature analysis: an endpoint and its dependencies become a tree of ``Dependant`` nodes.

Done once per route at start-up. Every parameter is classified (path, query, header,
cookie, body, form, file, dependency, injected connection object, container service)
and gets its compiled validator here; nothing is reflected per request.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any, get_args, get_origin

from covet.background import BackgroundTasks
from covet.exceptions import ImproperlyConfigured
from covet.http.response import Response

from .errors import MISSING
from .params import Depends, Param, Security, constraints_of
from .typeinfo import (
    foreign_kind,
    is_scalar,
    is_scalar_sequence,
    is_struct,
    type_name,
    unwrap_annotated,
    unwrap_optional,
)
from .validation import Validator, compile_validator

__all__ = ("Dependant", "ParamField", "analyze", "callable_name", "special_kind")


@dataclasses.dataclass(eq=False, slots=True)
class ParamField:
    """One request-sourced parameter of an endpoint or dependency."""

    name: str
    alias: str
    location: str  # path query header cookie body form file
    annotation: Any
    required: bool
    default: Any
    marker: Param | None
    constraints: dict[str, Any]
    validator: Validator
    multi: bool = False  # repeated query keys / headers -> list
    fast_type: type | None = None  # value already of this type -> skip the validator
    embed: bool = False
    source_key: str = ""  # which parsed source holds it: path query query* header cookie

    @property
    def default_value(self) -> Any:
        return None if self.default is MISSING else self.default


@dataclasses.dataclass(eq=False, slots=True)
class Dependant:
    """A callable with its classified parameters; ``deps`` are its sub-dependencies."""

    call: Callable[..., Any]
    name: str
    params: list[ParamField] = dataclasses.field(default_factory=list)
    deps: list[tuple[str | None, Dependant]] = dataclasses.field(default_factory=list)
    specials: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    services: list[tuple[str, Any]] = dataclasses.field(default_factory=list)
    use_cache: bool = True
    kind: str = "async"  # async sync asyncgen gen class
    security_scopes: list[str] | None = None
    return_annotation: Any = MISSING

    @property
    def cache_key(self) -> tuple[Any, ...] | None:
        """One result per dependency callable and request. Scopes only add OpenAPI
        requirements (nothing reads them at run time), so ``Security(dep, scopes=...)``
        and ``Depends(dep)`` share one call of ``dep``."""
        if not self.use_cache:
            return None
        return (self.call,)


def callable_name(call: Any) -> str:
    name = getattr(call, "__qualname__", None) or getattr(type(call), "__qualname__", None)
    return str(name or repr(call))


def _function_kind(fn: Any) -> str | None:
    if inspect.isasyncgenfunction(fn):
        return "asyncgen"
    if inspect.isgeneratorfunction(fn):
        return "gen"
    if inspect.iscoroutinefunction(fn):
        return "async"
    return None


def _call_kind(call: Callable[..., Any]) -> str:
    if inspect.isclass(call):
        return "class"
    kind = _function_kind(call)
    if kind is not None:
        return kind
    dunder = getattr(call, "__call__", None)  # noqa: B004 - callable instances
    if dunder is not None and not inspect.isfunction(call) and not inspect.ismethod(call):
        kind = _function_kind(dunder)
    return kind or "sync"


_special_types: list[tuple[type, str]] | None = None


def _specials() -> list[tuple[type, str]]:
    global _special_types
    if _special_types is None:
        found: list[tuple[type, str]] = []
        try:
            from covet.websockets.connection import WebSocket

            found.append((WebSocket, "websocket"))
        except ImportError:
            pass
        try:
            from covet.http.request import HTTPConnection, Request

            found += [(Request, "request"), (HTTPConnection, "connection")]
        except ImportError:
            pass
        found.append((BackgroundTasks, "background"))
        if len(found) == 4:
            _special_types = found
        return found
    return _special_types


def special_kind(annotation: Any) -> str | None:
    """``request``/``websocket``/``connection``/``background``/``response`` for injected objects."""
    if not isinstance(annotation, type):
        return None
    if annotation is Response:
        return "response"
    for cls, kind in _specials():
        if issubclass(annotation, cls):
            return kind
    return None


def _signature(call: Callable[..., Any], owner: str) -> tuple[inspect.Signature, dict[str, Any]]:
    target = call.__init__ if inspect.isclass(call) else call
    while isinstance(target, functools.partial):
        target = target.func
    if not inspect.isfunction(target) and not inspect.ismethod(target) and not inspect.isclass(call):
        target = getattr(target, "__call__", target)  # noqa: B004
    try:
        sig = inspect.signature(call)
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"{owner}: cannot read the signature: {exc}") from exc
    try:
        hints = typing.get_type_hints(target, include_extras=True)
    except NameError as exc:
        raise ImproperlyConfigured(
            f"{owner}: cannot resolve an annotation: {exc} (with postponed annotations the "
            f"types must be importable from module {getattr(target, '__module__', '?')!r}: "
            "define them at module level)"
        ) from exc
    except TypeError:
        hints = {}
    return sig, hints


class _Ctx:
    """What the analysis needs from the route and app."""

    def __init__(
        self, path_names: set[str], container: Any, websocket: bool, extra: str, overrides: Any
    ) -> None:
        self.overrides = overrides
        self.path_names = path_names
        self.container = container
        self.websocket = websocket
        self.extra = extra
        self.seen_path: set[str] = set()


def analyze(
    call: Callable[..., Any],
    *,
    path_names: set[str],
    container: Any = None,
    websocket: bool = False,
    extra: str = "ignore",
    use_cache: bool = True,
    security_scopes: list[str] | None = None,
    overrides: Mapping[Any, Any] | None = None,
) -> Dependant:
    """Build the dependency tree of ``call`` (ImproperlyConfigured on any mistake).

    ``overrides`` maps original dependencies to replacements (``app.dependency_overrides``).
    """
    ctx = _Ctx(path_names, container, websocket, extra, overrides)
    return _analyze(call, ctx, (), use_cache, security_scopes)


def _analyze(
    call: Callable[..., Any],
    ctx: _Ctx,
    chain: tuple[Any, ...],
    use_cache: bool,
    security_scopes: list[str] | None,
) -> Dependant:
    owner = callable_name(call)
    if call in chain:
        cycle = " -> ".join(callable_name(c) for c in (*chain, call))
        raise ImproperlyConfigured(f"circular dependency: {cycle}")
    sig, hints = _signature(call, owner)
    node = Dependant(
        call=call,
        name=owner,
        use_cache=use_cache,
        kind=_call_kind(call),
        security_scopes=security_scopes,
        return_annotation=hints.get("return", MISSING),
    )
    for pname, param in sig.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.kind is param.POSITIONAL_ONLY:
            raise ImproperlyConfigured(f"{owner}: positional-only parameter {pname!r} cannot be injected")
        _classify(node, pname, param, hints.get(pname, param.annotation), ctx, (*chain, call))
    return node


def _classify(
    node: Dependant,
    pname: str,
    param: inspect.Parameter,
    annotation: Any,
    ctx: _Ctx,
    chain: tuple[Any, ...],
) -> None:
    owner = node.name
    if annotation is inspect.Parameter.empty:
        annotation = Any
    base, meta = unwrap_annotated(annotation)
    marker: Any = None
    for m in meta:
        if isinstance(m, Param | Depends):
            marker = m
    default = param.default
    if isinstance(default, Param | Depends):
        if marker is not None:
            raise ImproperlyConfigured(f"{owner}: parameter {pname!r} has two markers")
        marker, default = default, MISSING
    elif default is inspect.Parameter.empty:
        default = MISSING

    if isinstance(marker, Depends):
        dep_call = marker.dependency or (base if callable(base) else None)
        if dep_call is None:
            raise ImproperlyConfigured(f"{owner}: Depends() on {pname!r} needs a callable or a class annotation")
        if ctx.overrides:
            dep_call = ctx.overrides.get(dep_call, dep_call)
        own = marker.scopes if isinstance(marker, Security) else []
        scopes = [*(node.security_scopes or ()), *(s for s in own if s not in (node.security_scopes or ()))]
        node.deps.append((pname, _analyze(dep_call, ctx, chain, marker.use_cache, scopes or None)))
        return
    if marker is None:
        kind = special_kind(base)
        if kind is not None:
            if kind == "request" and ctx.websocket:
                raise ImproperlyConfigured(f"{owner}: {pname!r}: a WebSocket endpoint gets WebSocket, not Request")
            if kind in ("background", "response") and ctx.websocket:
                raise ImproperlyConfigured(f"{owner}: {pname!r}: {base.__name__} is not available on websocket routes")
            if kind == "websocket" and not ctx.websocket:
                raise ImproperlyConfigured(f"{owner}: {pname!r}: WebSocket is only available on websocket routes")
            node.specials.append((pname, kind))
            return
        if ctx.container is not None and base in ctx.container:
            node.services.append((pname, base))
            return
    location = _location(marker, pname, base, ctx, owner)
    node.params.append(_field(pname, annotation, base, meta, marker, default, location, ctx, owner))


def _location(marker: Param | None, pname: str, base: Any, ctx: _Ctx, owner: str) -> str:
    if marker is not None:
        return marker.location
    if pname in ctx.path_names:
        return "path"
    if is_scalar(base) or is_scalar_sequence(base):
        return "query"
    if is_struct(base):
        if ctx.websocket:
            raise ImproperlyConfigured(f"{owner}: websocket endpoints have no body ({pname!r})")
        return "body"
    raise ImproperlyConfigured(
        f"{owner}: unsupported annotation {type_name(base)!r} for parameter {pname!r}"
    )


def _field(
    pname: str,
    annotation: Any,
    base: Any,
    meta: list[Any],
    marker: Param | None,
    default: Any,
    location: str,
    ctx: _Ctx,
    owner: str,
) -> ParamField:
    if marker is not None and marker.default is not ...:
        if default is not MISSING:
            raise ImproperlyConfigured(f"{owner}: parameter {pname!r} has a default twice")
        default = marker.default
    constraints: dict[str, Any] = {}
    for m in meta:
        constraints.update(constraints_of(m))
    if marker is not None:
        constraints.update(marker.constraints())
    inner, _ = unwrap_optional(base)
    alias = marker.alias if marker is not None and marker.alias else pname
    if location == "header" and (marker is None or not marker.alias):
        convert = getattr(marker, "convert_underscores", True)
        alias = alias.replace("_", "-") if convert else alias
    if location == "header":
        alias = alias.lower()
    if ctx.websocket and location in ("body", "form", "file"):
        raise ImproperlyConfigured(f"{owner}: websocket endpoints have no {location} ({pname!r})")
    if location == "path":
        if pname not in ctx.path_names and alias not in ctx.path_names:
            raise ImproperlyConfigured(
                f"{owner}: path parameter {pname!r} is not in the route path (has {sorted(ctx.path_names)})"
            )
        ctx.seen_path.add(alias)
        if default is not MISSING:
            default = MISSING  # a path parameter is always present
    multi = False
    if location in ("query", "header", "form"):
        multi = is_scalar_sequence(base)
        if not multi and not is_scalar(base) and location != "form":
            raise ImproperlyConfigured(
                f"{owner}: {location} parameter {pname!r} must be a scalar or a list of scalars, "
                f"not {type_name(base)!r}"
            )
    elif location in ("path", "cookie") and not is_scalar(base):
        raise ImproperlyConfigured(f"{owner}: {location} parameter {pname!r} must be a scalar type")
    strings = location not in ("body",)
    if location == "file":
        validator = _file_validator(inner, owner, pname)
        multi = get_origin(inner) is list
    elif location == "form" and not multi and not is_scalar(base):
        validator = compile_validator(base, strings=True, extra=ctx.extra, constraints=constraints)
    else:
        try:
            validator = compile_validator(base, strings=strings, extra=ctx.extra, constraints=constraints)
        except ImproperlyConfigured as exc:
            raise ImproperlyConfigured(f"{owner}: parameter {pname!r}: {exc.message}") from exc
    fast = inner if not constraints and inner in (str, int, float) else None
    required = default is MISSING
    return ParamField(
        name=pname,
        alias=alias,
        location=location,
        annotation=annotation,
        required=required,
        default=default,
        marker=marker,
        constraints=constraints,
        validator=validator,
        multi=multi,
        fast_type=fast,
        embed=bool(getattr(marker, "embed", False)),
        source_key=location + ("*" if multi and location == "query" else ""),
    )


def _file_validator(tp: Any, owner: str, pname: str) -> Validator:
    from covet.http.datastructures import UploadFile

    item = get_args(tp)[0] if get_origin(tp) is list else tp
    if item is bytes:
        read_bytes = True
    elif isinstance(item, type) and issubclass(item, UploadFile):
        read_bytes = False
    else:
        raise ImproperlyConfigured(f"{owner}: File parameter {pname!r} must be UploadFile, bytes or a list of them")

    from .errors import fail

    def v(value: Any) -> Any:
        if not isinstance(value, UploadFile):
            fail("type_error", "Expected an uploaded file", value if isinstance(value, str) else MISSING)
        return value

    v.read_bytes = read_bytes  # type: ignore[attr-defined]
    return v


def iter_nodes(root: Dependant) -> list[Dependant]:
    """All nodes of the tree, dependencies before dependents (post-order)."""
    out: list[Dependant] = []

    def walk(node: Dependant) -> None:
        for _, sub in node.deps:
            walk(sub)
        out.append(node)

    walk(root)
    return out


def body_model_kind(tp: Any) -> str | None:
    """Model system that should decode a whole-body parameter of type ``tp``."""
    base, _ = unwrap_annotated(tp)
    base, _ = unwrap_optional(base)
    kind = foreign_kind(base)
    if kind is not None:
        return kind
    from .typeinfo import involves_foreign

    for k in ("pydantic", "msgspec"):
        if involves_foreign(base, k):
            return k
    return None
