"""The OpenAPI 3.1 document of an application, built from its routes and handler signatures.

``generate_openapi(app)`` reads only route metadata and ``covet.handlers.inspect_route``:
nothing is executed. The result is deterministic: operations follow route order,
operationIds are deduplicated in that order, components are sorted by name.
"""

from __future__ import annotations

import collections.abc as cabc
import copy
import http
import inspect
import re
import types
import typing
from collections.abc import Mapping
from typing import Any

from covet.exceptions import ImproperlyConfigured
from covet.openapi._errors import (
    error_content,
    error_responses,
    rate_limit_response,
    rate_limits_of,
)
from covet.openapi._params import parameter_objects, request_body
from covet.openapi.schema import SchemaRegistry, resolve_refs

__all__ = ("OPENAPI_VERSION", "generate_openapi", "openapi_path")

OPENAPI_VERSION = "3.1.0"
_CONVERTOR = re.compile(r"{([^{}:]+):[^{}]*}")
_OPERATION_ID_OK = re.compile(r"[^A-Za-z0-9_]+")
_NO_BODY_STATUS = {204, 205, 304}


def openapi_path(template: str) -> str:
    """``/users/{user_id:int}`` -> ``/users/{user_id}``."""
    return _CONVERTOR.sub(r"{\1}", template)


def generate_openapi(app: Any) -> dict[str, Any]:
    """The OpenAPI 3.1 document (a JSON-ready dict) of ``app``."""
    from covet.handlers import inspect_route
    from covet.routing import Route

    registry = SchemaRegistry()
    schemes: dict[str, dict[str, Any]] = {}
    paths: dict[str, dict[str, Any]] = {}
    used_ids: set[str] = set()
    for route in app.routes:
        if not isinstance(route, Route) or not route.include_in_schema:
            continue
        methods = sorted(route.methods - ({"HEAD"} if route.auto_head else set()))
        if not methods:
            continue
        path_item = paths.setdefault(openapi_path(route.path), {})
        try:
            spec = inspect_route(route, app)
            operations = [
                (m, _operation(route, spec, m, len(methods) > 1, registry, schemes))
                for m in methods
            ]
        except (TypeError, ValueError) as exc:  # an annotation the document cannot express
            raise ImproperlyConfigured(
                f"cannot describe {route!r} in the OpenAPI document: {exc}"
            ) from exc
        for method, operation in operations:
            operation["operationId"] = _unique(operation["operationId"], used_ids)
            path_item[method.lower()] = operation

    info: dict[str, Any] = {"title": app.title, "version": app.version}
    if app.description:
        info["description"] = app.description
    document: dict[str, Any] = {"openapi": OPENAPI_VERSION, "info": info}
    if app.servers:
        document["servers"] = list(app.servers)
    schemas, refs = registry.components()
    document["paths"] = resolve_refs(paths, refs)
    components: dict[str, Any] = {}
    if schemas:
        components["schemas"] = schemas
    if schemes:
        components["securitySchemes"] = dict(sorted(schemes.items()))
    if components:
        document["components"] = components
    tags = _tags(app.openapi_tags, paths)
    if tags:
        document["tags"] = tags
    return document


def _operation(
    route: Any,
    spec: Any,
    method: str,
    several_methods: bool,
    registry: SchemaRegistry,
    schemes: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    name = route.name or getattr(route.endpoint, "__name__", "") or "operation"
    operation_id = route.operation_id or getattr(spec, "operation_id", None)
    if not operation_id:
        operation_id = _OPERATION_ID_OK.sub("_", name).strip("_") or "operation"
        if several_methods:
            operation_id = f"{operation_id}_{method.lower()}"
    operation: dict[str, Any] = {}
    tags = list(route.tags or getattr(spec, "tags", None) or [])
    if tags:
        operation["tags"] = tags
    operation["summary"] = (
        route.summary
        or getattr(spec, "summary", None)
        or name.replace("_", " ").strip().capitalize()
    )
    description = route.description or getattr(spec, "description", None)
    if description:
        operation["description"] = description
    operation["operationId"] = operation_id

    parameters = parameter_objects(route, spec, registry)
    if parameters:
        operation["parameters"] = parameters
    body = request_body(spec, registry)  # documented whatever the method: the handler reads it
    if body is not None:
        operation["requestBody"] = body

    requirements = _security(spec, schemes)
    has_inputs = bool(parameters) or body is not None
    operation["responses"] = _responses(route, spec, registry, has_inputs, body, requirements)
    if route.deprecated:
        operation["deprecated"] = True
    if requirements:
        operation["security"] = requirements
    if route.openapi_extra:
        _deep_update(operation, route.openapi_extra)
    return operation


def _deep_update(target: dict[str, Any], extra: Mapping[str, Any]) -> None:
    """Merge ``openapi_extra`` into the operation: mappings merge, other values replace."""
    for key, value in extra.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            _deep_update(current, value)
        else:
            target[key] = copy.deepcopy(value)


def _responses(
    route: Any,
    spec: Any,
    registry: SchemaRegistry,
    has_inputs: bool,
    body: dict[str, Any] | None,
    security: list[dict[str, list[str]]],
) -> dict[str, Any]:
    status = int(route.status_code or getattr(spec, "status_code", None) or 200)
    success: dict[str, Any] = {"description": _phrase(status)}
    content = _success_content(route, spec, registry, status)
    if content:
        success["content"] = content
    responses: dict[str, Any] = {str(status): success}
    needs_auth = bool(security) and {} not in security
    needs_scopes = needs_auth and any(scopes for req in security for scopes in req.values())
    responses.update(
        error_responses(has_inputs, body is not None, needs_auth, registry, needs_scopes)
    )
    limits = rate_limits_of(route.endpoint, getattr(spec, "endpoint", None))
    if limits:
        responses["429"] = rate_limit_response(limits, registry)
    for code, value in sorted((route.responses or {}).items(), key=lambda kv: str(kv[0])):
        responses[str(code)] = _user_response(code, value, registry)
    return dict(sorted(responses.items(), key=lambda kv: (kv[0] == "default", kv[0])))


def _success_content(
    route: Any, spec: Any, registry: SchemaRegistry, status: int
) -> dict[str, Any] | None:
    if status in _NO_BODY_STATUS or status < 200:
        return None
    response_class = route.response_class
    media_type = _media_type_of(response_class)
    if media_type and media_type != "application/json":
        return {media_type: {"schema": {"type": "string"}}}
    model = _response_annotation(route, spec)
    if model is _UNKNOWN:
        return {"application/json": {"schema": {}}}
    if model is None:
        return None
    try:
        schema = registry.schema_for(model, "serialization")
    except TypeError:  # e.g. a class serialised through to_dict(): any JSON value
        schema = {}
    return {"application/json": {"schema": schema}}


_UNKNOWN = object()


def _media_type_of(response_class: Any) -> str | None:
    """The default media type of a ``Response`` subclass (``default_media_type``)."""
    if response_class is None:
        return None
    for attr in ("default_media_type", "media_type"):
        value = getattr(response_class, attr, None)
        if isinstance(value, str):
            return value
    return None


def _response_annotation(route: Any, spec: Any) -> Any:
    """The type of the JSON answered: the route's ``response_model`` or the return hint.

    ``None`` means no JSON body is documented (``-> None``, a ``Response`` subclass);
    ``_UNKNOWN`` that the handler is not annotated.
    """
    model = route.response_model
    if model is ...:
        endpoint = getattr(spec, "endpoint", None) or route.endpoint
        target = endpoint if inspect.isroutine(endpoint) else type(endpoint).__call__
        try:
            hints = typing.get_type_hints(target, include_extras=True)
        except Exception:  # unresolvable hints: fall back to what the handler analysis saw
            hints = {}
        if "return" not in hints:
            fallback = getattr(spec, "response_model", None)
            return _UNKNOWN if fallback is None else fallback
        model = hints["return"]
    if model is None or model is type(None):
        return None
    if model is typing.Any:
        return _UNKNOWN
    base = model
    while typing.get_origin(base) is typing.Annotated:
        base = typing.get_args(base)[0]
    members = (
        typing.get_args(base)
        if typing.get_origin(base) in (typing.Union, types.UnionType)
        else (base,)
    )
    if any(_is_response_type(m) for m in members):
        return None
    if typing.get_origin(base) in _AWAITABLES:
        return _UNKNOWN
    return model


_AWAITABLES = {
    cabc.Awaitable,
    cabc.Coroutine,
    cabc.AsyncIterator,
    cabc.AsyncGenerator,
    cabc.Iterator,
    cabc.Generator,
}


def _is_response_type(tp: Any) -> bool:
    if not isinstance(tp, type):
        return False
    return any(
        base.__name__ == "Response" and base.__module__.startswith("covet.") for base in tp.__mro__
    )


def _user_response(code: int | str, value: Any, registry: SchemaRegistry) -> dict[str, Any]:
    """``responses={404: {"description": ..., "model": NotFound}}`` (or a full Response).

    An error status without ``model`` or ``content`` answers the framework's error body
    (``HTTPException``), so that is what it documents.
    """
    if not isinstance(value, Mapping):
        raise ImproperlyConfigured(f"responses[{code!r}] must be a mapping, not {value!r}")
    out = {k: copy.deepcopy(v) for k, v in value.items() if k != "model"}
    out.setdefault("description", _phrase(code))
    if "model" in value:
        schema = registry.schema_for(value["model"], "serialization")
        out.setdefault("content", {})["application/json"] = {"schema": schema}
    elif "content" not in value and str(code)[:1] in ("4", "5"):
        out["content"] = error_content(registry)
    return out


def _phrase(code: int | str) -> str:
    try:
        return http.HTTPStatus(int(code)).phrase
    except ValueError:
        return "Response" if str(code) == "default" else f"Status {code}"


def _security(spec: Any, schemes: dict[str, dict[str, Any]]) -> list[dict[str, list[str]]]:
    """Security requirement objects of one operation, registering their schemes.

    Required schemes must all be satisfied: one requirement lists all of them. A scheme
    whose dependency has ``auto_error=False`` is optional: it becomes an alternative, and
    when every scheme is optional, anonymous access (``{}``) is listed too.
    """
    required: dict[str, list[str]] = {}
    optional: list[dict[str, list[str]]] = []
    for entry in getattr(spec, "security", None) or ():
        name = entry.scheme_name
        scheme = dict(entry.scheme)
        existing = schemes.get(name)
        if existing is not None and existing != scheme:
            raise ImproperlyConfigured(
                f"two different security schemes are both named {name!r}: "
                "give each its own scheme_name="
            )
        schemes[name] = scheme
        scopes = list(dict.fromkeys(entry.scopes or ()))
        auto_error = getattr(entry, "auto_error", None)
        if auto_error is None:  # covet.security's scheme dicts know their dependency
            auto_error = getattr(entry.scheme, "auto_error", True)
        if auto_error:
            merged = required.setdefault(name, [])
            merged.extend(s for s in scopes if s not in merged)
        else:
            optional.append({name: scopes})
    if not required and not optional:
        return []
    if not required:
        return [*optional, {}]
    return [{**required, **alt} for alt in optional] + [required]


def _unique(operation_id: str, used: set[str]) -> str:
    candidate, n = operation_id, 2
    while candidate in used:
        candidate, n = f"{operation_id}_{n}", n + 1
    used.add(candidate)
    return candidate


def _tags(declared: list[dict[str, Any]] | None, paths: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Declared tags first (in their order), then tags used by operations (sorted)."""
    out = [dict(t) for t in declared or ()]
    known = {t.get("name") for t in out}
    used = sorted(
        {tag for item in paths.values() for op in item.values() for tag in op.get("tags", ())}
    )
    out.extend({"name": tag} for tag in used if tag not in known)
    return out
