"""Validation error collection: the internal ``Invalid`` carrier and the public detail format.

Validators raise ``Invalid`` holding errors with paths *relative* to the value being
validated; containers catch it, prefix the field name or index and go on with the next
field, so one pass collects every error. At the top the paths are rendered as
``"body.items[0].name"`` and raised as ``covet.exceptions.ValidationError``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn

from covet._sentinel import MISSING
from covet.exceptions import CovetError

__all__ = (
    "MISSING",
    "Invalid",
    "RawPath",
    "ResponseValidationError",
    "fail",
    "render_details",
    "render_path",
)


class RawPath(str):
    """A pre-rendered path suffix (``".a[0].b"``) from a foreign validator."""

    __slots__ = ()


PathItem = str | int
ErrorEntry = tuple[tuple[PathItem, ...], str, str, Any]


class Invalid(Exception):
    """Raised by compiled validators; ``errors`` is a list of (path, code, message, value)."""

    __slots__ = ("errors",)

    def __init__(self, errors: list[ErrorEntry]) -> None:
        super().__init__(errors)
        self.errors = errors

    def prefixed(self, item: PathItem) -> list[ErrorEntry]:
        return [((item, *path), code, msg, value) for path, code, msg, value in self.errors]


def fail(code: str, message: str, value: Any = MISSING) -> NoReturn:
    """Raise ``Invalid`` with one error at the current location."""
    raise Invalid([((), code, message, value)])


def render_path(loc: str, path: Iterable[PathItem]) -> str:
    out = [loc]
    for item in path:
        if isinstance(item, RawPath):
            out.append(item)
        elif isinstance(item, int):
            out.append(f"[{item}]")
        else:
            out.append(f".{item}" if out[-1] else item)
    return "".join(out)


def render_details(loc: str, errors: Iterable[ErrorEntry]) -> list[dict[str, Any]]:
    """Turn collected errors into the framework's detail dicts under location ``loc``."""
    details: list[dict[str, Any]] = []
    for path, code, message, value in errors:
        entry: dict[str, Any] = {"field": render_path(loc, path), "message": message, "code": code}
        if value is not MISSING:
            entry["value"] = _safe_value(value)
        details.append(entry)
    return details


def _safe_value(value: Any) -> Any:
    """The offending value, made JSON-friendly and bounded in size."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return value if len(value) <= 200 else value[:200] + "..."
    if isinstance(value, bytes | bytearray):
        return _safe_value(bytes(value[:201]).decode("utf-8", "replace"))
    if isinstance(value, dict | list | tuple):
        try:
            from covet import _json

            text = _json.dumps(value)
        except (TypeError, ValueError, RecursionError):
            return f"<{type(value).__name__}>"
        return value if len(text) <= 500 else f"<{type(value).__name__} of {len(value)} items>"
    return repr(value)[:200]


class ResponseValidationError(CovetError):
    """The handler's return value does not match its response model: a server bug (500)."""

    error_code = "response_validation_error"

    def __init__(self, endpoint: str, details: list[dict[str, Any]]) -> None:
        super().__init__(
            f"Return value of {endpoint} does not match its response model",
            context={"details": details},
        )
        self.details = details
