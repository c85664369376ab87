"""Path parameter converters: ``{name:int}``, ``{name:uuid}``, ``{name:path}`` ...

A converter turns one path segment (``path``: the rest of the path) into a value and
back. ``convert`` raises ``ValueError`` for a segment it does not accept, which makes the
route not match (404), never a 500.
"""

from __future__ import annotations

import math
import re
import uuid
from typing import Any, ClassVar

from covet.exceptions import ImproperlyConfigured

__all__ = (
    "Convertor",
    "FloatConvertor",
    "IntConvertor",
    "PathConvertor",
    "SlugConvertor",
    "StringConvertor",
    "UUIDConvertor",
    "get_convertor",
    "register_convertor",
)


class Convertor:
    """Base class: subclass and ``register_convertor(name, instance)`` to add your own.

    ``regex`` documents the accepted text (used in OpenAPI and for mixed segments such
    as ``{name}.{ext}``); ``convert`` validates and converts, raising ``ValueError``.
    ``priority`` orders converters competing at one position (lower tried first).
    """

    regex: ClassVar[str] = "[^/]+"
    name: ClassVar[str] = "str"
    priority: ClassVar[int] = 50
    consumes_rest: ClassVar[bool] = False

    def convert(self, value: str) -> Any:
        return value

    def to_string(self, value: Any) -> str:
        return str(value)


class StringConvertor(Convertor):
    """One non-empty path segment (the default)."""

    name = "str"
    priority = 90

    def convert(self, value: str) -> str:
        if not value:
            raise ValueError("empty segment")
        return value

    def to_string(self, value: Any) -> str:
        value = str(value)
        if not value or "/" in value:
            raise ValueError(f"invalid str path parameter {value!r}")
        return value


class IntConvertor(Convertor):
    """Non-negative decimal integer (ASCII digits only)."""

    regex = "[0-9]+"
    name = "int"
    priority = 10

    def convert(self, value: str) -> int:
        if not value.isascii() or not value.isdigit():
            raise ValueError(f"not an integer: {value!r}")
        return int(value)

    def to_string(self, value: Any) -> str:
        value = int(value)
        if value < 0:
            raise ValueError("negative integers are not supported in paths")
        return str(value)


class FloatConvertor(Convertor):
    """Non-negative decimal number: ``3``, ``3.5`` (no exponent, no inf/nan)."""

    regex = r"[0-9]+(?:\.[0-9]+)?"
    name = "float"
    priority = 20
    _re = re.compile(regex)

    def convert(self, value: str) -> float:
        if not self._re.fullmatch(value):
            raise ValueError(f"not a number: {value!r}")
        return float(value)

    def to_string(self, value: Any) -> str:
        value = float(value)
        if value < 0 or not math.isfinite(value):
            raise ValueError("path floats must be finite and non-negative")
        return f"{value:.10f}".rstrip("0").rstrip(".")


class UUIDConvertor(Convertor):
    """A UUID in its canonical hyphenated form (any case)."""

    regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    name = "uuid"
    priority = 15
    _re = re.compile(regex)

    def convert(self, value: str) -> uuid.UUID:
        if not self._re.fullmatch(value):
            raise ValueError(f"not a UUID: {value!r}")
        return uuid.UUID(value)

    def to_string(self, value: Any) -> str:
        return str(uuid.UUID(str(value)))


class SlugConvertor(Convertor):
    """Letters, digits, hyphens and underscores."""

    regex = "[-a-zA-Z0-9_]+"
    name = "slug"
    priority = 30
    _re = re.compile(regex)

    def convert(self, value: str) -> str:
        if not self._re.fullmatch(value):
            raise ValueError(f"not a slug: {value!r}")
        return value

    def to_string(self, value: Any) -> str:
        return self.convert(str(value))


class PathConvertor(Convertor):
    """The rest of the path, including slashes; never escapes upwards.

    Rejects ``..`` and ``.`` segments, backslashes and NUL bytes, so the value cannot
    climb out of a directory it is joined to (still resolve and check it when you do).
    It may be empty (the mount root) and may contain empty segments (``a//b``).
    """

    regex = ".*"
    name = "path"
    priority = 100
    consumes_rest = True

    def convert(self, value: str) -> str:
        if "\x00" in value or "\\" in value:
            raise ValueError("illegal character in path")
        for part in value.split("/"):
            if part in ("..", "."):
                raise ValueError("path traversal")
        return value

    def to_string(self, value: Any) -> str:
        return self.convert(str(value))


_CONVERTORS: dict[str, Convertor] = {
    "str": StringConvertor(),
    "int": IntConvertor(),
    "float": FloatConvertor(),
    "uuid": UUIDConvertor(),
    "slug": SlugConvertor(),
    "path": PathConvertor(),
}


def register_convertor(name: str, convertor: Convertor) -> None:
    """Make ``{param:name}`` available in path templates."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ImproperlyConfigured(f"invalid convertor name {name!r}")
    _CONVERTORS[name] = convertor


def get_convertor(name: str) -> Convertor:
    try:
        return _CONVERTORS[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"unknown path convertor {name!r}; known: {', '.join(sorted(_CONVERTORS))}"
        ) from None
