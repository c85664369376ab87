"""Parameter Objects and the Request Body Object of one operation."""

from __future__ import annotations

import typing
from typing import Any

from covet.openapi._constraints import apply_constraints
from covet.openapi.schema import SchemaRegistry, jsonable_default

__all__ = ("parameter_objects", "request_body")

_LOCATIONS = ("path", "query", "header", "cookie")

# Path convertors -> schema (a str-like convertor defers to the handler's annotation).
_CONVERTOR_SCHEMAS: dict[str, dict[str, Any]] = {
    "int": {"type": "integer", "minimum": 0},
    "float": {"type": "number", "minimum": 0},
    "uuid": {"type": "string", "format": "uuid"},
    "path": {"type": "string"},
    "str": {"type": "string"},
}


def _field(info: Any, name: str, default: Any = None) -> Any:
    return getattr(info, name, default)


def _has_default(info: Any) -> bool:
    default = _field(info, "default", ...)
    return default is not ... and not _is_missing(default)


def _is_missing(value: Any) -> bool:
    return type(value).__name__ in ("_Missing", "_MissingType", "Missing")


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter cannot carry JSON ``null``: optional means absent, so drop ``null``."""
    kind = schema.get("type")
    if isinstance(kind, list) and "null" in kind:
        rest = [k for k in kind if k != "null"]
        schema = {**schema, "type": rest[0] if len(rest) == 1 else rest}
    any_of = schema.get("anyOf")
    if isinstance(any_of, list) and {"type": "null"} in any_of:
        rest_schemas = [s for s in any_of if s != {"type": "null"}]
        schema = {k: v for k, v in schema.items() if k != "anyOf"}
        if len(rest_schemas) == 1:
            schema = {**rest_schemas[0], **schema}
        else:
            schema["anyOf"] = rest_schemas
    if "default" in schema and schema["default"] is None:
        schema = {k: v for k, v in schema.items() if k != "default"}
    return schema


def _param_schema(info: Any, registry: SchemaRegistry) -> dict[str, Any]:
    schema = registry.schema_for(_field(info, "annotation", Any), "validation")
    schema = apply_constraints(schema, _field(info, "constraints", None) or {})
    if not _field(info, "required", False) and _has_default(info):
        try:
            schema = {**schema, "default": jsonable_default(info.default)}
        except ValueError:
            pass
    return schema


def _convertor_schema(convertor: Any) -> dict[str, Any] | None:
    name = getattr(convertor, "name", "str")
    known = _CONVERTOR_SCHEMAS.get(name)
    if known is not None:
        return None if name == "str" else dict(known)
    regex = getattr(convertor, "regex", None)  # slug and user convertors: their pattern
    schema: dict[str, Any] = {"type": "string"}
    if regex and regex != "[^/]+":
        schema["pattern"] = f"^(?:{regex})$"
    return schema


def _is_array(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "array" or (isinstance(kind, list) and "array" in kind)


def parameter_objects(route: Any, spec: Any, registry: SchemaRegistry) -> list[dict[str, Any]]:
    """Path parameters (all of the template's, typed by their convertor), then the rest."""
    declared = {
        (_field(p, "location"), _field(p, "alias") or p.name): p
        for p in _field(spec, "params", None) or ()
        if _field(p, "location") in _LOCATIONS
    }
    out: list[dict[str, Any]] = []
    for name, convertor in route.param_convertors.items():
        info = declared.pop(("path", name), None)
        schema = _convertor_schema(convertor)
        if schema is None:  # plain {name}: the handler's annotation says more
            schema = (
                _without_null(_param_schema(info, registry))
                if info is not None
                else {"type": "string"}
            )
        elif info is not None:
            schema = apply_constraints(schema, _field(info, "constraints", None) or {})
        param: dict[str, Any] = {"name": name, "in": "path", "required": True, "schema": schema}
        if info is not None:
            _describe(param, info)
        out.append(param)
    for (location, wire_name), info in declared.items():
        if location == "path" or not _field(info, "include_in_schema", True):
            continue
        schema = _without_null(_param_schema(info, registry))
        param = {"name": wire_name, "in": location}
        if _field(info, "required", False):
            param["required"] = True
        param["schema"] = schema
        if location == "query" and _is_array(schema):
            param["style"] = "form"
            param["explode"] = True
        _describe(param, info)
        out.append(param)
    return out


def _describe(param: dict[str, Any], info: Any) -> None:
    description = _field(info, "description")
    if description:
        param["description"] = description
    if _field(info, "deprecated", False):
        param["deprecated"] = True
    examples = _field(info, "examples")
    if examples:
        param["examples"] = {f"example{i}": {"value": v} for i, v in enumerate(examples, 1)}


def request_body(spec: Any, registry: SchemaRegistry) -> dict[str, Any] | None:
    """The Request Body Object: JSON, urlencoded form, or multipart when files are sent."""
    body = _field(spec, "body")
    if body is None:
        return None
    fields = [f for f in _field(body, "fields", None) or () if _field(f, "include_in_schema", True)]
    media_type = _field(body, "media_type", None) or "application/json"
    if fields and media_type != "application/json":
        return _form_body(fields, registry)
    out: dict[str, Any] = {}
    description = _field(body, "description")
    if description:
        out["description"] = description
    if fields:  # several JSON bodies (or embed=True): one object with a key per field
        schema = _object_of(fields, registry)
    else:
        schema = registry.schema_for(_field(body, "annotation", Any), "validation")
    media: dict[str, Any] = {"schema": schema}
    examples = _field(body, "examples")
    if examples:
        media["examples"] = {f"example{i}": {"value": v} for i, v in enumerate(examples, 1)}
    out["content"] = {media_type: media}
    if _field(body, "required", True):
        out["required"] = True
    return out


def _object_of(fields: list[Any], registry: SchemaRegistry) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for info in fields:
        name = _field(info, "alias") or info.name
        prop = _param_schema(info, registry)
        for key in ("title", "description"):
            if _field(info, key):
                prop = {**prop, key: _field(info, key)}
        properties[name] = prop
        if _field(info, "required", False):
            required.append(name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _form_body(fields: list[Any], registry: SchemaRegistry) -> dict[str, Any]:
    multipart = any(
        _field(f, "location") == "file" or _mentions_file(_field(f, "annotation")) for f in fields
    )
    schema = _object_of(fields, registry)
    for info in fields:
        if _field(info, "location") == "file" or _mentions_file(_field(info, "annotation")):
            name = _field(info, "alias") or info.name
            schema["properties"][name] = _binary(schema["properties"][name])
    media_type = "multipart/form-data" if multipart else "application/x-www-form-urlencoded"
    return {"content": {media_type: {"schema": schema}}, "required": "required" in schema}


def _binary(schema: dict[str, Any]) -> dict[str, Any]:
    """Files read as ``bytes`` are sent raw in a multipart body, not base64."""
    if schema.get("contentEncoding") == "base64":
        schema = {k: v for k, v in schema.items() if k != "contentEncoding"}
        schema["format"] = "binary"
    items = schema.get("items")
    if isinstance(items, dict):
        schema = {**schema, "items": _binary(items)}
    return schema


def _mentions_file(annotation: Any) -> bool:
    if isinstance(annotation, type):
        return annotation.__name__ == "UploadFile"
    return any(_mentions_file(a) for a in typing.get_args(annotation))
