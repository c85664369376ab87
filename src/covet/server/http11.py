"""HTTP/1.1 connection protocol: a thin asyncio shell around the sans-IO parser.

:class:`HTTPProtocol` owns one connection (parser, timers, pipelining, upgrade);
:class:`~covet.server.cycle.RequestResponseCycle` runs the ASGI app for one request.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING

from ._common import ASGI_VERSION, access_logger, address, error_response, logger, split_target
from .cycle import RequestResponseCycle
from .flow_control import FlowControl
from .parser import ParseError, RequestHead, RequestParser

if TYPE_CHECKING:
    from covet._types import ASGIApp

    from .config import Config
    from .httptools_parser import HttpToolsRequestParser
    from .state import ServerState

__all__ = ("HTTPProtocol",)


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
        parser_cls: type[RequestParser] | type[HttpToolsRequestParser]
        if config.use_httptools():
            from .httptools_parser import HttpToolsRequestParser

            parser_cls = HttpToolsRequestParser
        else:
            parser_cls = RequestParser
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
        self.peer_eof = False
        self._timer: asyncio.TimerHandle | None = None  # header timeout
        self._idle_handle: asyncio.TimerHandle | None = None  # keep-alive check
        self._idle_since: float | None = None
        self.access_log = config.access_log and access_logger.isEnabledFor(logging.INFO)

    # asyncio.Protocol -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.flow = FlowControl(self.transport)
        self.state.connections.add(self)
        self.server = address(transport.get_extra_info("sockname"))
        self.client = address(transport.get_extra_info("peername"))
        self._arm_keep_alive()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.state.connections.discard(self)
        self._cancel_timer()
        if self._idle_handle is not None:
            self._idle_handle.cancel()
            self._idle_handle = None
        if self.flow is not None:
            self.flow.connection_lost()
        for cycle in (self.cycle, self.parsing, *self.pipeline):
            if cycle is not None:
                cycle.disconnect()
        self.pipeline.clear()

    def eof_received(self) -> bool | None:
        # A client that half-closes after sending its request still gets the answer.
        if (self.cycle is not None or self.pipeline) and not self.config.is_ssl:
            self.peer_eof = True
            return True
        return None

    def pause_writing(self) -> None:
        self.flow.pause_writing()

    def resume_writing(self) -> None:
        self.flow.resume_writing()

    def data_received(self, data: bytes) -> None:
        self._idle_since = None
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

    # parser callbacks ------------------------------------------------------------------

    def on_request(self, head: RequestHead) -> None:
        if self._timer is not None:
            self._cancel_timer()
        if head.upgrade == b"websocket":
            self.upgrade_head = head
            return
        target = head.target
        root_path = self.config.root_path
        if root_path or b"%" in target or target[:1] != b"/":
            path, raw_path, query = split_target(target, root_path)
        else:  # the common case, without a function call
            raw_path, _, query = target.partition(b"?")
            if b"#" in query:
                query = query.split(b"#", 1)[0]
            path = raw_path.decode("ascii")
        scope = {
            "type": "http",
            "asgi": ASGI_VERSION,
            "http_version": head.http_version,
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,
            "method": head.method,
            "root_path": root_path,
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
        if not keep_alive or ((self.state.shutting_down or self.peer_eof) and not self.pipeline):
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
        cycle, broken = self.cycle, self.parsing
        self.parsing = None
        if broken is not None and broken is not cycle and broken in self.pipeline:
            self.pipeline.remove(broken)
        if cycle is None:
            self._write_error(exc)
        elif broken is cycle:
            # The request being answered has a broken body: it can never complete.
            if cycle.response_started:
                self._close()
            else:
                self._write_error(exc)
            cycle.disconnect()
        else:
            # Answer after the in-flight responses, never in the middle of one.
            self.pending_error = exc

    def _close(self) -> None:
        if not self.closed:
            self.closed = True
            self.transport.close()

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
            # A pipelined head is pending behind a response still being produced: the
            # client is not slow, the application is. Give it a fresh window.
            self._timer = self.loop.call_later(self.config.timeout_header, self._on_header_timeout)

    def _on_idle_check(self) -> None:
        # One long-lived timer per connection instead of one per request: it re-arms
        # itself until the connection has been idle for ``timeout_keep_alive``.
        self._idle_handle = None
        if self.closed:
            return
        timeout = self.config.timeout_keep_alive
        since = self._idle_since
        remaining = timeout if since is None else since + timeout - self.loop.time()
        if remaining > 0 or self.cycle is not None or self.pipeline or self.parser.in_head:
            self._idle_handle = self.loop.call_later(max(remaining, 0.05), self._on_idle_check)
            return
        self._close()

    def _arm_keep_alive(self) -> None:
        self._idle_since = self.loop.time()
        if self._idle_handle is None:
            self._idle_handle = self.loop.call_later(
                self.config.timeout_keep_alive, self._on_idle_check
            )

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

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
        if self._idle_handle is not None:
            self._idle_handle.cancel()
            self._idle_handle = None
        self.closed = True  # this protocol is done with the transport
        self.state.connections.discard(self)
        self.flow.resume_reading()
        protocol = WebSocketProtocol(self.app, self.config, self.state, self.loop)
        self.transport.set_protocol(protocol)
        protocol.connection_made(self.transport)
        protocol.start(head, self.server, self.client, self.scheme, tail)
