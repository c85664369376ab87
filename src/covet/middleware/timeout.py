"""Answer 504 when a handler has not started its response in time, and cancel it."""

from __future__ import annotations

import asyncio

from covet._types import ASGIApp, Message, Receive, Scope, Send
from covet.exceptions import ImproperlyConfigured
from covet.middleware._util import send_json_error

__all__ = ("TimeoutMiddleware",)


class TimeoutMiddleware:
    """Cancel a request's handler if it has not sent ``http.response.start`` after
    ``timeout`` seconds, and answer 504 instead.

    Once the response has started (a streaming body, say) the timeout no longer
    applies. Only HTTP requests are affected. The handler sees a normal
    ``asyncio.CancelledError``, so its ``finally`` blocks and context managers run.
    """

    def __init__(self, app: ASGIApp, timeout: float = 30.0) -> None:
        if not timeout > 0:
            raise ImproperlyConfigured("timeout must be a positive number of seconds")
        self.app = app
        self.timeout = float(timeout)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        task = asyncio.current_task()
        assert task is not None
        started = False
        timed_out = False

        def on_timeout() -> None:
            nonlocal timed_out
            if not started:
                timed_out = True
                task.cancel()

        handle = asyncio.get_running_loop().call_later(self.timeout, on_timeout)

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if not started and message["type"] == "http.response.start":
                if timed_out:
                    raise asyncio.CancelledError()
                started = True
                handle.cancel()
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except asyncio.CancelledError:
            if not timed_out:
                raise
            uncancel = getattr(task, "uncancel", None)
            if uncancel is not None:
                uncancel()
        finally:
            handle.cancel()
        if timed_out and not started:
            await send_json_error(scope, send, 504, "Request timed out")
