"""The same JSON endpoint and the same middleware stack in Covet, Starlette and Litestar.

Stack (outermost first): request id, CORS, security headers, sessions (signed cookie),
GZip (``minimum_size=500``). Starlette and Litestar have no built-in request-id or
security-headers middleware, so they get ``PlainRequestID`` and ``PlainSecurityHeaders``
below: minimal pure-ASGI equivalents (cheaper than the usual third-party packages),
which keeps the comparison conservative for Covet.

Each ``build_*`` returns ``(bare_app, stack_app)``; both serve ``GET /json`` and
``GET /login`` (sets ``session["user_id"] = 42``, used once to mint a session cookie).
"""



import uuid
from typing import Any

SECRET = "bench-secret-key-0123456789abcde"  # 32 bytes: Litestar's AES-GCM wants 16/24/32
ORIGIN = "https://app.example.com"
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class PlainRequestID:
    """uuid4 hex per request into the scope and an ``x-request-id`` response header."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = uuid.uuid4().hex
        scope["request_id"] = rid

        async def wrapped(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        await self.app(scope, receive, wrapped)


class PlainSecurityHeaders:
    """Appends four fixed security headers (no HSTS on http)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def wrapped(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, wrapped)


def covet_stack() -> list[tuple[Any, dict[str, Any]]]:
    """The stack as ``(class, options)``, innermost first (Covet adds outermost last)."""
    from covet.middleware import (
        CORSMiddleware,
        GZipMiddleware,
        RequestIDMiddleware,
        SecurityHeadersMiddleware,
        SessionMiddleware,
    )

    return [
        (GZipMiddleware, {"minimum_size": 500}),
        (SessionMiddleware, {"secret_key": SECRET}),
        (SecurityHeadersMiddleware, {}),
        (CORSMiddleware, {"allow_origins": [ORIGIN], "allow_credentials": True}),
        (RequestIDMiddleware, {}),
    ]


def covet_app(middleware: list[tuple[Any, dict[str, Any]]]) -> Any:
    from covet import Covet, Request

    app = Covet()

    @app.get("/json")
    async def json_ep() -> dict[str, str]:
        return {"message": "Hello, World!"}

    @app.get("/login")
    async def login(request: Request) -> dict[str, bool]:
        request.session["user_id"] = 42
        return {"ok": True}

    for cls, options in middleware:
        app.add_middleware(cls, **options)
    return app


def build_covet() -> tuple[Any, Any]:
    return covet_app([]), covet_app(covet_stack())


def build_starlette() -> tuple[Any, Any]:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.cors import CORSMiddleware
    from starlette.middleware.gzip import GZipMiddleware
    from starlette.middleware.sessions import SessionMiddleware
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def json_ep(request: Any) -> JSONResponse:
        return JSONResponse({"message": "Hello, World!"})

    async def login(request: Any) -> JSONResponse:
        request.session["user_id"] = 42
        return JSONResponse({"ok": True})

    routes = [Route("/json", json_ep), Route("/login", login)]
    middleware = [  # first is outermost
        Middleware(PlainRequestID),
        Middleware(CORSMiddleware, allow_origins=[ORIGIN], allow_credentials=True),
        Middleware(PlainSecurityHeaders),
        Middleware(SessionMiddleware, secret_key=SECRET),
        Middleware(GZipMiddleware, minimum_size=500),
    ]
    return Starlette(routes=routes), Starlette(routes=routes, middleware=middleware)


def build_litestar() -> tuple[Any, Any]:
    from litestar import Litestar, Request, get
    from litestar.config.compression import CompressionConfig
    from litestar.config.cors import CORSConfig
    from litestar.middleware import DefineMiddleware
    from litestar.middleware.session.client_side import CookieBackendConfig

    @get("/json", sync_to_thread=False)
    def json_ep() -> dict[str, str]:
        return {"message": "Hello, World!"}

    @get("/login", sync_to_thread=False)
    def login(request: Request) -> dict[str, bool]:
        request.session["user_id"] = 42
        return {"ok": True}

    bare = Litestar(route_handlers=[json_ep, login], logging_config=None)
    stack = Litestar(
        route_handlers=[json_ep, login],
        cors_config=CORSConfig(allow_origins=[ORIGIN], allow_credentials=True),
        compression_config=CompressionConfig(backend="gzip", minimum_size=500),
        middleware=[
            DefineMiddleware(PlainRequestID),
            DefineMiddleware(PlainSecurityHeaders),
            CookieBackendConfig(secret=SECRET.encode()).middleware,
        ],
        logging_config=None,
    )
    return bare, stack


BUILDERS = {"covet": build_covet, "starlette": build_starlette, "litestar": build_litestar}
