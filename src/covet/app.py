"""``Covet``: the application, an ASGI 3.0 callable.

It owns the routes (it is a ``Router``), compiles them with their handlers and the
middleware chain once, on the first request or at lifespan start-up, and answers errors
in one format. Per request it does a dict (or tree) lookup, a method lookup and one call.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

from covet._types import ASGIApp, Receive, Scope, Send
from covet.errors import http_error_response, server_error_response
from covet.exceptions import HTTPException, ImproperlyConfigured, WebSocketException
from covet.http.datastructures import State
from covet.http.limits import DEFAULT_LIMITS, Limits
from covet.http.request import Request
from covet.http.response import RedirectResponse, Response
from covet.routing import Route, Router, RouteTable, WebSocketRoute
from covet.websockets.channels import Channels, MemoryChannels

__all__ = ("Covet",)

logger = logging.getLogger("covet")

ExceptionHandler = Callable[[Request, Exception], "Response | Awaitable[Response]"]
E = TypeVar("E", bound=BaseException)
Handler = Callable[[Request, E], "Response | Awaitable[Response]"]
Lifespan = Callable[["Covet"], contextlib.AbstractAsyncContextManager[Any]]

_RAISE_KEY = "covet.raise_server_exceptions"  # set in scope["extensions"] by the TestClient


class Covet(Router):
    """The application.

    >>> app = Covet(title="Shop", version="1.0.0")
    >>> @app.get("/users/{user_id:int}")
    ... async def get_user(user_id: int) -> dict:
    ...     return {"id": user_id}
    """

    def __init__(
        self,
        *,
        title: str = "CovetPy",
        version: str = "0.1.0",
        description: str = "",
        debug: bool = False,
        routes: Sequence[Any] | None = None,
        middleware: Sequence[Any] | None = None,
        exception_handlers: dict[Any, ExceptionHandler] | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        lifespan: Lifespan | None = None,
        dependencies: Sequence[Any] | None = None,
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
        redoc_url: str | None = "/redoc",
        docs_assets: str | None = None,
        swagger_ui_parameters: dict[str, Any] | None = None,
        swagger_ui_init_oauth: dict[str, Any] | None = None,
        openapi_tags: list[dict[str, Any]] | None = None,
        servers: list[dict[str, Any]] | None = None,
        redirect_slashes: bool = True,
        limits: Limits | None = None,
        channels: Channels | None = None,
        extra_fields: str = "ignore",
    ) -> None:
        super().__init__(routes=routes)
        self.title = title
        self.version = version
        self.description = description
        self.debug = debug
        self.dependencies: list[Any] = list(dependencies or [])
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        self.openapi_url = openapi_url
        self.docs_url = docs_url
        self.redoc_url = redoc_url
        self.docs_assets = docs_assets
        self.swagger_ui_parameters = swagger_ui_parameters
        self.swagger_ui_init_oauth = swagger_ui_init_oauth
        self.openapi_tags = openapi_tags
        self.servers = servers
        self.openapi_schema: dict[str, Any] | None = None
        self.redirect_slashes = redirect_slashes
        self.limits = limits or DEFAULT_LIMITS
        self._channels = channels
        if extra_fields not in ("ignore", "forbid"):
            raise ImproperlyConfigured(f"extra_fields must be 'ignore' or 'forbid', not {extra_fields!r}")
        self.extra_fields = extra_fields
        self.state = State()
        self.user_middleware: list[tuple[Callable[..., ASGIApp], dict[str, Any]]] = []
        for spec in middleware or ():
            cls, options = (spec.cls, spec.options) if hasattr(spec, "cls") else (spec, {})
            self.user_middleware.append((cls, dict(options)))
        self._status_handlers: dict[int, ExceptionHandler] = {}
        self._class_handlers: dict[type[BaseException], ExceptionHandler] = {}
        for key, handler in (exception_handlers or {}).items():
            self.add_exception_handler(key, handler)
        self._on_startup: list[Callable[[], Any]] = list(on_startup or [])
        self._on_shutdown: list[Callable[[], Any]] = list(on_shutdown or [])
        self._lifespan = lifespan
        self._lifespan_stack: contextlib.AsyncExitStack | None = None
        from covet.handlers import Container

        self.container = Container()
        self._asgi: ASGIApp | None = None
        self._table: RouteTable | None = None
        self._static: dict[str, Any] = {}
        self._docs_installed = False

    # ------------------------------------------------------------------ configuration

    @property
    def channels(self) -> Channels:
        """WebSocket rooms and broadcast (in memory unless ``Covet(channels=...)``)."""
        if self._channels is None:
            self._channels = MemoryChannels()
        return self._channels

    def _routes_changed(self) -> None:
        self._asgi = None
        self.openapi_schema = None

    def provide(self, type_: Any, factory: Callable[..., Any], **options: Any) -> None:
        """Register an app-scoped singleton: handlers asking for ``type_`` receive it."""
        self.container.provide(type_, factory, **options)
        self._asgi = None

    def add_middleware(self, cls: Callable[..., ASGIApp], **options: Any) -> None:
        """Wrap the app in ``cls(app, **options)``; the last one added runs first."""
        self.user_middleware.append((cls, options))
        self._asgi = None

    def middleware(self, kind: str = "http") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator form: ``@app.middleware("http") async def mw(request, call_next)``."""
        if kind != "http":
            raise ImproperlyConfigured("only @app.middleware('http') is supported")

        def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
            from covet.middleware.base import BaseHTTPMiddleware

            self.add_middleware(BaseHTTPMiddleware, dispatch=func)
            return func

        return decorator

    def add_exception_handler(self, key: int | type[BaseException], handler: Callable[..., Any]) -> None:
        """Answer an exception class (and subclasses) or an HTTP status with ``handler``."""
        if isinstance(key, int):
            self._status_handlers[key] = handler
        elif isinstance(key, type) and issubclass(key, BaseException):
            self._class_handlers[key] = handler
        else:
            raise ImproperlyConfigured(f"exception handler key must be a status or class, not {key!r}")

    def exception_handler(self, key: int | type[E]) -> Callable[[Handler[E]], Handler[E]]:
        """Decorator form of ``add_exception_handler``; the handler may be typed for ``key``."""

        def decorator(func: Handler[E]) -> Handler[E]:
            self.add_exception_handler(key, func)
            return func

        return decorator

    def on_event(self, event: str) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
        """Register a ``"startup"`` or ``"shutdown"`` function (sync or async)."""
        if event not in ("startup", "shutdown"):
            raise ImproperlyConfigured(f"unknown event {event!r}: use 'startup' or 'shutdown'")

        def decorator(func: Callable[[], Any]) -> Callable[[], Any]:
            (self._on_startup if event == "startup" else self._on_shutdown).append(func)
            return func

        return decorator

    def url_path_for(self, name: str, /, **params: Any) -> str:
        """Reverse a route: ``app.url_path_for("get_user", user_id=3)`` -> ``/users/3``."""
        self._ensure_docs()
        return super().url_path_for(name, **params)

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI 3.1 document (built once, rebuilt when routes change)."""
        if self.openapi_schema is None:
            from covet.openapi import generate_openapi

            self._ensure_docs()
            self.openapi_schema = generate_openapi(self)
        return self.openapi_schema

    # ------------------------------------------------------------------ build

    def _ensure_docs(self) -> None:
        if not self._docs_installed and self.openapi_url:
            self._docs_installed = True
            from covet.openapi import install

            install(self)

    def build(self) -> ASGIApp:
        """Compile routes, handlers and middleware (done automatically; idempotent)."""
        if self._asgi is not None:
            return self._asgi
        from covet.handlers import compile_route, compile_websocket_route

        self._ensure_docs()
        table = RouteTable(self.routes)
        for route in self.routes:
            # start-up checks a decorator attached to its endpoint (e.g. "needs middleware X")
            for check in getattr(getattr(route, "endpoint", None), "__covet_checks__", ()):
                check(self)
        for route in self.routes:
            if isinstance(route, Route):
                route.app = compile_route(route, self)
            elif isinstance(route, WebSocketRoute):
                route.app = compile_websocket_route(route, self)
        self._table = table
        self._static = table.http.static
        app: ASGIApp = self._dispatch
        for cls, options in self.user_middleware:
            app = cls(app, **options)
        if self.user_middleware:
            app = _ServerErrors(app, self)
        self._asgi = app
        return app

    # ------------------------------------------------------------------ ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        asgi = self._asgi
        if asgi is None:
            try:
                asgi = self.build()
            except Exception as exc:
                if scope["type"] != "lifespan":
                    raise
                # raising here would read as "lifespan unsupported" and the server would
                # start anyway: report the broken set-up as a failed start-up instead
                await _refuse_startup(exc, receive, send)
                return
        await asgi(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path = scope["path"]
            table = self._static.get(path)
            if table is not None:
                params: dict[str, Any] = {}
            else:
                found = self._table.http.match(path)  # type: ignore[union-attr]
                if found is None:
                    await self._not_found(scope, receive, send)
                    return
                table, params = found
            route = table.by_method.get(scope["method"])
            if route is None:
                await self._method_not_allowed(table, scope, receive, send)
                return
            scope["path_params"] = params
            scope["route"] = route
            try:
                await route.app(scope, receive, send)  # type: ignore[misc]  # compiled at build
            except Exception as exc:
                await self.handle_exception(exc, scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            await self._run_lifespan(scope, receive, send)

    async def _not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        mounted = self._table.find_mount(path)  # type: ignore[union-attr]
        if mounted is not None:
            await self._call_mount(mounted, scope, receive, send)
            return
        if self.redirect_slashes and path != "/":
            other = path[:-1] if path.endswith("/") else path + "/"
            if self._table.http.match(other) is not None:  # type: ignore[union-attr]
                query = scope.get("query_string", b"")
                location = scope.get("root_path", "") + other + ("?" + query.decode("latin-1") if query else "")
                await RedirectResponse(location, status_code=307)(scope, receive, send)
                return
        await self.handle_exception(HTTPException(404), scope, receive, send)

    async def _method_not_allowed(self, table: Any, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "OPTIONS":
            await Response(b"", status_code=204, headers={"Allow": table.allow})(scope, receive, send)
            return
        await self.handle_exception(HTTPException(405, headers={"Allow": table.allow}), scope, receive, send)

    async def _call_mount(self, mounted: tuple[Any, str], scope: Scope, receive: Receive, send: Send) -> None:
        mount, rest = mounted
        child = dict(scope)
        child["root_path"] = scope.get("root_path", "") + mount.prefix
        child["path"] = rest
        child["path_params"] = {"path": rest.lstrip("/")}
        child["route"] = mount
        try:
            await mount.app(child, receive, send)
        except Exception as exc:
            await self.handle_exception(exc, scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._table.websocket.match(scope["path"])  # type: ignore[union-attr]
        if found is None:
            mounted = self._table.find_mount(scope["path"])  # type: ignore[union-attr]
            if mounted is not None:
                await self._call_mount(mounted, scope, receive, send)
                return
            await send({"type": "websocket.close", "code": 1000, "reason": ""})
            return
        route, params = found
        scope["path_params"] = params
        scope["route"] = route
        try:
            await route.app(scope, receive, send)  # type: ignore[misc]  # compiled at build
        except WebSocketException as exc:
            await _ws_close(send, exc.code, exc.reason)
        except Exception as exc:
            if type(exc).__name__ == "WebSocketDisconnect":
                return
            code = 1008 if isinstance(exc, HTTPException) and exc.status_code < 500 else 1011
            if code == 1011:
                server_error_response(exc, scope, debug=self.debug)  # logs it
            await _ws_close(send, code, "")
            if code == 1011 and _RAISE_KEY in scope.get("extensions", ()):
                raise

    async def handle_exception(self, exc: Exception, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer ``exc`` with a registered handler or the default error response."""
        handler = self._find_handler(exc)
        response: Response
        if handler is not None:
            result = handler(Request(scope, receive, send), exc)
            response = await result if inspect.isawaitable(result) else result
        elif isinstance(exc, HTTPException):
            response = http_error_response(exc, scope)
        else:
            response = server_error_response(exc, scope, debug=self.debug)
        try:
            await response(scope, receive, send)
        except Exception:
            logger.warning("could not send the error response for %r (response already started)", exc)
            raise exc from None
        if handler is None and not isinstance(exc, HTTPException) and _RAISE_KEY in scope.get("extensions", ()):
            with contextlib.suppress(AttributeError):  # answered already: outer layers re-raise it
                exc.__covet_answered__ = True  # type: ignore[attr-defined]
            raise exc

    def _find_handler(self, exc: Exception) -> ExceptionHandler | None:
        if self._class_handlers:
            for cls in type(exc).__mro__:
                handler = self._class_handlers.get(cls)
                if handler is not None:
                    return handler
        if self._status_handlers:
            status = exc.status_code if isinstance(exc, HTTPException) else 500
            return self._status_handlers.get(status)
        return None

    # ------------------------------------------------------------------ lifespan

    async def _run_lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        assert message["type"] == "lifespan.startup"
        try:
            await self.startup(scope.get("state"))
        except BaseException as exc:
            logger.exception("application start-up failed")
            await send({"type": "lifespan.startup.failed", "message": f"{type(exc).__name__}: {exc}"})
            return
        await send({"type": "lifespan.startup.complete"})
        message = await receive()
        try:
            await self.shutdown()
        except BaseException as exc:
            logger.exception("application shutdown failed")
            await send({"type": "lifespan.shutdown.failed", "message": f"{type(exc).__name__}: {exc}"})
            return
        await send({"type": "lifespan.shutdown.complete"})

    async def startup(self, state: dict[str, Any] | None = None) -> None:
        """Build, start the service container, connect databases, run start-up hooks."""
        self.build()
        stack = contextlib.AsyncExitStack()
        await stack.__aenter__()
        self._lifespan_stack = stack
        try:
            await self.container.startup()
            stack.push_async_callback(self.container.shutdown)
            if self._channels is not None:
                await self._channels.start()
                stack.push_async_callback(self._channels.stop)
            for db in _registered_databases():
                if not getattr(db, "is_connected", False):
                    await db.connect()
                    stack.push_async_callback(db.disconnect)
            for func in self._on_startup:
                result = func()
                if inspect.isawaitable(result):
                    await result
            if self._lifespan is not None:
                value = await stack.enter_async_context(self._lifespan(self))
                if isinstance(value, dict):
                    if state is not None:
                        state.update(value)
                    for key, item in value.items():
                        setattr(self.state, key, item)
        except BaseException:
            self._lifespan_stack = None
            await stack.aclose()
            raise

    async def shutdown(self) -> None:
        """Run shutdown hooks, then undo start-up in reverse order."""
        try:
            for func in self._on_shutdown:
                result = func()
                if inspect.isawaitable(result):
                    await result
        finally:
            stack, self._lifespan_stack = self._lifespan_stack, None
            if stack is not None:
                await stack.aclose()

    @contextlib.asynccontextmanager
    async def run_lifespan(self) -> AsyncIterator[Covet]:
        """``async with app.run_lifespan():`` start-up and shutdown without a server."""
        await self.startup()
        try:
            yield self
        finally:
            await self.shutdown()


class _ServerErrors:
    """Outermost layer when user middleware exists: errors raised by middleware -> 500."""

    __slots__ = ("app", "covet")

    def __init__(self, app: ASGIApp, covet: Covet) -> None:
        self.app = app
        self.covet = covet

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as exc:
            if scope["type"] != "http" or getattr(exc, "__covet_answered__", False):
                raise
            await self.covet.handle_exception(exc, scope, receive, send)


async def _refuse_startup(exc: Exception, receive: Receive, send: Send) -> None:
    message = await receive()
    if message["type"] != "lifespan.startup":
        return
    logger.error("application start-up failed", exc_info=(type(exc), exc, exc.__traceback__))
    await send({"type": "lifespan.startup.failed", "message": f"{type(exc).__name__}: {exc}"})


async def _ws_close(send: Send, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await send({"type": "websocket.close", "code": code, "reason": reason})


def _registered_databases() -> list[Any]:
    """Databases created by the program, connected by the lifespan (never imports covet.db)."""
    module = sys.modules.get("covet.db.database")
    if module is None:
        return []
    return list(module.registered_databases().values())
