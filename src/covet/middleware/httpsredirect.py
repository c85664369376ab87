"""Redirect plain-text requests to their https (or wss) equivalent."""

from __future__ import annotations

from covet._types import ASGIApp, Receive, Scope, Send
from covet.exceptions import ImproperlyConfigured
from covet.middleware._util import get_header, reject_websocket, request_url, send_redirect
from covet.middleware.trustedhost import split_host

__all__ = ("HTTPSRedirectMiddleware",)

_SECURE = {"http": "https", "ws": "wss"}


class HTTPSRedirectMiddleware:
    """Answer ``http://`` requests with a 308 to ``https://`` (method and body kept).

    WebSocket handshakes over ``ws://`` get a redirect to ``wss://`` when the server
    supports the ASGI ``websocket.http.response`` extension, and are refused otherwise.
    ``https_port`` is added to the URL when it is not 443.
    """

    def __init__(self, app: ASGIApp, https_port: int = 443, status_code: int = 308) -> None:
        if not 0 < https_port < 65536:
            raise ImproperlyConfigured("https_port must be a TCP port number")
        if status_code not in (301, 302, 307, 308):
            raise ImproperlyConfigured("status_code must be one of 301, 302, 307, 308")
        self.app = app
        self.https_port = https_port
        self.status_code = status_code

    def secure_url(self, scope: Scope) -> str:
        """The https/wss URL for this request."""
        scheme = _SECURE[scope.get("scheme", "http")]
        raw = get_header(scope["headers"], b"host")
        if raw:
            host, _ = split_host(raw.decode("latin-1"))
        else:
            server = scope.get("server") or ("localhost", 80)
            host = str(server[0])
        netloc = host if self.https_port == 443 else f"{host}:{self.https_port}"
        return request_url(scope, scheme, netloc)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope.get("scheme", "http") not in _SECURE:
            await self.app(scope, receive, send)
            return
        url = self.secure_url(scope)
        if scope["type"] == "http":
            await send_redirect(send, url, self.status_code)
            return
        if "websocket.http.response" not in scope.get("extensions", {}):
            await reject_websocket(receive, send)
            return
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        headers = [(b"location", url.encode("latin-1")), (b"content-length", b"0")]
        await send({"type": "websocket.http.response.start", "status": self.status_code, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": b"", "more_body": False})
