"""One HTTP request/response cycle: ASGI ``receive``/``send``, framing, back-pressure."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from ._common import (
    HEADER_NAME,
    HEADER_VALUE_BAD,
    STATUS_LINES,
    access_logger,
    logger,
    status_line,
)

if TYPE_CHECKING:
    from covet._types import ASGIApp, Message

    from .http11 import HTTPProtocol
    from .parser import RequestHead

__all__ = ("RequestResponseCycle",)

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_LAST_CHUNK = b"0\r\n\r\n"
_SPECIAL_FIELDS = frozenset(
    (b"content-length", b"connection", b"transfer-encoding", b"date", b"server")
)


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
            result: Any = await app(self.scope, self.receive, self.send)  # type: ignore[func-returns-value]
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
            if self._write_body(message.get("body", b""), message.get("more_body", False)):
                await self.protocol.flow.drain()
        elif kind == "http.response.start":
            if self.response_started:
                raise RuntimeError("'http.response.start' sent twice")
            headers = message.get("headers", ())
            for name, value in headers:
                if (
                    HEADER_NAME.fullmatch(name) is None
                    or HEADER_VALUE_BAD.search(value) is not None
                ):
                    raise RuntimeError(f"Invalid response header {name!r}: {value!r}")
            self.response_started = True
            self.expect_continue = False
            self.status = message["status"]
            self._pending_headers = headers
        else:
            raise RuntimeError(f"Unexpected ASGI message type {kind!r} for an HTTP request")

    def _write_body(self, body: bytes, more_body: bool) -> bool:
        """Write one body message; True when the caller must wait for the peer to drain."""
        protocol = self.protocol
        if self.disconnected:
            if not more_body:
                self.response_complete = True
            return False
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
            return False
        return protocol.flow.write_paused

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
        parts = [STATUS_LINES.get(status) or status_line(status)]
        append = parts.append
        has_length = False
        add_date = True
        add_server = True
        for name, value in self._pending_headers:
            lname = name.lower()
            if lname not in _SPECIAL_FIELDS:
                append(name + b": " + value + b"\r\n")
                continue
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
        if not self.complete and not more_body:
            # The request body was not read: the connection cannot be reused.
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
