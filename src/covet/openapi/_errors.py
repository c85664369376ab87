"""The framework's error bodies as components, and the error responses an operation lists.

Formats (DESIGN.md): ``{"error": "...", "trace_id": "..."}`` for HTTP errors and
``{"error": "Validation failed", "details": [{"field", "message", "code", "value"}],
"trace_id": "..."}`` for 422.
"""

from __future__ import annotations

from typing import Any

from covet.openapi.schema import REF_PREFIX, SchemaRegistry

__all__ = ("ERROR_SCHEMAS", "error_content", "error_responses", "install_error_components")

ERROR = "ErrorResponse"
VALIDATION = "ValidationErrorResponse"
DETAIL = "ValidationErrorDetail"

ERROR_SCHEMAS: dict[str, dict[str, Any]] = {
    ERROR: {
        "title": ERROR,
        "type": "object",
        "description": "An HTTP error answered by the framework or raised with HTTPException.",
        "properties": {
            "error": {"type": "string", "description": "What went wrong."},
            "trace_id": {"type": "string", "description": "Correlation id, also in the logs."},
        },
        "required": ["error"],
    },
    DETAIL: {
        "title": DETAIL,
        "type": "object",
        "properties": {
            "field": {"type": "string", "description": "Where: `body.price`, `query.limit`..."},
            "message": {"type": "string"},
            "code": {"type": "string", "description": "Machine-readable: `type_error`, ..."},
            "value": {"description": "The rejected value, when it is safe to show."},
        },
        "required": ["field", "message", "code"],
    },
    VALIDATION: {
        "title": VALIDATION,
        "type": "object",
        "description": "The request did not validate; every problem found is listed.",
        "properties": {
            "error": {"type": "string", "examples": ["Validation failed"]},
            "details": {"type": "array", "items": {"$ref": REF_PREFIX + DETAIL}},
            "trace_id": {"type": "string"},
        },
        "required": ["error", "details"],
    },
}


def install_error_components(registry: SchemaRegistry, names: tuple[str, ...]) -> None:
    """Register the error schemas ``names`` as components under their exact names."""
    for name in names:
        used = registry.reserve_fixed_name(name, ERROR_SCHEMAS[name], "")
        if used != name:  # a user model already took the name: refuse to guess
            raise ValueError(f"the component name {name!r} is reserved for the error format")


def _json(name: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": REF_PREFIX + name}}}


def error_content(registry: SchemaRegistry) -> dict[str, Any]:
    """Content of an ``HTTPException`` answer: ``{"error": ..., "trace_id": ...}``."""
    install_error_components(registry, (ERROR,))
    return _json(ERROR)


def error_responses(
    has_inputs: bool, has_body: bool, needs_auth: bool, registry: SchemaRegistry
) -> dict[str, Any]:
    """The 400/401/422 responses an operation can answer, by status code."""
    out: dict[str, Any] = {}
    if has_body:
        install_error_components(registry, (ERROR,))
        out["400"] = {"description": "Malformed request body", "content": _json(ERROR)}
    if needs_auth:
        install_error_components(registry, (ERROR,))
        out["401"] = {
            "description": "Not authenticated",
            "headers": {
                "WWW-Authenticate": {
                    "description": "The authentication scheme to use.",
                    "schema": {"type": "string"},
                }
            },
            "content": _json(ERROR),
        }
    if has_inputs:
        install_error_components(registry, (DETAIL, VALIDATION))
        out["422"] = {"description": "Validation error", "content": _json(VALIDATION)}
    return out
