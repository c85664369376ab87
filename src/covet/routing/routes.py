"""Route records: what a decorator registers, read by the app, handlers, OpenAPI and the CLI."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from covet._types import ASGIApp, Receive, Scope, Send
from covet.exceptions import ImproperlyConfigured
from covet.routing.convertors import Convertor
from covet.routing.template import PathTemplate, parse_template

__all__ = ("BaseRoute", "Mount", "Route", "RouteOptions", "WebSocketRoute")

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
_METHOD_SETS: dict[frozenset[str], frozenset[str]] = {}  # identical method sets are shared


class BaseRoute:
    """Common fields of every route: a parsed path template and a name."""

    __slots__ = ("name", "path", "template")

    def __init__(self, path: str, name: str | None) -> None:
        self.path = path
        self.template: PathTemplate = parse_template(path)
        self.name = name

    @property
    def param_convertors(self) -> Mapping[str, Convertor]:
        return self.template.params

    def url_path(self, **params: Any) -> str:
        """The concrete path for ``params`` (``NoMatchFound`` if they don't fit)."""
        return self.template.format(params)


@dataclass(frozen=True, slots=True)
class RouteOptions:
    """A route's settings for handlers and OpenAPI; routes left at the defaults share one."""

    status_code: int | None = None
    response_model: Any = ...
    response_class: type | None = None
    tags: tuple[str, ...] = ()
    dependencies: tuple[Any, ...] = ()
    summary: str | None = None
    description: str | None = None
    deprecated: bool = False
    include_in_schema: bool = True
    responses: dict[int | str, Any] | None = None
    operation_id: str | None = None
    openapi_extra: dict[str, Any] | None = None


_DEFAULT_OPTIONS = RouteOptions()


class Route(BaseRoute):
    """An HTTP route: a path, methods and the user's endpoint plus its options.

    ``app`` is the compiled ASGI endpoint, filled in when the application is built.
    """

    __slots__ = ("app", "auto_head", "endpoint", "methods", "options")

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str] | None = None,
        name: str | None = None,
        status_code: int | None = None,
        response_model: Any = ...,
        response_class: type | None = None,
        tags: Sequence[str] | None = None,
        dependencies: Sequence[Any] | None = None,
        summary: str | None = None,
        description: str | None = None,
        deprecated: bool = False,
        include_in_schema: bool = True,
        responses: dict[int | str, Any] | None = None,
        operation_id: str | None = None,
        openapi_extra: dict[str, Any] | None = None,
    ) -> None:
        if not callable(endpoint):
            raise ImproperlyConfigured(f"endpoint for {path!r} is not callable: {endpoint!r}")
        super().__init__(path, name or getattr(endpoint, "__name__", None))
        wanted = {m.upper() for m in (methods or ["GET"])}
        unknown = wanted - HTTP_METHODS
        if unknown:
            raise ImproperlyConfigured(f"unknown HTTP method(s) {sorted(unknown)} for {path!r}")
        self.auto_head = "GET" in wanted and "HEAD" not in wanted
        if self.auto_head:
            wanted.add("HEAD")
        method_set = frozenset(wanted)
        self.methods: frozenset[str] = _METHOD_SETS.setdefault(method_set, method_set)
        self.endpoint = endpoint
        options = RouteOptions(
            status_code, response_model, response_class, tuple(tags or ()), tuple(dependencies or ()),
            summary, description, deprecated, include_in_schema, dict(responses) if responses else None,
            operation_id, openapi_extra,
        )  # fmt: skip
        self.options = _DEFAULT_OPTIONS if options == _DEFAULT_OPTIONS else options
        self.app: ASGIApp | None = None

    # the options, read through the route (they are fixed once the route exists)
    @property
    def status_code(self) -> int | None:
        return self.options.status_code

    @property
    def response_model(self) -> Any:
        return self.options.response_model

    @property
    def response_class(self) -> type | None:
        return self.options.response_class

    @property
    def tags(self) -> tuple[str, ...]:
        return self.options.tags

    @property
    def dependencies(self) -> tuple[Any, ...]:
        return self.options.dependencies

    @property
    def summary(self) -> str | None:
        return self.options.summary

    @property
    def description(self) -> str | None:
        return self.options.description

    @property
    def deprecated(self) -> bool:
        return self.options.deprecated

    @property
    def include_in_schema(self) -> bool:
        return self.options.include_in_schema

    @property
    def responses(self) -> dict[int | str, Any] | None:
        return self.options.responses

    @property
    def operation_id(self) -> str | None:
        return self.options.operation_id

    @property
    def openapi_extra(self) -> dict[str, Any] | None:
        return self.options.openapi_extra

    def copy_with(
        self, prefix: str = "", tags: Sequence[str] = (), dependencies: Sequence[Any] = ()
    ) -> Route:
        """This route under ``prefix`` with extra tags and dependencies (include_router)."""
        return Route(
            _join(prefix, self.path),
            self.endpoint,
            methods=sorted(self.methods - {"HEAD"} if self.auto_head else self.methods),
            name=self.name,
            status_code=self.status_code,
            response_model=self.response_model,
            response_class=self.response_class,
            tags=_merge(tags, self.tags),
            dependencies=[*dependencies, *self.dependencies],
            summary=self.summary,
            description=self.description,
            deprecated=self.deprecated,
            include_in_schema=self.include_in_schema,
            responses=self.responses,
            operation_id=self.operation_id,
            openapi_extra=self.openapi_extra,
        )

    def __repr__(self) -> str:
        return f"Route({self.path!r}, methods={sorted(self.methods)}, name={self.name!r})"


class WebSocketRoute(BaseRoute):
    """A WebSocket route; ``app`` is the compiled endpoint."""

    __slots__ = ("app", "dependencies", "endpoint")

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        name: str | None = None,
        dependencies: Sequence[Any] | None = None,
    ) -> None:
        if not callable(endpoint):
            raise ImproperlyConfigured(f"endpoint for {path!r} is not callable: {endpoint!r}")
        super().__init__(path, name or getattr(endpoint, "__name__", None))
        self.endpoint = endpoint
        self.dependencies: tuple[Any, ...] = tuple(dependencies or ())
        self.app: ASGIApp | None = None

    def copy_with(
        self, prefix: str = "", tags: Sequence[str] = (), dependencies: Sequence[Any] = ()
    ) -> WebSocketRoute:
        return WebSocketRoute(
            _join(prefix, self.path),
            self.endpoint,
            name=self.name,
            dependencies=[*dependencies, *self.dependencies],
        )

    def __repr__(self) -> str:
        return f"WebSocketRoute({self.path!r}, name={self.name!r})"


class Mount(BaseRoute):
    """Any ASGI app under a path prefix.

    The mounted app sees ``scope["root_path"]`` extended by the prefix and
    ``scope["path"]`` with the prefix removed. ``url_path_for(name, path=...)`` builds
    URLs into it.
    """

    __slots__ = ("app", "prefix")

    def __init__(self, path: str, app: ASGIApp, *, name: str | None = None) -> None:
        prefix = "/" + path.strip("/") if path.strip("/") else ""
        if "{" in prefix:
            raise ImproperlyConfigured(f"mount path {path!r} cannot have parameters")
        super().__init__((prefix or "") + "/{path:path}", name)
        self.prefix = prefix
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)

    def copy_with(
        self, prefix: str = "", tags: Sequence[str] = (), dependencies: Sequence[Any] = ()
    ) -> Mount:
        return Mount(_join(prefix, self.prefix or "/"), self.app, name=self.name)

    def __repr__(self) -> str:
        return f"Mount({self.prefix or '/'!r}, app={self.app!r}, name={self.name!r})"


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    prefix = "/" + prefix.strip("/")
    if path == "/":
        return prefix
    return prefix + path


def _merge(first: Sequence[str], second: Sequence[str]) -> list[str]:
    out = list(first)
    out.extend(t for t in second if t not in out)
    return out
