"""The CovetPy exception tree.

    CovetError                       root: message, error_code, context, to_dict()
    ├── HTTPException                an HTTP error answered to the client (status_code, detail, headers)
    │   └── ValidationError          422 with the framework's single error format
    ├── WebSocketException           close a WebSocket with a code and reason
    ├── ImproperlyConfigured         a mistake in the application's set-up, raised at start-up
    │   └── RouteConflict            two routes that can never both be reached
    ├── MissingDependency            an optional extra is needed (also an ImportError)
    ├── NoMatchFound                 url_path_for() found no route of that name and parameters
    └── covet.db.DatabaseError ...   (defined in covet.db.exceptions)
"""

from __future__ import annotations

import http
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = (
    "CovetError",
    "HTTPException",
    "ImproperlyConfigured",
    "MissingDependency",
    "NoMatchFound",
    "RouteConflict",
    "ValidationError",
    "WebSocketException",
    "redact",
)

_SENSITIVE = re.compile(
    r"pass(word|wd)?|secret|token|api[_-]?key|authorization|cookie|credential|private|dsn|session",
    re.IGNORECASE,
)
_REDACTED = "[redacted]"


def redact(value: Any) -> Any:
    """Return ``value`` with every sensitive-looking key replaced, recursively."""
    if isinstance(value, Mapping):
        return {
            k: (_REDACTED if isinstance(k, str) and _SENSITIVE.search(k) else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value


class CovetError(Exception):
    """Base of every error raised by CovetPy.

    ``context`` carries structured detail for logs; ``to_dict()`` gives a form that is
    safe to show (sensitive keys redacted).
    """

    error_code: str = "covet_error"

    def __init__(
        self,
        message: str = "",
        *,
        error_code: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if error_code is not None:
            self.error_code = error_code
        self.context: dict[str, Any] = dict(context or {})

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.message, "error_code": self.error_code}
        if self.context:
            out["context"] = redact(self.context)
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class HTTPException(CovetError):
    """An error that becomes an HTTP response with ``status_code``.

    ``detail`` defaults to the status phrase; ``headers`` are added to the response.
    """

    error_code = "http_error"

    def __init__(
        self,
        status_code: int,
        detail: Any = None,
        headers: Mapping[str, str] | None = None,
        *,
        error_code: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        if detail is None:
            try:
                detail = http.HTTPStatus(status_code).phrase
            except ValueError:
                detail = "Error"
        super().__init__(str(detail), error_code=error_code, context=context)
        self.status_code = status_code
        self.detail = detail
        self.headers: dict[str, str] | None = dict(headers) if headers else None

    def __str__(self) -> str:
        return f"{self.status_code}: {self.detail}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, detail={self.detail!r})"


class ValidationError(HTTPException):
    """Request data failed validation: answered 422 in the single format of DESIGN.md.

    ``details`` is a list of ``{"field": "body.price", "message": "...", "code": "type_error",
    "value": ...}`` entries, all errors found in one pass.
    """

    error_code = "validation_error"

    def __init__(
        self,
        details: Sequence[Mapping[str, Any]],
        *,
        status_code: int = 422,
        message: str = "Validation failed",
    ) -> None:
        super().__init__(status_code, message)
        self.details: list[dict[str, Any]] = [dict(d) for d in details]

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.message, "details": self.details}


class WebSocketException(CovetError):
    """Close the WebSocket with ``code`` (RFC 6455 close code) and ``reason``."""

    error_code = "websocket_error"

    def __init__(self, code: int = 1008, reason: str = "") -> None:
        super().__init__(reason or f"WebSocket closed with code {code}")
        self.code = code
        self.reason = reason


class ImproperlyConfigured(CovetError):
    """The application is set up wrongly; raised at start-up, never per request."""

    error_code = "improperly_configured"


class RouteConflict(ImproperlyConfigured):
    """Two routes claim the same path and method."""

    error_code = "route_conflict"


class MissingDependency(CovetError, ImportError):
    """An optional extra is required: the message names the ``pip install`` to run."""

    error_code = "missing_dependency"

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"{package!r} is required for this feature: pip install 'covetpy[{extra}]'",
            context={"package": package, "extra": extra},
        )
        self.package = package
        self.extra = extra


class NoMatchFound(CovetError):
    """``url_path_for`` found no route with that name and those parameters."""

    error_code = "no_match_found"
