"""``inspect_route``: a plain description of an endpoint for OpenAPI generation."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

from .analysis import Dependant, ParamField, iter_nodes
from .errors import MISSING
from .plan import build_plan
from .responses import resolve_response_model

__all__ = ("BodyInfo", "EndpointSpec", "ParamInfo", "SecurityInfo", "inspect_route")


@dataclasses.dataclass(slots=True)
class ParamInfo:
    """One path/query/header/cookie parameter (or a form/file field inside ``BodyInfo``).

    ``default`` is ``...`` for a required parameter.
    """

    name: str
    alias: str
    location: str
    annotation: Any
    required: bool
    default: Any = ...
    constraints: dict[str, Any] = dataclasses.field(default_factory=dict)
    description: str | None = None
    deprecated: bool = False
    include_in_schema: bool = True
    examples: list[Any] | None = None
    title: str | None = None


@dataclasses.dataclass(slots=True)
class BodyInfo:
    """The request body: one ``annotation`` (``embed=False``) or several ``fields``."""

    annotation: Any
    media_type: str
    required: bool
    embed: bool = False
    fields: list[ParamInfo] = dataclasses.field(default_factory=list)
    description: str | None = None
    examples: list[Any] | None = None


@dataclasses.dataclass(slots=True)
class SecurityInfo:
    """A security requirement contributed by a dependency with a ``security_scheme``.

    ``auto_error=False`` on the dependency makes the requirement optional.
    """

    scheme_name: str
    scheme: dict[str, Any]
    scopes: list[str] = dataclasses.field(default_factory=list)
    auto_error: bool = True


@dataclasses.dataclass(slots=True)
class EndpointSpec:
    """What OpenAPI needs to know about one route."""

    name: str
    path: str
    methods: list[str]
    params: list[ParamInfo]
    body: BodyInfo | None
    response_model: Any
    status_code: int
    security: list[SecurityInfo]
    summary: str | None
    description: str | None
    tags: list[str]
    deprecated: bool
    operation_id: str | None
    include_in_schema: bool = True
    responses: dict[Any, Any] = dataclasses.field(default_factory=dict)
    endpoint: Any = None


def _param_info(f: ParamField) -> ParamInfo:
    m = f.marker
    return ParamInfo(
        name=f.name,
        alias=f.alias,
        location=f.location,
        annotation=f.annotation,
        required=f.required,
        default=... if f.default is MISSING else f.default,
        constraints=dict(f.constraints),
        description=getattr(m, "description", None),
        deprecated=bool(getattr(m, "deprecated", False)),
        include_in_schema=bool(getattr(m, "include_in_schema", True)),
        examples=getattr(m, "examples", None),
        title=getattr(m, "title", None),
    )


def _security(nodes: list[Dependant]) -> list[SecurityInfo]:
    out: list[SecurityInfo] = []
    seen: set[str] = set()
    for node in nodes:
        scheme = getattr(node.call, "security_scheme", None)
        name = getattr(node.call, "scheme_name", None)
        if not isinstance(scheme, dict) or not name:
            continue
        scopes = list(node.security_scopes or getattr(node.call, "scopes", None) or [])
        if name in seen:
            for s in out:
                if s.scheme_name == name:
                    s.scopes.extend(x for x in scopes if x not in s.scopes)
            continue
        seen.add(name)
        out.append(SecurityInfo(str(name), scheme, scopes, bool(getattr(node.call, "auto_error", True))))
    return out


def _docstring(endpoint: Any) -> tuple[str | None, str | None]:
    doc = inspect.getdoc(endpoint)
    if not doc:
        return None, None
    first, _, rest = doc.partition("\n\n")
    return " ".join(first.split()), rest.strip() or None


def inspect_route(route: Any, app: Any) -> EndpointSpec:
    """Describe ``route`` (parameters from dependencies included, recursively)."""
    plan = build_plan(route, app)
    nodes = [n for root in plan.dependants for n in iter_nodes(root)]
    params: list[ParamInfo] = []
    seen: set[tuple[str, str]] = set()
    for slot in plan.slots:
        for f in slot.params:
            key = (f.location, f.alias)
            if key not in seen:
                seen.add(key)
                params.append(_param_info(f))
    body = _body(plan)
    summary, description = _docstring(route.endpoint)
    status = getattr(route, "status_code", None) or 200
    methods = sorted(getattr(route, "methods", ()) or ())
    return EndpointSpec(
        name=getattr(route, "name", None) or plan.endpoint.name,
        path=route.path,
        methods=methods,
        params=params,
        body=body,
        response_model=resolve_response_model(route, plan.endpoint.return_annotation),
        status_code=status,
        security=_security(nodes),
        summary=getattr(route, "summary", None) or summary or _humanize(plan.endpoint.name),
        description=getattr(route, "description", None) or description,
        tags=list(getattr(route, "tags", None) or []),
        deprecated=bool(getattr(route, "deprecated", False)),
        operation_id=getattr(route, "operation_id", None),
        include_in_schema=bool(getattr(route, "include_in_schema", True)),
        responses=dict(getattr(route, "responses", None) or {}),
        endpoint=route.endpoint,
    )


def _humanize(name: str) -> str:
    return name.rsplit(".", 1)[-1].replace("_", " ").strip().capitalize()


def _body(plan: Any) -> BodyInfo | None:
    fields: list[ParamField] = plan.body_fields
    if not fields:
        return None
    if plan.body_mode == "whole":
        f = fields[0]
        m = f.marker
        return BodyInfo(
            annotation=f.annotation,
            media_type="application/json",
            required=f.required,
            description=getattr(m, "description", None),
            examples=getattr(m, "examples", None),
        )
    media = "application/json"
    if plan.body_mode == "form":
        media = (
            "multipart/form-data"
            if any(f.location == "file" for f in fields)
            else "application/x-www-form-urlencoded"
        )
    infos = [_param_info(f) for f in fields]
    return BodyInfo(
        annotation=None,
        media_type=media,
        required=any(f.required for f in fields),
        embed=True,
        fields=infos,
    )
