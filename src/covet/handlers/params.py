"""Parameter markers (``Query``, ``Header``, ``Body``, ``Depends`` ...) and constraint metadata.

Markers are used as defaults (``q: str = Query(None, max_length=5)``) or inside
``Annotated`` (``q: Annotated[str, Query(alias="x")] = "a"``). They only carry metadata:
the handler compiler reads them once, at start-up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = (
    "CONSTRAINT_NAMES",
    "Body",
    "Cookie",
    "Depends",
    "File",
    "Form",
    "Ge",
    "Gt",
    "Header",
    "Le",
    "Lt",
    "MaxLen",
    "MinLen",
    "MultipleOf",
    "Param",
    "Path",
    "Pattern",
    "Query",
    "Security",
    "constraints_of",
)

CONSTRAINT_NAMES = ("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "pattern")


class Param:
    """Base of the request-parameter markers; ``location`` says where the value comes from."""

    location: str = ""
    media_type: str = ""

    __slots__ = (
        "alias",
        "default",
        "deprecated",
        "description",
        "examples",
        "ge",
        "gt",
        "include_in_schema",
        "le",
        "lt",
        "max_length",
        "min_length",
        "multiple_of",
        "pattern",
        "title",
    )

    def __init__(
        self,
        default: Any = ...,
        *,
        alias: str | None = None,
        title: str | None = None,
        description: str | None = None,
        gt: float | None = None,
        ge: float | None = None,
        lt: float | None = None,
        le: float | None = None,
        multiple_of: float | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        pattern: str | None = None,
        deprecated: bool = False,
        include_in_schema: bool = True,
        examples: Sequence[Any] | None = None,
        example: Any = ...,
    ) -> None:
        self.default = default
        self.alias = alias
        self.title = title
        self.description = description
        self.gt = gt
        self.ge = ge
        self.lt = lt
        self.le = le
        self.multiple_of = multiple_of
        self.min_length = min_length
        self.max_length = max_length
        if pattern is not None:
            re.compile(pattern)  # fail at definition time on a bad regex
        self.pattern = pattern
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        ex = list(examples) if examples is not None else []
        if example is not ...:
            ex.append(example)
        self.examples: list[Any] | None = ex or None

    @property
    def required(self) -> bool:
        return self.default is ...

    def constraints(self) -> dict[str, Any]:
        """The constraints set on this marker, by name."""
        return {n: getattr(self, n) for n in CONSTRAINT_NAMES if getattr(self, n) is not None}

    def __repr__(self) -> str:
        default = "required" if self.default is ... else repr(self.default)
        return f"{type(self).__name__}({default})"


class Path(Param):
    """A path parameter (names in the path template are path parameters without a marker)."""

    location = "path"
    __slots__ = ()


class Query(Param):
    """A query-string parameter."""

    location = "query"
    __slots__ = ()


class Cookie(Param):
    """A cookie value."""

    location = "cookie"
    __slots__ = ()


class Header(Param):
    """A request header; ``x_token`` reads ``x-token`` unless ``convert_underscores=False``."""

    location = "header"
    __slots__ = ("convert_underscores",)

    def __init__(self, default: Any = ..., *, convert_underscores: bool = True, **kwargs: Any) -> None:
        super().__init__(default, **kwargs)
        self.convert_underscores = convert_underscores


class Body(Param):
    """The JSON body (or a field of it with ``embed=True`` or when there are several bodies)."""

    location = "body"
    media_type = "application/json"
    __slots__ = ("embed",)

    def __init__(self, default: Any = ..., *, embed: bool = False, **kwargs: Any) -> None:
        super().__init__(default, **kwargs)
        self.embed = embed


class Form(Param):
    """A field of an urlencoded or multipart form (``request.form()``)."""

    location = "form"
    media_type = "application/x-www-form-urlencoded"
    __slots__ = ()


class File(Form):
    """An uploaded file of a multipart form: ``UploadFile`` (or ``bytes``)."""

    location = "file"
    media_type = "multipart/form-data"
    __slots__ = ()


class Depends:
    """Inject the result of ``dependency`` (a function, generator, class or callable object).

    ``use_cache`` shares one result between all users of the same dependency within a
    request. ``Depends()`` without an argument uses the parameter's annotation (a class).
    """

    __slots__ = ("dependency", "use_cache")

    def __init__(self, dependency: Callable[..., Any] | None = None, *, use_cache: bool = True) -> None:
        self.dependency = dependency
        self.use_cache = use_cache

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__qualname__", None) or repr(self.dependency)
        return f"{type(self).__name__}({name})"


class Security(Depends):
    """A dependency that authenticates; ``scopes`` are listed in the OpenAPI requirement."""

    __slots__ = ("scopes",)

    def __init__(
        self,
        dependency: Callable[..., Any] | None = None,
        *,
        scopes: Sequence[str] | None = None,
        use_cache: bool = True,
    ) -> None:
        super().__init__(dependency, use_cache=use_cache)
        self.scopes: list[str] = list(scopes or [])


# --- constraint metadata for Annotated[int, Ge(0)] -------------------------------------
# Attribute names follow annotated-types, so its objects (and any look-alike) are accepted
# by the same duck-typed reader.


@dataclass(frozen=True, slots=True)
class Gt:
    gt: float


@dataclass(frozen=True, slots=True)
class Ge:
    ge: float


@dataclass(frozen=True, slots=True)
class Lt:
    lt: float


@dataclass(frozen=True, slots=True)
class Le:
    le: float


@dataclass(frozen=True, slots=True)
class MultipleOf:
    multiple_of: float


@dataclass(frozen=True, slots=True)
class MinLen:
    min_length: int


@dataclass(frozen=True, slots=True)
class MaxLen:
    max_length: int


@dataclass(frozen=True, slots=True)
class Pattern:
    pattern: str

    def __post_init__(self) -> None:
        re.compile(self.pattern)


def constraints_of(meta: object) -> dict[str, Any]:
    """Constraints carried by one ``Annotated`` metadata object (duck-typed)."""
    if isinstance(meta, Param):
        return meta.constraints()
    if isinstance(meta, type | Depends | str | int | float | bytes):
        return {}
    out: dict[str, Any] = {}
    for name in CONSTRAINT_NAMES:
        value = getattr(meta, name, None)
        if value is not None and not callable(value):
            out[name] = value.pattern if isinstance(value, re.Pattern) else value
    return out
