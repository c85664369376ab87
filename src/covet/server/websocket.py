"""WebSocket connections: the upgrade handshake and the ASGI ``websocket`` protocol.

:class:`covet.server.http11.HTTPProtocol` hands the transport over after parsing an
``Upgrade: websocket`` request; frames are parsed by the sans-IO
:class:`~covet.server.ws_frames.FrameReader`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING, Any

from ._common import ASGI_VERSION, STATUS_LINES, error_response, split_target, status_line
from .flow_control import FlowControl
from .ws_deflate import PerMessageDeflate, negotiate_deflate
from .ws_frames import (
    BINARY,
    PING,
    PONG,
    TEXT,
    FrameReader,
    WebSocketProtocolError,
    accept_key,
    encode_close,
    encode_frame,
    valid_key,
)

if TYPE_CHECKING:
    from covet._types import ASGIApp, Message

    from .config import Config
    from .parser import RequestHead
    from .state import ServerState

__all__ = ("ClientDisconnected", "WebSocketProtocol")

logger = logging.getLogger("covet.server.error")
access_logger = logging.getLogger("covet.server.access")

_MAX_QUEUED = 16


class ClientDisconnected(OSError):
    """``send`` was called on a WebSocket that is already closed."""


class WebSocketProtocol(asyncio.Protocol):
    """One WebSocket connection after the HTTP upgrade request was parsed."""

    def __init__(
        self,
        app: ASGIApp,
        config: Config,
        state: ServerState,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.app = app
        self.config = config
        self.state = state
        self.loop = loop
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.flow: FlowControl = None  # type: ignore[assignment]
        self.scope: dict[str, Any] = {}
        self.reader: FrameReader | None = None
        self.deflate: PerMessageDeflate | None = None
        self.key = b""
        self.connect_sent = False
        self.handshake_done = False
        self.response_sent = False
        self.close_sent = False
        self.close_received = False
        self.closed = False
        self.disconnect_code: int | None = None
        self._queue: deque[Message] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._pre_accept = bytearray()
        self._ping_timer: asyncio.TimerHandle | None = None
        self._pong_timer: asyncio.TimerHandle | None = None
        self._close_timer: asyncio.TimerHandle | None = None
        self._http_response: list[Any] | None = None
        self._disconnect_pushed = False

    # asyncio.Protocol -----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.flow = FlowControl(self.transport)
        self.state.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.state.connections.discard(self)
        self.flow.connection_lost()
        for timer in (self._ping_timer, self._pong_timer, self._close_timer):
            if timer is not None:
                timer.cancel()
        self._push_disconnect(self.disconnect_code or 1006)

    def pause_writing(self) -> None:
        self.flow.pause_writing()

    def resume_writing(self) -> None:
        self.flow.resume_writing()

    def data_received(self, data: bytes) -> None:
        if self.reader is None:
            self._pre_accept += data
            if len(self._pre_accept) > self.config.flow_control_high_water:
                self.flow.pause_reading()
            return
        if self.close_received:
            return
        try:
            events = self.reader.feed(data)
        except WebSocketProtocolError as exc:
            self._fail(exc.code, exc.reason)
            return
        for event in events:
            self._on_event(event)

    # handshake ------------------------------------------------------------------------------

    def start(
        self,
        head: RequestHead,
        server: tuple[str, int] | None,
        client: tuple[str, int] | None,
        scheme: str,
        tail: bytes,
    ) -> None:
        """Validate the upgrade request and run the application."""
        headers = head.headers
        key = version = protocols = extensions = None
        for name, value in headers:
            if name == b"sec-websocket-key":
                key = value
            elif name == b"sec-websocket-version":
                version = value
            elif name == b"sec-websocket-protocol":
                protocols = value if protocols is None else protocols + b"," + value
            elif name == b"sec-websocket-extensions":
                extensions = value if extensions is None else extensions + b"," + value
        if head.method != "GET" or key is None or not valid_key(key):
            self._reject_http(400, "Invalid WebSocket upgrade request")
            return
        if version != b"13":
            self.transport.write(
                b"HTTP/1.1 426 Upgrade Required\r\nsec-websocket-version: 13\r\n"
                b"content-length: 0\r\nconnection: close\r\n\r\n"
            )
            self.transport.close()
            self.closed = True
            return
        self.key = key
        if self.config.ws_per_message_deflate:
            self.deflate = negotiate_deflate(extensions, self.config.ws_compression_level)
        path, raw_path, query = split_target(head.target, self.config.root_path)
        subprotocols = (
            [p.strip() for p in protocols.decode("latin-1").split(",") if p.strip()]
            if protocols
            else []
        )
        self.scope = {
            "type": "websocket",
            "asgi": ASGI_VERSION,
            "http_version": head.http_version,
            "scheme": "wss" if scheme == "https" else "ws",
            "server": server,
            "client": client,
            "root_path": self.config.root_path,
            "path": path,
            "raw_path": raw_path,
            "query_string": query,
            "headers": headers,
            "subprotocols": subprotocols,
            "state": self.state.app_state.copy(),
            "extensions": {"websocket.http.response": {}},
        }
        if tail:
            self._pre_accept += tail
        task = self.loop.create_task(self.run_asgi())
        self.state.tasks.add(task)
        task.add_done_callback(self.state.tasks.discard)

    def _reject_http(self, status: int, detail: str) -> None:
        if not self.closed:
            self.transport.write(error_response(status, detail, self.state))
            self.transport.close()
            self.closed = True

    def _accept(self, message: Message) -> None:
        parts = [
            b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n",
            b"sec-websocket-accept: " + accept_key(self.key) + b"\r\n",
        ]
        subprotocol = message.get("subprotocol")
        if subprotocol:
            parts.append(b"sec-websocket-protocol: " + subprotocol.encode("latin-1") + b"\r\n")
        if self.deflate is not None:
            parts.append(b"sec-websocket-extensions: " + self.deflate.response_header() + b"\r\n")
        for name, value in message.get("headers", ()):
            lname = name.lower()
            if lname in (
                b"sec-websocket-protocol",
                b"sec-websocket-extensions",
                b"connection",
                b"upgrade",
            ):
                continue
            parts.append(name + b": " + value + b"\r\n")
        parts += (self.state.date_header, self.state.server_header, b"\r\n")
        self.transport.write(b"".join(parts))
        self.handshake_done = True
        self.response_sent = True
        self._log(101)
        self.reader = FrameReader(
            max_message_size=self.config.ws_max_message_size,
            max_frame_size=self.config.ws_max_frame_size,
            deflate=self.deflate,
        )
        self._schedule_ping()
        if self._pre_accept:
            data = bytes(self._pre_accept)
            self._pre_accept.clear()
            self.flow.resume_reading()
            self.data_received(data)

    def _log(self, status: int) -> None:
        if self.config.access_log and access_logger.isEnabledFor(logging.INFO):
            client = self.scope.get("client")
            access_logger.info(
                '%s - "WebSocket %s" %d',
                f"{client[0]}:{client[1]}" if client else "-",
                self.scope.get("path", ""),
                status,
            )

    # frames ---------------------------------------------------------------------------------

    def _on_event(self, event: tuple[Any, ...]) -> None:
        kind = event[0]
        if kind == "text":
            self._push({"type": "websocket.receive", "text": event[1]})
        elif kind == "bytes":
            self._push({"type": "websocket.receive", "bytes": event[1]})
        elif kind == "ping":
            if not self.close_sent:
                self.transport.write(encode_frame(PONG, event[1]))
        elif kind == "pong":
            if self._pong_timer is not None:
                self._pong_timer.cancel()
                self._pong_timer = None
        else:
            self.close_received = True
            code, reason = event[1], event[2]
            if not self.close_sent:
                self.close_sent = True
                self.transport.write(encode_close(code, reason if code else ""))
            self.disconnect_code = code or 1005
            self._push_disconnect(self.disconnect_code, reason)
            self._close_transport()

    def _fail(self, code: int, reason: str) -> None:
        logger.debug("WebSocket protocol error from %s: %s", self.scope.get("client"), reason)
        if not self.close_sent:
            self.close_sent = True
            self.transport.write(encode_close(code, reason))
        self.disconnect_code = code
        self._push_disconnect(code, reason)
        self._close_transport()

    def _close_transport(self) -> None:
        if not self.closed:
            self.closed = True
            self.transport.close()

    def _push(self, message: Message) -> None:
        self._queue.append(message)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        if len(self._queue) > _MAX_QUEUED:
            self.flow.pause_reading()

    def _push_disconnect(self, code: int, reason: str = "") -> None:
        if self._disconnect_pushed:
            return
        self._disconnect_pushed = True
        self._push({"type": "websocket.disconnect", "code": code, "reason": reason})

    def _schedule_ping(self) -> None:
        interval = self.config.ws_ping_interval
        if interval:
            self._ping_timer = self.loop.call_later(interval, self._send_ping)

    def _send_ping(self) -> None:
        self._ping_timer = None
        if self.closed or self.close_sent:
            return
        self.transport.write(encode_frame(PING, b"covet"))
        timeout = self.config.ws_ping_timeout
        if timeout and self._pong_timer is None:
            self._pong_timer = self.loop.call_later(timeout, self._on_pong_timeout)
        self._schedule_ping()

    def _on_pong_timeout(self) -> None:
        self._pong_timer = None
        if not self.closed:
            self._fail(1011, "keepalive ping timeout")

    def shutdown(self) -> None:
        """Server shutdown: close with 1012 (service restart)."""
        if self.closed:
            return
        if not self.handshake_done:
            self._reject_http(503, "Server shutting down")
            return
        if not self.close_sent:
            self.close_sent = True
            self.transport.write(encode_close(1012, "Server shutting down"))
        self._push_disconnect(1012)
        self._close_timer = self.loop.call_later(
            self.config.timeout_websocket_close, self._close_transport
        )

    # ASGI -----------------------------------------------------------------------------------

    async def run_asgi(self) -> None:
        try:
            result: Any = await self.app(self.scope, self.receive, self.send)  # type: ignore[func-returns-value]
        except ClientDisconnected:
            self._close_transport()
            return
        except asyncio.CancelledError:
            self._close_transport()
            raise
        except BaseException:
            logger.exception("Exception in ASGI application")
            if not self.response_sent:
                self._reject_http(500, "Internal Server Error")
            elif not self.close_sent:
                self._fail(1011, "Internal error")
            return
        if result is not None:
            logger.error("ASGI callable returned a value instead of None: %r", result)
        if not self.response_sent:
            self._log(403)
            self._reject_http(403, "WebSocket connection refused")
        elif not self.close_sent and not self.closed:
            self.close_sent = True
            self.transport.write(encode_close(1000))
            self._close_transport()

    async def receive(self) -> Message:
        if not self.connect_sent:
            self.connect_sent = True
            return {"type": "websocket.connect"}
        queue = self._queue
        while not queue:
            if self.closed and self.disconnect_code is not None:
                return {"type": "websocket.disconnect", "code": self.disconnect_code, "reason": ""}
            self._waiter = self.loop.create_future()
            await self._waiter
        message = queue.popleft()
        if len(queue) <= _MAX_QUEUED // 2:
            self.flow.resume_reading()
        if message["type"] == "websocket.disconnect":
            self.disconnect_code = message["code"]
            queue.appendleft(message)  # later calls see the disconnect again
        return message

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "websocket.send":
            if not self.handshake_done:
                raise RuntimeError("'websocket.send' before 'websocket.accept'")
            if self.close_sent or self.closed:
                raise ClientDisconnected("WebSocket is closed")
            text = message.get("text")
            if text is not None:
                data, opcode = text.encode("utf-8"), TEXT
            else:
                data, opcode = message.get("bytes") or b"", BINARY
            deflate = self.deflate
            if deflate is not None and len(data) >= self.config.ws_compression_threshold:
                self.transport.write(encode_frame(opcode, deflate.compress(data), rsv1=True))
            else:
                self.transport.write(encode_frame(opcode, data))
            if self.flow.write_paused:
                await self.flow.drain()
        elif kind == "websocket.accept":
            if self.response_sent:
                raise RuntimeError("'websocket.accept' after the handshake response")
            if not self.closed:
                self._accept(message)
        elif kind == "websocket.close":
            if not self.response_sent:
                self.response_sent = True
                self._log(403)
                self._reject_http(403, "WebSocket connection refused")
                return
            if self.close_sent or self.closed:
                return
            self.close_sent = True
            code = message.get("code") or 1000
            self.transport.write(encode_close(code, message.get("reason") or ""))
            self._push_disconnect(code)
            self._close_timer = self.loop.call_later(
                self.config.timeout_websocket_close, self._close_transport
            )
        elif kind == "websocket.http.response.start":
            if self.response_sent:
                raise RuntimeError("HTTP denial response after the handshake")
            self.response_sent = True
            self._http_response = [message["status"], list(message.get("headers", ())), []]
        elif kind == "websocket.http.response.body":
            if self._http_response is None:
                raise RuntimeError("'websocket.http.response.body' before its start message")
            self._http_response[2].append(message.get("body", b""))
            if not message.get("more_body", False):
                self._write_denial()
        else:
            raise RuntimeError(f"Unexpected ASGI message type {kind!r} for a WebSocket")

    def _write_denial(self) -> None:
        assert self._http_response is not None
        status, headers, chunks = self._http_response
        body = b"".join(chunks)
        parts = [STATUS_LINES.get(status) or status_line(status)]
        for name, value in headers:
            if name.lower() not in (b"content-length", b"connection", b"transfer-encoding"):
                parts.append(name + b": " + value + b"\r\n")
        parts += (
            b"content-length: %d\r\nconnection: close\r\n" % len(body),
            self.state.date_header,
            self.state.server_header,
            b"\r\n",
            body,
        )
        self._log(status)
        if not self.closed:
            self.transport.write(b"".join(parts))
            self._close_transport()
