"""The framework's error bodies as components, and the error responses an operation lists.

Formats (DESIGN.md): ``{"error": "...", "trace_id": "..."}`` for HTTP errors and
``{"error": "Validation failed", "details": [{"field", "message", "code", "value"}],
"trace_id": "..."}`` for 422.
"""

from __future__ import annotations

from typing import Any

from covet.openapi.schema import REF_PREFIX, SchemaRegistry

__all__ = (
    "ERROR_SCHEMAS",
    "error_content",
    "error_responses",
    "install_error_components",
    "rate_limit_response",
    "rate_limits_of",
)

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
    has_inputs: bool,
    has_body: bool,
    needs_auth: bool,
    registry: SchemaRegistry,
    needs_scopes: bool = False,
) -> dict[str, Any]:
    """The 400/401/403/422 responses an operation can answer, by status code (403 when
    its security requirements name scopes or permissions, which a caller may lack)."""
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
    if needs_scopes:
        install_error_components(registry, (ERROR,))
        out["403"] = {"description": "Missing a required scope or permission", "content": _json(ERROR)}
    if has_inputs:
        install_error_components(registry, (DETAIL, VALIDATION))
        out["422"] = {"description": "Validation error", "content": _json(VALIDATION)}
    return out


def rate_limits_of(*endpoints: Any) -> list[Any]:
    """The per-route limits attached by ``@rate_limit`` (``__covet_rate_limits__``).

    Read by duck typing (this layer does not import ``covet.ratelimit``): a sequence of
    objects with a ``rate`` that has ``limit`` and ``period``. The first endpoint that
    carries the attribute wins (the route's endpoint, then the analysed one).
    """
    for endpoint in endpoints:
        limits = getattr(endpoint, "__covet_rate_limits__", None)
        if isinstance(limits, (tuple, list)) and limits:
            return [lim for lim in limits if _limit_numbers(lim) is not None]
    return []


def _limit_numbers(limit: Any) -> tuple[int, float] | None:
    rate = getattr(limit, "rate", None)
    count, period = getattr(rate, "limit", None), getattr(rate, "period", None)
    if isinstance(count, int) and isinstance(period, int | float) and not isinstance(count, bool):
        return count, float(period)
    return None


def _int_header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "integer", "minimum": 0}}


def rate_limit_response(limits: list[Any], registry: SchemaRegistry) -> dict[str, Any]:
    """The ``429 Too Many Requests`` response of a route limited with ``@rate_limit``."""
    install_error_components(registry, (ERROR,))
    described = []
    for lim in limits:
        count, period = _limit_numbers(lim) or (0, 0.0)
        cost = getattr(lim, "cost", 1)
        text = f"{count} per {period:g} s"
        if isinstance(cost, int) and cost > 1:
            text += f" (each call costs {cost})"
        described.append(text)
    return {
        "description": "Too many requests (rate limit: " + "; ".join(described) + ")",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before retrying.",
                "schema": {"type": "integer", "minimum": 1},
            },
            "RateLimit-Limit": _int_header("Requests allowed in the window."),
            "RateLimit-Remaining": _int_header("Requests left in the current window."),
            "RateLimit-Reset": _int_header("Seconds until the window resets."),
        },
        "content": _json(ERROR),
    }
