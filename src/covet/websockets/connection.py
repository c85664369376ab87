"""``WebSocket``: the ASGI WebSocket protocol as a small state machine.

Two independent states are tracked: the client side (what we received) and the
application side (what we sent), each ``CONNECTING -> CONNECTED -> DISCONNECTED``.
Misuse (sending before ``accept()``, receiving after a disconnect...) raises
``RuntimeError`` with a message saying what to do instead.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Iterable
from typing import Any, Literal

from covet import _json
from covet._types import Message, Receive, Scope, Send
from covet.exceptions import WebSocketException
from covet.http.limits import json_nesting_exceeds
from covet.http.request import HTTPConnection

__all__ = ("WebSocket", "WebSocketDisconnect", "WebSocketState")


class WebSocketState(enum.Enum):
    """Where one side of the connection stands."""

    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2


class WebSocketDisconnect(Exception):
    """The client closed the connection (``code``, ``reason`` from its close frame)."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        super().__init__(
            f"WebSocket disconnected with code {code}" + (f": {reason}" if reason else "")
        )
        self.code = code
        self.reason = reason or ""

    def __repr__(self) -> str:
        return f"WebSocketDisconnect(code={self.code!r}, reason={self.reason!r})"


class WebSocket(HTTPConnection):
    """A WebSocket connection: ``accept``, then ``receive_*``/``send_*``, then ``close``."""

    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            raise ValueError(f"WebSocket needs a 'websocket' scope, got {scope['type']!r}")
        self.scope = scope
        self._receive = receive
        self._send = send
        self.client_state = WebSocketState.CONNECTING
        self.application_state = WebSocketState.CONNECTING

    async def receive(self) -> Message:
        """Receive the next raw ASGI message, updating the client state."""
        state = self.client_state
        if state is WebSocketState.DISCONNECTED:
            raise RuntimeError('Cannot call "receive" once a disconnect message has been received.')
        message = await self._receive()
        kind = message["type"]
        if state is WebSocketState.CONNECTING:
            if kind != "websocket.connect":
                raise RuntimeError(f'Expected ASGI message "websocket.connect", but got {kind!r}')
            self.client_state = WebSocketState.CONNECTED
        elif kind == "websocket.disconnect":
            self.client_state = WebSocketState.DISCONNECTED
        elif kind != "websocket.receive":
            raise RuntimeError(
                f'Expected ASGI message "websocket.receive" or "websocket.disconnect", but got {kind!r}'
            )
        return message

    async def send(self, message: Message) -> None:
        """Send a raw ASGI message, updating the application state."""
        state = self.application_state
        kind = message["type"]
        if state is WebSocketState.CONNECTING:
            if kind not in ("websocket.accept", "websocket.close", "websocket.http.response.start"):
                raise RuntimeError(
                    f'WebSocket is not connected: call "accept()" before sending (got {kind!r})'
                )
            self.application_state = (
                WebSocketState.CONNECTED
                if kind == "websocket.accept"
                else WebSocketState.DISCONNECTED
            )
        elif state is WebSocketState.CONNECTED:
            if kind not in ("websocket.send", "websocket.close"):
                raise RuntimeError(
                    f'Expected "websocket.send" or "websocket.close", but got {kind!r}'
                )
            if kind == "websocket.close":
                self.application_state = WebSocketState.DISCONNECTED
        elif kind != "websocket.http.response.body":
            raise RuntimeError('Cannot call "send" once the connection is closed.')
        try:
            await self._send(message)
        except OSError:
            # ASGI >= 2.4: send raises OSError once the client is gone.
            self.application_state = WebSocketState.DISCONNECTED
            raise WebSocketDisconnect(1006) from None

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Iterable[tuple[bytes, bytes]] | None = None,
    ) -> None:
        """Accept the connection, optionally choosing a ``subprotocol``."""
        if self.client_state is WebSocketState.CONNECTING:
            await self.receive()  # the websocket.connect message
        if subprotocol is not None and subprotocol not in self.scope.get("subprotocols", ()):
            raise ValueError(f"Subprotocol {subprotocol!r} was not offered by the client")
        message: Message = {"type": "websocket.accept", "subprotocol": subprotocol}
        if headers is not None:
            message["headers"] = list(headers)
        await self.send(message)

    def _require_connected(self) -> None:
        if self.application_state is not WebSocketState.CONNECTED:
            raise RuntimeError('WebSocket is not connected: call "accept()" first.')

    async def _receive_payload(self) -> Message:
        self._require_connected()
        message = await self.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
        return message

    async def receive_text(self) -> str:
        """Next text message; ``WebSocketException(1003)`` for a binary one."""
        message = await self._receive_payload()
        text = message.get("text")
        if text is None:
            raise WebSocketException(1003, "Expected a text message")
        return text

    async def receive_bytes(self) -> bytes:
        """Next binary message; ``WebSocketException(1003)`` for a text one."""
        message = await self._receive_payload()
        data = message.get("bytes")
        if data is None:
            raise WebSocketException(1003, "Expected a binary message")
        return data

    async def receive_json(self, mode: Literal["text", "binary"] = "text") -> Any:
        """Next message parsed as JSON; ``WebSocketException(1007)`` if malformed."""
        if mode not in ("text", "binary"):
            raise ValueError('mode must be "text" or "binary"')
        raw = await (self.receive_text() if mode == "text" else self.receive_bytes())
        if json_nesting_exceeds(raw, self.limits.max_json_depth):
            raise WebSocketException(1009, "JSON message nested too deeply")
        try:
            return _json.loads(raw)
        except (ValueError, RecursionError):
            raise WebSocketException(1007, "Malformed JSON message") from None

    async def send_text(self, data: str) -> None:
        await self.send({"type": "websocket.send", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        await self.send({"type": "websocket.send", "bytes": data})

    async def send_json(self, data: Any, mode: Literal["text", "binary"] = "text") -> None:
        """Send ``data`` as JSON in a text (default) or binary message."""
        if mode not in ("text", "binary"):
            raise ValueError('mode must be "text" or "binary"')
        encoded = _json.dumps(data)
        if mode == "text":
            await self.send({"type": "websocket.send", "text": encoded.decode("utf-8")})
        else:
            await self.send({"type": "websocket.send", "bytes": encoded})

    async def iter_text(self) -> AsyncIterator[str]:
        """Text messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            return

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        """Binary messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            return

    async def iter_json(self) -> AsyncIterator[Any]:
        """JSON text messages until the client disconnects."""
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            return

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Close the connection (or reject it, before ``accept()``)."""
        await self.send({"type": "websocket.close", "code": code, "reason": reason or ""})
