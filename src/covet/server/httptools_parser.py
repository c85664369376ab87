"""The httptools (llhttp) request parser behind the same interface as :mod:`.parser`.

llhttp already refuses most smuggling vectors; this adapter adds the checks it leaves
out so both parsers answer every malformed request the same way: HTTP version, ``Host``,
``Transfer-Encoding`` other than ``chunked``, ``Expect``, method set, size limits, and
the same framing analysis (:func:`covet.server.parser.analyse_headers`).
"""

from __future__ import annotations

from typing import Any

from .parser import ParseError, ParserHandler, RequestHead, analyse_headers

__all__ = ("HttpToolsRequestParser",)

_VERSION_ERROR = "HTTP version"


class HttpToolsRequestParser:
    """Strict HTTP/1.1 request parser on llhttp; see :class:`.parser.RequestParser`."""

    __slots__ = (
        "_body_total",
        "_closed",
        "_error",
        "_field_bytes",
        "_handler",
        "_head",
        "_head_bytes",
        "_headers",
        "_httptools",
        "_in_head",
        "_max_body_size",
        "_max_header_size",
        "_max_headers",
        "_max_request_line",
        "_parser",
        "_started_this_feed",
        "_url",
    )

    def __init__(
        self,
        handler: ParserHandler,
        *,
        max_request_line: int = 8190,
        max_header_size: int = 16384,
        max_headers: int = 100,
        max_body_size: int | None = None,
    ) -> None:
        import httptools

        self._httptools = httptools
        self._handler = handler
        self._max_request_line = max_request_line
        self._max_header_size = max_header_size
        self._max_headers = max_headers
        self._max_body_size = max_body_size
        self._parser: Any = httptools.HttpRequestParser(self)
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._head: RequestHead | None = None
        self._head_bytes = 0
        self._field_bytes = 0
        self._body_total = 0
        self._in_head = False
        self._started_this_feed = False
        self._error: ParseError | None = None
        self._closed = False

    @property
    def in_head(self) -> bool:
        """True while part of a request head has been fed (the header timeout runs)."""
        return self._in_head

    def feed(self, data: bytes) -> bytes | None:
        """Consume ``data``; raise :class:`ParseError` on a malformed request."""
        if self._closed:
            return None  # data after a request that closes the connection is dropped
        httptools = self._httptools
        self._started_this_feed = False
        while True:
            try:
                self._parser.feed_data(data)
            except httptools.HttpParserUpgrade as exc:
                offset = exc.args[0]
                head = self._head
                self._head = None
                if head is not None and head.upgrade == b"websocket":
                    return data[offset:]
                # Another protocol (h2c, ...): ignored; continue with HTTP/1.1.
                data = data[offset:]
                if not data:
                    return None
                continue
            except httptools.HttpParserCallbackError:
                error = self._error
                if error is not None:
                    raise error from None
                raise
            except httptools.HttpParserInvalidMethodError:
                raise ParseError(501, "Method not implemented") from None
            except httptools.HttpParserInvalidURLError:
                raise ParseError(400, "Invalid request target") from None
            except httptools.HttpParserError as exc:
                if self._closed:
                    return None
                if self._error is not None:
                    raise self._error from None
                message = str(exc)
                if _VERSION_ERROR in message:
                    raise ParseError(505, "HTTP version not supported") from None
                raise ParseError(400, message or "Malformed request") from None
            break
        if self._in_head:
            self._check_partial_head(data)
        return None

    def _check_partial_head(self, data: bytes) -> None:
        if self._started_this_feed:
            end = data.rfind(b"\r\n\r\n")
            self._head_bytes = len(data) - (end + 4) if end >= 0 else 0
        else:
            self._head_bytes += len(data)
        if self._head_bytes > self._max_request_line + self._max_header_size:
            raise ParseError(431, "Request header fields too large")

    def _fail(self, status: int, detail: str) -> None:
        self._error = ParseError(status, detail)
        raise self._error

    # httptools callbacks -------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._in_head = True
        self._started_this_feed = True
        self._head_bytes = 0
        self._field_bytes = 0
        self._url = b""
        self._headers = []
        self._body_total = 0

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > self._max_request_line:
            self._fail(414, "Request line too long")

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._in_head:
            return  # a trailer field: validated by llhttp, then dropped
        headers = self._headers
        headers.append((name.lower(), value.strip(b" \t")))
        self._field_bytes += len(name) + len(value) + 4
        if len(headers) > self._max_headers:
            self._fail(431, "Too many header fields")
        if self._field_bytes > self._max_header_size:
            self._fail(431, "Request header fields too large")

    def on_headers_complete(self) -> None:
        self._in_head = False
        parser = self._parser
        version = parser.get_http_version()
        if version not in ("1.1", "1.0"):
            self._fail(505, "HTTP version not supported")
        try:
            head = analyse_headers(
                parser.get_method().decode("ascii"),
                self._url,
                version,
                self._headers,
                self._max_body_size,
            )
        except ParseError as exc:
            self._error = exc
            raise
        self._head = head
        self._handler.on_request(head)

    def on_body(self, body: bytes) -> None:
        if self._max_body_size is not None:
            self._body_total += len(body)
            if self._body_total > self._max_body_size:
                self._fail(413, "Request body too large")
        self._handler.on_body(body)

    def on_message_complete(self) -> None:
        head = self._head
        if head is not None and head.upgrade == b"websocket":
            return  # handed over with the upgrade, like the pure parser
        self._head = None
        if head is not None and not head.keep_alive:
            self._closed = True
        self._handler.on_message_complete()
