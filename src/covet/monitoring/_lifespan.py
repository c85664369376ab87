"""Seeing an app's lifespan from outside: which phase it is in (start-up, serving, shutdown)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from covet._types import ASGIApp, Message, Receive, Scope, Send

__all__ = ("watch_lifespan",)


def watch_lifespan(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, listener: Callable[[str], None]
) -> Awaitable[None]:
    """Run ``app`` on a lifespan ``scope``, calling ``listener(message_type)`` for every
    message in either direction (``"lifespan.startup"``, ``"lifespan.startup.complete"``,
    ``"lifespan.shutdown"``...) before it is delivered."""

    async def receive_watched() -> Message:
        message = await receive()
        listener(message["type"])
        return message

    def send_watched(message: Message) -> Awaitable[None]:
        listener(message["type"])
        return send(message)

    return app(scope, receive_watched, send_watched)
