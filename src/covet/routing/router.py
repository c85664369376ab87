"""``Router``: a group of routes with a shared prefix, tags and dependencies."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from covet._types import ASGIApp
from covet.exceptions import ImproperlyConfigured
from covet.routing.routes import BaseRoute, Mount, Route, WebSocketRoute

__all__ = ("Router",)

F = TypeVar("F", bound=Callable[..., Any])


class Router:
    """Collects routes; ``app.include_router(router)`` copies them into the app.

    >>> api = Router(prefix="/api/v1", tags=["v1"])
    >>> @api.get("/items/{item_id:int}")
    ... async def get_item(item_id: int) -> dict: ...
    """

    def __init__(
        self,
        prefix: str = "",
        *,
        tags: Sequence[str] | None = None,
        dependencies: Sequence[Any] | None = None,
        routes: Sequence[BaseRoute] | None = None,
    ) -> None:
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ImproperlyConfigured(f"router prefix {prefix!r} must start with '/' and not end with '/'")
        self.prefix = prefix
        self.tags: list[str] = list(tags or [])
        self.dependencies: list[Any] = list(dependencies or [])
        self.routes: list[BaseRoute] = []
        for route in routes or ():
            self._add(route)

    def _add(self, route: BaseRoute) -> None:
        if self.prefix or self.tags or self.dependencies:
            route = route.copy_with(self.prefix, self.tags, self.dependencies)  # type: ignore[attr-defined]
        self.routes.append(route)
        self._routes_changed()

    def _routes_changed(self) -> None:
        """Hook for the application to invalidate its compiled router."""

    def add_route(self, path: str, endpoint: Callable[..., Any], **options: Any) -> Route:
        """Register ``endpoint`` for ``path``; options as in ``Route``."""
        route = Route(path, endpoint, **options)
        self._add(route)
        return route

    def add_websocket_route(
        self, path: str, endpoint: Callable[..., Any], *, name: str | None = None,
        dependencies: Sequence[Any] | None = None,
    ) -> WebSocketRoute:
        route = WebSocketRoute(path, endpoint, name=name, dependencies=dependencies)
        self._add(route)
        return route

    def route(self, path: str, methods: Sequence[str] | None = None, **options: Any) -> Callable[[F], F]:
        """Decorator registering a handler for ``methods`` (default GET)."""

        def decorator(func: F) -> F:
            self.add_route(path, func, methods=methods, **options)
            return func

        return decorator

    def get(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.route(path, ["GET"], **options)

    def post(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.route(path, ["POST"], **options)

    def put(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.route(path, ["PUT"], **options)

    def patch(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.route(path, ["PATCH"], **options)

    def delete(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.route(path, ["DELETE"], **options)

    def head(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.route(path, ["HEAD"], **options)

    def options(self, path: str, **options: Any) -> Callable[[F], F]:
        return self.route(path, ["OPTIONS"], **options)

    def websocket(
        self, path: str, *, name: str | None = None, dependencies: Sequence[Any] | None = None
    ) -> Callable[[F], F]:
        def decorator(func: F) -> F:
            self.add_websocket_route(path, func, name=name, dependencies=dependencies)
            return func

        return decorator

    def mount(self, path: str, app: ASGIApp, *, name: str | None = None) -> None:
        """Serve any ASGI app under ``path``."""
        self._add(Mount(path, app, name=name))

    def include_router(
        self,
        router: Router,
        *,
        prefix: str = "",
        tags: Sequence[str] | None = None,
        dependencies: Sequence[Any] | None = None,
    ) -> None:
        """Copy ``router``'s routes here, under ``prefix`` with extra tags/dependencies."""
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ImproperlyConfigured(f"prefix {prefix!r} must start with '/' and not end with '/'")
        for route in router.routes:
            self._add(route.copy_with(prefix, list(tags or []), list(dependencies or [])))  # type: ignore[attr-defined]

    def url_path_for(self, name: str, /, **params: Any) -> str:
        """The path of the route called ``name`` with ``params`` filled in."""
        from covet.routing.resolve import url_path_for

        return url_path_for(self.routes, name, params)

