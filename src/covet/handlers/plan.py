"""Execution plans: a route's dependency tree flattened into an ordered list of call slots.

The tree from :mod:`covet.handlers.analysis` is flattened post-order; dependencies with
``use_cache=True`` that appear several times share one slot, so the per-request loop is a
straight walk over the slots. Body parameters of the whole tree are collected here to
choose the body mode once: one whole body, embedded fields, or a form.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from covet.exceptions import ImproperlyConfigured
from covet.http.limits import DEFAULT_LIMITS

from .analysis import Dependant, ParamField, analyze, body_model_kind, callable_name
from .jsonbody import loads_limited
from .params import Depends, Security
from .validation import compile_validator

__all__ = ("Plan", "Slot", "build_plan")


@dataclasses.dataclass(eq=False, slots=True)
class Slot:
    """One call made per request (a dependency, or the endpoint last)."""

    call: Callable[..., Any]
    kind: str
    name: str
    params: list[ParamField]  # path/query/header/cookie fields
    body_params: list[ParamField]  # body/form/file fields, filled from the shared body step
    dep_args: list[tuple[str, int]]
    specials: list[tuple[str, str]]
    services: list[tuple[str, Any]]
    dependant: Dependant


@dataclasses.dataclass(eq=False, slots=True)
class Plan:
    """Everything the request path needs, decided at start-up."""

    slots: list[Slot]
    endpoint: Dependant
    dependants: list[Dependant]  # roots: app deps, route deps, endpoint
    body_fields: list[ParamField]
    body_mode: str  # none whole embedded form
    body_decoder: Callable[[bytes], Any] | None  # whole mode: bytes -> value
    body_errors: tuple[type[BaseException], ...]  # native errors body_decoder may raise
    body_convert: Callable[[Any, bytes], Exception] | None  # native error -> Invalid / BadJSON
    max_body: int
    max_depth: int
    needs_request: bool
    special_kinds: frozenset[str]
    status_code: int = 200


def _deps_of(items: Any, where: str) -> list[Depends]:
    out = []
    for d in items or ():
        if isinstance(d, Depends):
            out.append(d)
        elif callable(d):
            out.append(Depends(d))
        else:
            raise ImproperlyConfigured(f"{where} dependencies must be Depends(...) or callables, got {d!r}")
    return out


def build_plan(
    route: Any,
    app: Any,
    *,
    websocket: bool = False,
    overrides: Mapping[Any, Any] | None = None,
) -> Plan:
    """Analyse the route's endpoint and dependencies (with ``overrides`` applied)."""
    endpoint = route.endpoint
    path_names = set(getattr(route, "param_convertors", {}) or {})
    container = getattr(app, "container", None)
    extra = getattr(app, "extra_fields", "ignore")
    owner = callable_name(endpoint)

    def resolve(call: Any) -> Any:
        return overrides.get(call, call) if overrides else call

    def dep_node(dep: Depends) -> Dependant:
        if dep.dependency is None:
            raise ImproperlyConfigured(f"{owner}: route/app-level Depends() needs a callable")
        scopes = dep.scopes if isinstance(dep, Security) else None
        return analyze(
            resolve(dep.dependency),
            path_names=path_names,
            container=container,
            websocket=websocket,
            extra=extra,
            use_cache=dep.use_cache,
            security_scopes=scopes,
            overrides=overrides,
        )

    roots = [dep_node(d) for d in _deps_of(getattr(app, "dependencies", None), "app")]
    roots += [dep_node(d) for d in _deps_of(getattr(route, "dependencies", None), "route")]
    root = analyze(
        endpoint, path_names=path_names, container=container, websocket=websocket, extra=extra, overrides=overrides
    )
    roots.append(root)

    slots: list[Slot] = []
    by_key: dict[Any, int] = {}
    seen_path: set[str] = set()

    def add(node: Dependant) -> int:
        key = node.cache_key
        if key is not None and key in by_key:
            return by_key[key]
        dep_args = [(name, add(sub)) for name, sub in node.deps if name is not None]
        plain = [p for p in node.params if p.location in ("path", "query", "header", "cookie")]
        body = [p for p in node.params if p.location in ("body", "form", "file")]
        seen_path.update(p.alias for p in node.params if p.location == "path")
        slots.append(
            Slot(node.call, node.kind, node.name, plain, body, dep_args, node.specials, node.services, node)
        )
        if key is not None:
            by_key[key] = len(slots) - 1
        return len(slots) - 1

    for r in roots:
        add(r)

    special_kinds = frozenset(k for s in slots for _, k in s.specials)
    unused = path_names - seen_path
    if unused and not special_kinds & {"request", "connection", "websocket"}:
        raise ImproperlyConfigured(
            f"{owner}: path parameter(s) {sorted(unused)} of {route.path!r} are not used by the "
            "endpoint or its dependencies"
        )
    body_fields = [f for s in slots for f in s.body_params]
    kinds = {f.location for f in body_fields}
    if "body" in kinds and kinds & {"form", "file"}:
        raise ImproperlyConfigured(
            f"{owner}: a route cannot read both a JSON body and form/file fields"
        )
    mode = "none"
    decoder: Callable[[bytes], Any] | None = None
    native: tuple[type[BaseException], ...] = ()
    convert: Callable[[Any, bytes], Exception] | None = None
    if kinds & {"form", "file"}:
        mode = "form"
    elif body_fields:
        if len(body_fields) == 1 and not body_fields[0].embed:
            mode = "whole"
            limits = getattr(app, "limits", None) or DEFAULT_LIMITS
            decoder, native, convert = _whole_decoder(body_fields[0], limits.max_json_depth)
        else:
            mode = "embedded"
            for f in body_fields:
                _adapt_embedded(f)
    limits = getattr(app, "limits", None) or DEFAULT_LIMITS
    return Plan(
        slots=slots,
        endpoint=root,
        dependants=roots,
        body_fields=body_fields,
        body_mode=mode,
        body_decoder=decoder,
        body_errors=native,
        body_convert=convert,
        max_body=limits.max_body_size,
        max_depth=limits.max_json_depth,
        needs_request=mode == "form" or bool(special_kinds & {"request", "connection"}),
        special_kinds=special_kinds,
        status_code=getattr(route, "status_code", None) or 200,
    )


def _whole_decoder(
    field: ParamField, max_depth: int
) -> tuple[Callable[[bytes], Any], tuple[type[BaseException], ...], Callable[[Any, bytes], Exception] | None]:
    kind = body_model_kind(field.annotation)
    if kind is not None and not field.constraints:
        from .foreign import json_decoder

        # pydantic and msgspec bound their own recursion (errors -> 400)
        return json_decoder(field.annotation, kind, max_depth)
    validate = field.validator

    def stdlib_decode(body: bytes) -> Any:
        return validate(loads_limited(body, max_depth))

    return stdlib_decode, (), None


def _adapt_embedded(field: ParamField) -> None:
    """Embedded fields validate decoded Python values: swap in the python validator."""
    kind = body_model_kind(field.annotation)
    if kind in ("pydantic", "msgspec"):
        field.validator = compile_validator(field.annotation)
