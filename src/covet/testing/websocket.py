"""WebSocket sessions for the test clients."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from covet import _json
from covet._types import ASGIApp, Message, Scope

__all__ = ("WebSocketDenied", "WebSocketSession", "WebSocketTestSession")


class WebSocketDenied(Exception):
    """The app refused the connection with an HTTP response instead of accepting."""

    def __init__(self, status_code: int, body: bytes) -> None:
        super().__init__(f"WebSocket refused with HTTP {status_code}")
        self.status_code = status_code
        self.body = body


def _disconnect(code: int, reason: str = "") -> Exception:
    from covet.websockets import WebSocketDisconnect

    return WebSocketDisconnect(code, reason)


class WebSocketSession:
    """An open WebSocket to the app; use as ``async with``."""

    def __init__(self, app: ASGIApp, scope: Scope, raise_server_exceptions: bool) -> None:
        self.app = app
        self.scope = scope
        self.raise_server_exceptions = raise_server_exceptions
        self.accepted_subprotocol: str | None = None
        self.extra_headers: list[tuple[bytes, bytes]] = []
        self._to_app: asyncio.Queue[Message] = asyncio.Queue()
        self._from_app: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    async def __aenter__(self) -> WebSocketSession:
        async def run() -> None:
            try:
                await self.app(self.scope, self._to_app.get, self._from_app.put)
            except BaseException as exc:
                await self._from_app.put({"type": "covet.error", "exc": exc})
                return
            await self._from_app.put({"type": "covet.app.exit"})

        self._task = asyncio.ensure_future(run())
        await self._to_app.put({"type": "websocket.connect"})
        message = await self._from_app.get()
        if message["type"] == "websocket.accept":
            self.accepted_subprotocol = message.get("subprotocol")
            self.extra_headers = list(message.get("headers", []))
            return self
        await self._finish()
        if message["type"] == "websocket.close":
            raise _disconnect(message.get("code", 1000), message.get("reason") or "")
        if message["type"] == "websocket.http.response.start":
            body = b""
            while True:
                part = await self._from_app.get()
                if part["type"] != "websocket.http.response.body":
                    break
                body += part.get("body", b"")
                if not part.get("more_body"):
                    break
            raise WebSocketDenied(message["status"], body)
        if message["type"] == "covet.error":
            raise message["exc"]
        raise RuntimeError(f"the app neither accepted nor closed the WebSocket: {message['type']}")

    async def __aexit__(self, *exc: object) -> None:
        if not self._closed:
            self._closed = True
            await self._to_app.put({"type": "websocket.disconnect", "code": 1000})
        await self._finish()

    async def _finish(self) -> None:
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), 5)
        except asyncio.TimeoutError:
            self._task.cancel()
        while not self._from_app.empty():
            message = self._from_app.get_nowait()
            if message["type"] == "covet.error" and self.raise_server_exceptions:
                raise message["exc"]

    async def send(self, message: Message) -> None:
        await self._to_app.put(message)

    async def send_text(self, data: str) -> None:
        await self.send({"type": "websocket.receive", "text": data})

    async def send_bytes(self, data: bytes) -> None:
        await self.send({"type": "websocket.receive", "bytes": data})

    async def send_json(self, data: Any, mode: str = "text") -> None:
        encoded = _json.dumps(data)
        if mode == "text":
            await self.send_text(encoded.decode())
        else:
            await self.send_bytes(encoded)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self._closed = True
        await self.send({"type": "websocket.disconnect", "code": code, "reason": reason})

    async def receive(self, timeout: float = 5.0) -> Message:
        message = await asyncio.wait_for(self._from_app.get(), timeout)
        if message["type"] == "covet.error":
            raise message["exc"]
        if message["type"] == "covet.app.exit":
            raise _disconnect(1006, "the app returned without closing")
        return message

    async def receive_text(self) -> str:
        message = await self._data_message()
        if message.get("text") is None:
            raise TypeError("expected a text message, got binary")
        return str(message["text"])

    async def receive_bytes(self) -> bytes:
        message = await self._data_message()
        if message.get("bytes") is None:
            raise TypeError("expected a binary message, got text")
        return bytes(message["bytes"])

    async def receive_json(self) -> Any:
        message = await self._data_message()
        return _json.loads(message["text"] if message.get("text") is not None else message["bytes"])

    async def _data_message(self) -> Message:
        message = await self.receive()
        if message["type"] == "websocket.close":
            self._closed = True
            raise _disconnect(message.get("code", 1000), message.get("reason") or "")
        return message


class WebSocketTestSession:
    """The synchronous face of ``WebSocketSession`` for ``TestClient``."""

    def __init__(self, session: WebSocketSession, call: Callable[[Coroutine[Any, Any, Any]], Any]) -> None:
        self._session = session
        self._call = call

    def __enter__(self) -> WebSocketTestSession:
        self._call(self._session.__aenter__())
        return self

    def __exit__(self, *exc: object) -> None:
        self._call(self._session.__aexit__(*exc))

    @property
    def accepted_subprotocol(self) -> str | None:
        return self._session.accepted_subprotocol

    @property
    def extra_headers(self) -> list[tuple[bytes, bytes]]:
        return self._session.extra_headers

    def send(self, message: Message) -> None:
        self._call(self._session.send(message))

    def send_text(self, data: str) -> None:
        self._call(self._session.send_text(data))

    def send_bytes(self, data: bytes) -> None:
        self._call(self._session.send_bytes(data))

    def send_json(self, data: Any, mode: str = "text") -> None:
        self._call(self._session.send_json(data, mode))

    def close(self, code: int = 1000, reason: str = "") -> None:
        self._call(self._session.close(code, reason))

    def receive(self, timeout: float = 5.0) -> Message:
        return self._call(self._session.receive(timeout))

    def receive_text(self) -> str:
        return self._call(self._session.receive_text())

    def receive_bytes(self) -> bytes:
        return self._call(self._session.receive_bytes())

    def receive_json(self) -> Any:
        return self._call(self._session.receive_json())
