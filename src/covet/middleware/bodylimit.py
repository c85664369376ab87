"""Refuse request bodies larger than a limit, declared or streamed, without reading them."""

from __future__ import annotations

from collections.abc import Awaitable

from covet._types import ASGIApp, Message, Receive, Scope, Send
from covet.exceptions import HTTPException, ImproperlyConfigured
from covet.middleware._util import get_header, send_json_error

__all__ = ("BodySizeLimitMiddleware", "RequestBodyTooLarge")


class RequestBodyTooLarge(HTTPException):
    """Raised from ``receive()`` once a streamed body passes the limit (a 413)."""

    error_code = "request_body_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body exceeds the limit of {limit} bytes")
        self.limit = limit


class BodySizeLimitMiddleware:
    """Answer 413 for request bodies over ``max_body_size`` bytes.

    A ``Content-Length`` over the limit is refused before the app runs. A body without
    one (chunked) is counted as it streams: the ``receive()`` call that passes the limit
    raises ``RequestBodyTooLarge`` (an ``HTTPException`` 413), which this middleware
    turns into the 413 response when the app lets it through. Nothing past the limit is
    read.
    """

    def __init__(self, app: ASGIApp, max_body_size: int = 1024 * 1024) -> None:
        if max_body_size < 0:
            raise ImproperlyConfigured("max_body_size must be >= 0")
        self.app = app
        self.max_body_size = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_size
        declared = get_header(scope["headers"], b"content-length")
        if declared is not None:
            text = declared.strip()
            if not text.isdigit():
                await send_json_error(scope, send, 400, "Invalid Content-Length header")
                return
            if int(text) > limit:
                await send_json_error(scope, send, 413, f"Request body exceeds the limit of {limit} bytes")
                return
        received = 0
        exceeded = False
        started = False

        async def receive_limited() -> Message:
            nonlocal received, exceeded
            if exceeded:
                raise RequestBodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise RequestBodyTooLarge(limit)
            return message

        # A plain function returning send's awaitable: no coroutine frame of its own.
        def send_tracking(message: Message) -> Awaitable[None]:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            return send(message)

        try:
            await self.app(scope, receive_limited, send_tracking)
        except RequestBodyTooLarge as exc:
            if started:
                raise
            await send_json_error(scope, send, 413, exc.detail)
