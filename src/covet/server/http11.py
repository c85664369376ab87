"""HTTP/1.1 connection protocol: a thin asyncio shell around the sans-IO parser.

:class:`HTTPProtocol` owns one connection (parser, timers, pipelining, upgrade);
:class:`RequestResponseCycle` runs the ASGI app for one request (receive/send, framing,
``100 Continue``, HEAD, back-pressure). Responses are written with a single
``transport.write`` of one ``bytes.join`` where possible.
"""

from __future__ import annotations

import asyncio
import http
import logging
import re
from collections import deque
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from .flow_control import FlowControl
from .parser import ParseError, RequestHead

if TYPE_CHECKING:
    from covet._types import ASGIApp, Message

    from .config import Config
    from .state import ServerState

__all__ = ("HTTPProtocol", "RequestResponseCycle")

logger = logging.getLogger("covet.server.error")
access_logger = logging.getLogger("covet.server.access")

ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}
_HEADER_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_HEADER_VALUE_BAD = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_LAST_CHUNK = b"0\r\n\r\n"


def _status_line(status: int) -> bytes:
    try:
        phrase = http.HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        phrase = b""
    return b"HTTP/1.1 %d %s\r\n" % (status, phrase)


STATUS_LINES: dict[int, bytes] = {int(s): _status_line(int(s)) for s in http.HTTPStatus}


def error_response(status: int, detail: str, state: ServerState) -> bytes:
    """A complete ``text/plain`` response that also closes the connection."""
    body = detail.encode("utf-8", "replace")
    return b"".join(
        (
            STATUS_LINES.get(status) or _status_line(status),
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n",
            state.date_header,
            state.server_header,
            b"\r\n",
            body,
        )
    )


def split_target(target: bytes, root_path: str) -> tuple[str, bytes, bytes]:
    """Return ``(path, raw_path, query_string)`` for a request target."""
    if target[:1] != b"/" and b"://" in target:  # absolute-form
        rest = target.split(b"://", 1)[1]
        slash = rest.find(b"/")
        target = rest[slash:] if slash >= 0 else b"/"
    raw_path, _, query = target.partition(b"?")
    if b"#" in query:
        query = query.split(b"#", 1)[0]
    path = unquote(raw_path.decode("ascii")) if b"%" in raw_path else raw_path.decode("ascii")
    if root_path:
        return root_path + path, raw_path, query
    return path, raw_path, query


class HTTPProtocol(asyncio.Protocol):
    """One HTTP/1.1 connection."""

    def __init__(
        self,
        app: ASGIApp,
        config: Config,
        state: ServerState,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.app = app
        self.config = config
        self.state = state
        self.loop = loop or asyncio.get_event_loop()
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.flow: FlowControl = None  # type: ignore[assignment]
        self.server: tuple[str, int] | None = None
        self.client: tuple[str, int] | None = None
        self.scheme = "https" if config.is_ssl else "http"
        if config.use_httptools():
            from .httptools_parser import HttpToolsRequestParser as parser_cls
        else:
            from .parser import RequestParser as parser_cls
        self.parser = parser_cls(
            self,
            max_request_line=config.max_request_line,
            max_header_size=config.max_header_size,
            max_headers=config.max_headers,
            max_body_size=config.max_body_size,
        )
        self.cycle: RequestResponseCycle | None = None
        self.parsing: RequestResponseCycle | None = None
        self.pipeline: deque[RequestResponseCycle] = deque()
        self.pending_error: ParseError | None = None
        self.pending_upgrade: tuple[RequestHead, bytes] | None = None
        self.upgrade_head: RequestHead | None = None
        self.closed = False
        self._timer: asyncio.TimerHandle | None = None
        self._keep_alive_timer = False
        self.access_log = config.access_log and access_logger.isEnabledFor(logging.INFO)

    # asyncio.Protocol -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.flow = FlowControl(self.transport)
        self.state.connections.add(self)
        self.server = _address(transport.get_extra_info("sockname"))
        self.client = _address(transport.get_extra_info("peername"))
        self._arm_keep_alive()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.state.connections.discard(self)
        self._cancel_timer()
        if self.flow is not None:
            self.flow.connection_lost()
        for cycle in (self.cycle, self.parsing, *self.pipeline):
            if cycle is not None:
                cycle.disconnect()
        self.pipeline.clear()

    def eof_received(self) -> bool | None:
        return None

    def pause_writing(self) -> None:
        self.flow.pause_writing()

    def resume_writing(self) -> None:
        self.flow.resume_writing()

    def data_received(self, data: bytes) -> None:
        if self._keep_alive_timer:
            self._cancel_timer()
        try:
            tail = self.parser.feed(data)
        except ParseError as exc:
            self._on_parse_error(exc)
            return
        if tail is not None:
            self._on_upgrade(tail)
            return
        if self._timer is None and self.parser.in_head and not self.closed:
            self._timer = self.loop.call_later(self.config.timeout_header, self._on_header_timeout)
            self._keep_alive_timer = False

    # parser callbacks ------------------------------------------------------------------

    def on_request(self, head: RequestHead) -> None:
        if self._timer is not None:
            self._cancel_timer()
        if head.upgrade == b"websocket":
            self.upgrade_head = head
            return
        path, raw_path, query = split_target(head.target, self.config.root_path)
        scope = {
            "type": "http",
            "asgi": ASGI_VERSION,
            "http_version": head.http_version,
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,
            "method": head.method,
            "root_path": self.config.root_path,
            "path": path,
            "raw_path": raw_path,
            "query_string": query,
            "headers": head.headers,
            "state": self.state.app_state.copy(),
        }
        cycle = RequestResponseCycle(scope, head, self)
        self.parsing = cycle
        self.state.total_requests += 1
        if self.cycle is None:
            self._start(cycle)
        else:
            self.pipeline.append(cycle)
            if len(self.pipeline) >= self.config.max_pipelined_requests:
                self.flow.pause_reading()

    def on_body(self, data: bytes) -> None:
        cycle = self.parsing
        if cycle is not None:
            cycle.feed_body(data)

    def on_message_complete(self) -> None:
        cycle = self.parsing
        if cycle is not None:
            self.parsing = None
            cycle.body_complete()

    # request scheduling -----------------------------------------------------------------

    def _start(self, cycle: RequestResponseCycle) -> None:
        self.cycle = cycle
        task = self.loop.create_task(cycle.run_asgi(self.app))
        tasks = self.state.tasks
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def on_response_complete(self, keep_alive: bool) -> None:
        """Called by the cycle once its response is fully written."""
        self.cycle = None
        if self.closed:
            return
        if not keep_alive or self.state.shutting_down and not self.pipeline:
            self.transport.close()
            self.closed = True
            return
        if self.pipeline:
            self._start(self.pipeline.popleft())
            if len(self.pipeline) < self.config.max_pipelined_requests:
                self.flow.resume_reading()
            return
        if self.pending_upgrade is not None:
            head, tail = self.pending_upgrade
            self.pending_upgrade = None
            self._switch_to_websocket(head, tail)
            return
        if self.pending_error is not None:
            self._write_error(self.pending_error)
            return
        self.flow.resume_reading()
        if not self.parser.in_head:
            self._arm_keep_alive()

    def shutdown(self) -> None:
        """Graceful shutdown: close when idle, else after the in-flight response."""
        if self.closed:
            return
        self.pipeline.clear()
        if self.cycle is None:
            self.transport.close()
            self.closed = True
        else:
            self.cycle.keep_alive = False

    # errors, timers, upgrade ------------------------------------------------------------

    def _on_parse_error(self, exc: ParseError) -> None:
        self._cancel_timer()
        self.flow.pause_reading()
        if self.cycle is None:
            self._write_error(exc)
        else:
            # Answer after the in-flight responses, never in the middle of one.
            self.pending_error = exc
            self.parsing = None

    def _write_error(self, exc: ParseError) -> None:
        if self.closed:
            return
        logger.debug("Invalid HTTP request from %s: %s", self.client, exc.detail)
        self.transport.write(error_response(exc.status, exc.detail, self.state))
        self.transport.close()
        self.closed = True

    def _on_header_timeout(self) -> None:
        self._timer = None
        if self.closed:
            return
        if self.cycle is None:
            self._write_error(ParseError(408, "Request header timeout"))
        else:
            self.transport.close()
            self.closed = True

    def _on_keep_alive_timeout(self) -> None:
        self._timer = None
        if not self.closed and self.cycle is None and not self.pipeline:
            self.transport.close()
            self.closed = True

    def _arm_keep_alive(self) -> None:
        self._cancel_timer()
        self._timer = self.loop.call_later(self.config.timeout_keep_alive, self._on_keep_alive_timeout)
        self._keep_alive_timer = True

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._keep_alive_timer = False

    def _on_upgrade(self, tail: bytes) -> None:
        head = self.upgrade_head
        self.upgrade_head = None
        if head is None:
            return
        if self.cycle is not None:
            self.pending_upgrade = (head, tail)
            self.flow.pause_reading()
        else:
            self._switch_to_websocket(head, tail)

    def _switch_to_websocket(self, head: RequestHead, tail: bytes) -> None:
        from .websocket import WebSocketProtocol

        self._cancel_timer()
        self.state.connections.discard(self)
        self.flow.resume_reading()
        protocol = WebSocketProtocol(self.app, self.config, self.state, self.loop)
        self.transport.set_protocol(protocol)
        protocol.connection_made(self.transport)
        protocol.start(head, self.server, self.client, self.scheme, tail)


def _address(info: Any) -> tuple[str, int] | None:
    if isinstance(info, tuple) and len(info) >= 2:
        return str(info[0]), int(info[1])
    return None


class RequestResponseCycle:
    """One request: the ASGI ``receive``/``send`` pair and the response framing."""

    __slots__ = (
        "_body",
        "_body_event",
        "_buffered",
        "_chunked",
        "_expected_length",
        "_final_delivered",
        "_no_body",
        "_pending_headers",
        "_sent_length",
        "complete",
        "disconnected",
        "expect_continue",
        "head",
        "keep_alive",
        "protocol",
        "response_complete",
        "response_started",
        "scope",
        "status",
    )

    def __init__(self, scope: dict[str, Any], head: RequestHead, protocol: HTTPProtocol) -> None:
        self.scope = scope
        self.head = head
        self.protocol = protocol
        self.keep_alive = head.keep_alive
        self.expect_continue = head.expect_continue
        self.complete = not head.has_body
        self.disconnected = False
        self.response_started = False
        self.response_complete = False
        self.status = 0
        self._body: list[bytes] = []
        self._buffered = 0
        self._body_event: asyncio.Event | None = None
        self._final_delivered = False
        self._pending_headers: Any = None
        self._chunked = False
        self._no_body = False
        self._expected_length: int | None = None
        self._sent_length = 0

    # fed by the protocol ------------------------------------------------------------------

    def feed_body(self, data: bytes) -> None:
        self._body.append(data)
        self._buffered += len(data)
        event = self._body_event
        if event is not None:
            event.set()
        if self._buffered > self.protocol.config.flow_control_high_water:
            self.protocol.flow.pause_reading()

    def body_complete(self) -> None:
        self.complete = True
        event = self._body_event
        if event is not None:
            event.set()

    def disconnect(self) -> None:
        self.disconnected = True
        event = self._body_event
        if event is not None:
            event.set()

    # ASGI ---------------------------------------------------------------------------------

    async def run_asgi(self, app: ASGIApp) -> None:
        protocol = self.protocol
        try:
            result = await app(self.scope, self.receive, self.send)
        except asyncio.CancelledError:
            if not self.response_complete:
                protocol.transport.close()
            raise
        except BaseException:
            logger.exception("Exception in ASGI application")
            if not self.response_started:
                await self._send_500()
            elif not self.response_complete:
                protocol.transport.close()
            return
        if result is not None:
            logger.error("ASGI callable returned a value instead of None: %r", result)
        if not self.response_started:
            if not self.disconnected:
                logger.error("ASGI callable returned without starting a response")
                await self._send_500()
        elif not self.response_complete and not self.disconnected:
            logger.error("ASGI callable returned without completing the response")
            protocol.transport.close()

    async def _send_500(self) -> None:
        if self.disconnected:
            return
        body = b"Internal Server Error"
        await self.send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"connection", b"close"),
                ],
            }
        )
        await self.send({"type": "http.response.body", "body": body})

    async def receive(self) -> Message:
        if self.expect_continue and not self.response_started and not self.disconnected:
            self.expect_continue = False
            self.protocol.transport.write(_CONTINUE)
        if not self._final_delivered and not self.response_complete:
            while not self._body and not self.complete and not self.disconnected:
                await self._wait_for_body()
            if not self.disconnected:
                chunks = self._body
                if not chunks:
                    body = b""
                elif len(chunks) == 1:
                    body = chunks[0]
                else:
                    body = b"".join(chunks)
                if chunks:
                    self._body = []
                    self._buffered = 0
                    self.protocol.flow.resume_reading()
                more_body = not self.complete
                self._final_delivered = not more_body
                return {"type": "http.request", "body": body, "more_body": more_body}
        # The body was delivered: wait for the response to end or the peer to leave.
        event = self._event()
        while not self.disconnected and not self.response_complete:
            event.clear()
            await event.wait()
        return {"type": "http.disconnect"}

    def _event(self) -> asyncio.Event:
        if self._body_event is None:
            self._body_event = asyncio.Event()
        return self._body_event

    async def _wait_for_body(self) -> None:
        event = self._event()
        event.clear()
        protocol = self.protocol
        protocol.flow.resume_reading()
        try:
            await asyncio.wait_for(event.wait(), protocol.config.timeout_read)
        except asyncio.TimeoutError:
            logger.debug("Request body read timeout from %s", protocol.client)
            self.disconnect()
            if not protocol.closed:
                protocol.transport.close()
                protocol.closed = True

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.body":
            if not self.response_started:
                raise RuntimeError("'http.response.body' sent before 'http.response.start'")
            if self.response_complete:
                raise RuntimeError("'http.response.body' sent after the response was complete")
            await self._send_body(message.get("body", b""), message.get("more_body", False))
        elif kind == "http.response.start":
            if self.response_started:
                raise RuntimeError("'http.response.start' sent twice")
            self.response_started = True
            self.expect_continue = False
            self.status = message["status"]
            self._pending_headers = message.get("headers", ())
        else:
            raise RuntimeError(f"Unexpected ASGI message type {kind!r} for an HTTP request")

    async def _send_body(self, body: bytes, more_body: bool) -> None:
        protocol = self.protocol
        if self.disconnected:
            if not more_body:
                self.response_complete = True
            return
        write = protocol.transport.write
        if self._pending_headers is not None:
            head = self._build_head(body, more_body)
            self._pending_headers = None
            if self._no_body:
                write(head)
                body = b""
            elif self._chunked:
                write(b"".join((head, b"%x\r\n" % len(body), body, b"\r\n")) if body else head)
            else:
                write(head + body if body else head)
            self._sent_length += len(body)
        elif body and not self._no_body:
            self._sent_length += len(body)
            if self._chunked:
                write(b"".join((b"%x\r\n" % len(body), body, b"\r\n")))
            else:
                write(body)
        expected = self._expected_length
        if expected is not None and self._sent_length > expected:
            protocol.transport.close()
            raise RuntimeError("Response body longer than its Content-Length")
        if not more_body:
            if self._chunked:
                write(_LAST_CHUNK)
            if expected is not None and self._sent_length != expected and not self._no_body:
                self.keep_alive = False
                logger.error("Response body shorter than its Content-Length")
            self.response_complete = True
            event = self._body_event
            if event is not None:
                event.set()
            if protocol.access_log:
                self._log_access()
            protocol.on_response_complete(self.keep_alive and self.complete)
        elif protocol.flow.write_paused:
            await protocol.flow.drain()

    def _log_access(self) -> None:
        scope = self.scope
        client = self.protocol.client
        query = scope["query_string"]
        path = scope["raw_path"].decode("ascii") + ("?" + query.decode("ascii") if query else "")
        access_logger.info(
            '%s - "%s %s HTTP/%s" %d',
            f"{client[0]}:{client[1]}" if client else "-",
            scope["method"],
            path,
            scope["http_version"],
            self.status,
        )

    def _build_head(self, body: bytes, more_body: bool) -> bytes:
        status = self.status
        protocol = self.protocol
        state = protocol.state
        parts = [STATUS_LINES.get(status) or _status_line(status)]
        append = parts.append
        has_length = False
        add_date = True
        add_server = True
        for name, value in self._pending_headers:
            if _HEADER_NAME.fullmatch(name) is None or _HEADER_VALUE_BAD.search(value) is not None:
                raise RuntimeError(f"Invalid response header {name!r}: {value!r}")
            lname = name.lower()
            if lname == b"content-length":
                self._expected_length = int(value)
                has_length = True
            elif lname == b"connection":
                if b"close" in value.lower():
                    self.keep_alive = False
                continue
            elif lname == b"transfer-encoding":
                continue
            elif lname == b"date":
                add_date = False
            elif lname == b"server":
                add_server = False
            append(name + b": " + value + b"\r\n")
        is_head = self.scope["method"] == "HEAD"
        no_content = status in (204, 304) or status < 200
        self._no_body = is_head or no_content
        if not has_length and not no_content:
            if not more_body:
                if not is_head:
                    append(b"content-length: %d\r\n" % len(body))
                    self._expected_length = len(body)
            elif self.head.http_version == "1.1":
                self._chunked = not is_head
                append(b"transfer-encoding: chunked\r\n")
            else:
                self.keep_alive = False
        if self.keep_alive and not self.complete and self.head.expect_continue and self.expect_continue:
            self.keep_alive = False
        if protocol.state.shutting_down:
            self.keep_alive = False
        if not self.keep_alive:
            append(b"connection: close\r\n")
        elif self.head.http_version == "1.0":
            append(b"connection: keep-alive\r\n")
        if add_date:
            append(state.date_header)
        if add_server:
            append(state.server_header)
        append(b"\r\n")
        return b"".join(parts)
