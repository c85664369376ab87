"""Cross-Origin Resource Sharing (CORS): preflight answers and response headers."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Sequence

from covet._types import ASGIApp, Message, Receive, Scope, Send
from covet.exceptions import ImproperlyConfigured
from covet.middleware._util import (
    RawHeaders,
    add_vary,
    get_header,
    reject_websocket,
    send_json_error,
    split_tokens,
)

__all__ = ("CORSMiddleware",)

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
SAFELISTED_HEADERS = frozenset({"accept", "accept-language", "content-language", "content-type"})
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_ACAO = b"access-control-allow-origin"
_VARY_ORIGIN = (b"vary", b"Origin")
_CACHE_SIZE = 256


class CORSMiddleware:
    """Answer CORS preflights and add CORS headers to responses for allowed origins.

    ``allow_origins`` lists exact origins (``"https://example.com"``) or ``"*"``;
    ``allow_origin_regex`` matches origins in full. With ``allow_credentials=True`` the
    origin is always echoed (never ``*``) with ``Vary: Origin``. A preflight from a
    disallowed origin, or asking for a disallowed method or header, gets a 400 with no
    CORS headers; a simple request from a disallowed origin gets no CORS headers.
    WebSocket handshakes carrying a disallowed ``Origin`` are refused.
    """

    def __init__(
        self,
        app: ASGIApp,
        allow_origins: Sequence[str] = (),
        allow_methods: Sequence[str] = ("GET",),
        allow_headers: Sequence[str] = (),
        allow_credentials: bool = False,
        allow_origin_regex: str | None = None,
        expose_headers: Sequence[str] = (),
        max_age: int = 600,
    ) -> None:
        if isinstance(allow_origins, str) or isinstance(allow_methods, str):
            raise ImproperlyConfigured("allow_origins and allow_methods must be lists, not strings")
        if isinstance(allow_headers, str) or isinstance(expose_headers, str):
            raise ImproperlyConfigured("allow_headers and expose_headers must be lists, not strings")
        for origin in allow_origins:
            if origin != "*" and (not re.match(r"^[a-z][a-z0-9+.-]*://[^/\s]+$", origin)):
                raise ImproperlyConfigured(
                    f"CORS origin {origin!r} must be 'scheme://host[:port]' with no path, or '*'"
                )
        if max_age < 0:
            raise ImproperlyConfigured("CORS max_age must be >= 0")
        try:
            self.origin_regex = re.compile(allow_origin_regex) if allow_origin_regex else None
        except re.error as exc:
            raise ImproperlyConfigured(f"invalid allow_origin_regex: {exc}") from exc
        methods = [m.upper() for m in allow_methods]
        if "*" in methods:
            methods = list(ALL_METHODS)
        for name in (*methods, *allow_headers, *expose_headers):
            if name != "*" and not _TOKEN.match(name):
                raise ImproperlyConfigured(f"invalid HTTP token in CORS configuration: {name!r}")

        self.app = app
        self.allow_all_origins = "*" in allow_origins
        self.allow_origins = frozenset(o for o in allow_origins if o != "*")
        self.allow_methods = frozenset(methods)
        self.allow_all_headers = "*" in allow_headers
        self.allow_headers = frozenset(h.lower() for h in allow_headers if h != "*") | SAFELISTED_HEADERS
        self.allow_credentials = allow_credentials
        # "*" is only meaningful without credentials; with them the origin is echoed.
        self.send_wildcard = self.allow_all_origins and not allow_credentials and not self.origin_regex

        simple: RawHeaders = []
        if allow_credentials:
            simple.append((b"access-control-allow-credentials", b"true"))
        if expose_headers:
            simple.append((b"access-control-expose-headers", ", ".join(expose_headers).encode("latin-1")))
        self.simple_headers = simple

        preflight: RawHeaders = [
            (b"access-control-allow-methods", ", ".join(sorted(self.allow_methods)).encode("latin-1")),
            (b"access-control-max-age", str(max_age).encode("ascii")),
        ]
        if allow_credentials:
            preflight.append((b"access-control-allow-credentials", b"true"))
        self.preflight_headers = preflight
        self.allowed_headers_value = ", ".join(sorted(self.allow_headers)).encode("latin-1")
        # Raw Origin value -> the headers a simple request from it gets (allowed ones only).
        self._allowed: dict[bytes, tuple[tuple[bytes, bytes], ...]] = {}

    def is_allowed_origin(self, origin: str) -> bool:
        """Whether requests from ``origin`` may receive CORS headers."""
        if self.allow_all_origins or origin in self.allow_origins:
            return True
        return self.origin_regex is not None and self.origin_regex.fullmatch(origin) is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        if scope_type == "lifespan":
            await self.app(scope, receive, send)
            return
        origin_raw = None
        for key, value in scope["headers"]:  # get_header(), inlined: this runs per request
            if key == b"origin" or (len(key) == 6 and key.lower() == b"origin"):
                origin_raw = value
                break
        if scope_type == "websocket":
            if origin_raw is None or self.is_allowed_origin(origin_raw.decode("latin-1")):
                await self.app(scope, receive, send)
            else:
                await reject_websocket(receive, send)
            return
        if origin_raw is None:
            # The answer depends on Origin, so caches must key on it (unless it is "*").
            await self.app(scope, receive, send if self.send_wildcard else _vary_send(send))
            return
        if scope["method"] == "OPTIONS":
            request_method = get_header(scope["headers"], b"access-control-request-method")
            if request_method is not None:
                await self.preflight(scope, send, origin_raw.decode("latin-1"), request_method)
                return
        added = self._allowed.get(origin_raw)
        if added is None:
            if not self.is_allowed_origin(origin_raw.decode("latin-1")):
                await self.app(scope, receive, send if self.send_wildcard else _vary_send(send))
                return
            added = (*self._origin_headers(origin_raw.decode("latin-1")), *self.simple_headers)
            if len(self._allowed) < _CACHE_SIZE:  # origins are client-chosen: bounded
                self._allowed[origin_raw] = added
        await self.app(scope, receive, self._simple_send(send, added))
    async def preflight(self, scope: Scope, send: Send, origin: str, request_method: bytes) -> None:
        """Answer a preflight: 200 with the CORS headers, or 400 with none."""
        if not self.is_allowed_origin(origin):
            await send_json_error(scope, send, 400, "Disallowed CORS origin")
            return
        if request_method.decode("latin-1").upper() not in self.allow_methods:
            await send_json_error(scope, send, 400, "Disallowed CORS method")
            return
        requested = get_header(scope["headers"], b"access-control-request-headers")
        headers: RawHeaders = self._origin_headers(origin)
        headers.extend(self.preflight_headers)
        if requested is not None:
            names = [h.lower() for h in split_tokens(requested)]
            if self.allow_all_headers:
                if any(not _TOKEN.match(h) for h in names):
                    await send_json_error(scope, send, 400, "Disallowed CORS headers")
                    return
                headers.append((b"access-control-allow-headers", ", ".join(names).encode("latin-1")))
            else:
                if any(h not in self.allow_headers for h in names):
                    await send_json_error(scope, send, 400, "Disallowed CORS headers")
                    return
                headers.append((b"access-control-allow-headers", self.allowed_headers_value))
        if not self.send_wildcard:
            add_vary(headers, "Origin")
        headers.append((b"content-length", b"0"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _origin_headers(self, origin: str) -> RawHeaders:
        if self.send_wildcard:
            return [(b"access-control-allow-origin", b"*")]
        return [(b"access-control-allow-origin", origin.encode("latin-1"))]

    def _simple_send(self, send: Send, added: tuple[tuple[bytes, bytes], ...]) -> Send:
        vary = not self.send_wildcard

        # A plain function returning send's awaitable: no coroutine frame of its own.
        def send_with_cors(message: Message) -> Awaitable[None]:
            if message["type"] == "http.response.start":
                headers: RawHeaders = list(message.get("headers", ()))
                has_acao = has_vary = False
                for key, _ in headers:  # one pass for both names, by length first
                    size = len(key)
                    if size == 27:
                        has_acao = has_acao or key.lower() == _ACAO
                    elif size == 4:
                        has_vary = has_vary or key.lower() == b"vary"
                if not has_acao:  # a handler that set its own CORS headers keeps them
                    headers.extend(added)
                if vary:
                    if has_vary:
                        add_vary(headers, "Origin")
                    else:
                        headers.append(_VARY_ORIGIN)
                message = dict(message)  # the app's message is never mutated
                message["headers"] = headers
            return send(message)

        return send_with_cors


def _vary_send(send: Send) -> Send:
    def send_with_vary(message: Message) -> Awaitable[None]:
        if message["type"] == "http.response.start":
            headers: RawHeaders = list(message.get("headers", ()))
            add_vary(headers, "Origin")
            message = dict(message)
            message["headers"] = headers
        return send(message)

    return send_with_vary
