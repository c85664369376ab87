"""Request correlation ids and structured (JSON lines) access logging."""

from __future__ import annotations

import contextvars
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from covet import _json
from covet._types import ASGIApp, Message, Receive, Scope, Send
from covet.exceptions import ImproperlyConfigured
from covet.middleware._util import RawHeaders, get_header

__all__ = (
    "AccessLogMiddleware",
    "RequestIDLogFilter",
    "RequestIDMiddleware",
    "get_request_id",
)

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("covet_request_id", default=None)
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]+$")
_ID_CHARSET = re.compile(r"^[A-Za-z0-9._:+/=@-]+$")


def get_request_id() -> str | None:
    """The correlation id of the request being handled in this task, if any."""
    return _request_id.get()


class RequestIDLogFilter(logging.Filter):
    """A logging filter adding ``record.request_id`` (``"-"`` outside a request).

    Attach it to a handler to put the correlation id in every application log line:
    ``handler.addFilter(RequestIDLogFilter())`` and ``%(request_id)s`` in the format.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or "-"
        return True


_ID_BATCH = 128
_ids: list[str] = []  # ready ids, filled by one os.urandom call per batch
if hasattr(os, "register_at_fork"):  # a forked worker must never reuse its parent's ids
    os.register_at_fork(after_in_child=_ids.clear)


def _default_generator() -> str:
    """128 random bits from ``os.urandom`` as 32 hex digits (like ``uuid4().hex``).

    The bytes are drawn ``_ID_BATCH`` ids at a time: one system call per 128 requests
    instead of one per request.
    """
    ids = _ids
    if not ids:
        raw = os.urandom(16 * _ID_BATCH).hex()
        ids.extend([raw[i : i + 32] for i in range(0, len(raw), 32)])
    try:
        return ids.pop()
    except IndexError:  # another thread took the last one between the check and the pop
        return os.urandom(16).hex()


class RequestIDMiddleware:
    """Give each request a correlation id: ``scope["request_id"]`` and a response header.

    A well-formed incoming ``X-Request-ID`` (at most ``max_length`` characters of
    ``[A-Za-z0-9._:+/=@-]``) is kept when ``trust_incoming`` is true; anything else is
    replaced by a fresh id from ``generator`` (32 random hex digits). The id is also available to
    code running for the request through ``get_request_id()``, and the app's error
    bodies use it as ``trace_id``.
    """

    def __init__(
        self,
        app: ASGIApp,
        header_name: str = "X-Request-ID",
        trust_incoming: bool = True,
        max_length: int = 128,
        generator: Callable[[], str] = _default_generator,
    ) -> None:
        if not _HEADER_NAME.match(header_name):
            raise ImproperlyConfigured(f"invalid header name {header_name!r}")
        if not 1 <= max_length <= 1024:
            raise ImproperlyConfigured("max_length must be between 1 and 1024")
        if not callable(generator):
            raise ImproperlyConfigured("generator must be a callable returning a string")
        self.app = app
        self.header = header_name.lower().encode("latin-1")
        self.trust_incoming = trust_incoming
        self.max_length = max_length
        self.generator = generator

    def incoming_id(self, headers: Sequence[tuple[bytes, bytes]]) -> str | None:
        """The incoming id when it is acceptable, else ``None``."""
        if not self.trust_incoming:
            return None
        raw = get_header(headers, self.header)
        if raw is None or not 0 < len(raw) <= self.max_length:
            return None
        value = raw.decode("latin-1")
        return value if _ID_CHARSET.match(value) else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        if scope_type != "http" and scope_type != "websocket":
            await self.app(scope, receive, send)
            return
        header = self.header
        size = len(header)
        request_id = None
        if self.trust_incoming:
            for key, raw in scope["headers"]:  # get_header(), inlined: this runs per request
                if key == header or (len(key) == size and key.lower() == header):
                    if 0 < len(raw) <= self.max_length:
                        value = raw.decode("latin-1")
                        if _ID_CHARSET.match(value):
                            request_id = value
                    break
        if request_id is None:
            request_id = self.generator()
        scope["request_id"] = request_id
        token = _request_id.set(request_id)
        if scope_type != "http":
            try:
                await self.app(scope, receive, send)
            finally:
                _request_id.reset(token)
            return
        item = (header, request_id.encode("latin-1"))

        # A plain function returning send's awaitable: no coroutine frame of its own.
        def send_with_id(message: Message) -> Awaitable[None]:
            if message["type"] == "http.response.start":
                headers: RawHeaders = message.get("headers", ())
                message = dict(message)  # the app's message is never mutated
                for key, _ in headers:
                    if key == header or (len(key) == size and key.lower() == header):
                        message["headers"] = list(headers)  # the handler set its own id
                        break
                else:
                    message["headers"] = [*headers, item]
            return send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _request_id.reset(token)


class AccessLogMiddleware:
    """Log one JSON line per HTTP request through :mod:`logging`.

    Fields: ``method``, ``path``, ``status``, ``duration_ms``, ``bytes`` (response body),
    ``request_id`` (from ``RequestIDMiddleware`` or the incoming header), ``client``,
    ``user_agent`` and, when the app raised before answering, ``error``. The line is the
    log message; the same dict is attached to the record as ``record.access``. Requests
    whose path is in ``skip_paths`` (health checks) are not logged.
    """

    def __init__(
        self,
        app: ASGIApp,
        logger: logging.Logger | str = "covet.access",
        level: int = logging.INFO,
        skip_paths: Sequence[str] = (),
        request_id_header: str = "X-Request-ID",
    ) -> None:
        if isinstance(skip_paths, str):
            raise ImproperlyConfigured("skip_paths must be a list of paths, not a string")
        self.app = app
        self.logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        self.level = level
        self.skip_paths = frozenset(skip_paths)
        self.request_id_header = request_id_header.lower().encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.skip_paths or not self.logger.isEnabledFor(self.level):
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0
        sent = 0

        async def send_counting(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        error: str | None = None
        try:
            await self.app(scope, receive, send_counting)
        except BaseException as exc:
            error = type(exc).__name__
            if status == 0:
                status = 500
            raise
        finally:
            self._log(scope, status, sent, (time.perf_counter() - start) * 1000.0, error)

    def _log(self, scope: Scope, status: int, sent: int, duration_ms: float, error: str | None) -> None:
        headers = scope["headers"]
        request_id = scope.get("request_id")
        if request_id is None:
            raw_id = get_header(headers, self.request_id_header)
            request_id = raw_id.decode("latin-1")[:128] if raw_id else None
        client = scope.get("client")
        user_agent = get_header(headers, b"user-agent")
        entry: dict[str, Any] = {
            "event": "http_request",
            "method": scope["method"],
            "path": scope.get("root_path", "") + scope["path"],
            "status": status,
            "duration_ms": round(duration_ms, 3),
            "bytes": sent,
            "request_id": request_id,
            "client": f"{client[0]}:{client[1]}" if client else None,
            "user_agent": user_agent.decode("latin-1")[:512] if user_agent else None,
        }
        if error is not None:
            entry["error"] = error
        self.logger.log(self.level, _json.dumps(entry).decode("utf-8"), extra={"access": entry})
