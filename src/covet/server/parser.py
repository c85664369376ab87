"""Sans-IO HTTP/1.1 request parser, strict against request smuggling.

Bytes go in through :meth:`RequestParser.feed`; parsed requests come out through three
callbacks on a handler object (``on_request(head)``, ``on_body(data)``,
``on_message_complete()``). No sockets, no asyncio: tests feed bytes and look at the
callbacks. :mod:`covet.server.httptools_parser` offers the same interface and the same
strictness on top of llhttp.

Anything ambiguous is refused with :class:`ParseError` carrying the status to answer
(400, 413, 414, 431, 501, 505); the connection is then closed:

* conflicting or repeated ``Content-Length``, ``Content-Length`` with
  ``Transfer-Encoding``, a ``Transfer-Encoding`` other than ``chunked``;
* invalid chunk sizes (non-hex, signs, overflow), bad chunk framing, bare LF anywhere
  in the head, chunk lines or trailers;
* obs-fold (continuation lines), whitespace before the colon, invalid header names or
  values (control characters), oversized request lines and header sections;
* a missing or repeated ``Host`` in HTTP/1.1.
"""

from __future__ import annotations

import re
from typing import Protocol

__all__ = ("KNOWN_METHODS", "ParseError", "ParserHandler", "RequestHead", "RequestParser")

_TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_REQUEST_LINE = re.compile(rb"(" + _TOKEN + rb") +([\x21-\x7e]+) +HTTP/(\d)\.(\d)")

#: Methods both parsers accept (llhttp's HTTP set); anything else is answered 501.
KNOWN_METHODS = frozenset(
    [
        "GET",
        "HEAD",
        "POST",
        "PUT",
        "DELETE",
        "CONNECT",
        "OPTIONS",
        "TRACE",
        "PATCH",
        "COPY",
        "LOCK",
        "MKCOL",
        "MOVE",
        "PROPFIND",
        "PROPPATCH",
        "SEARCH",
        "UNLOCK",
        "BIND",
        "REBIND",
        "UNBIND",
        "ACL",
        "REPORT",
        "MKACTIVITY",
        "CHECKOUT",
        "MERGE",
        "M-SEARCH",
        "NOTIFY",
        "SUBSCRIBE",
        "UNSUBSCRIBE",
        "PURGE",
        "MKCALENDAR",
        "LINK",
        "UNLINK",
        "SOURCE",
        "QUERY",
    ]
)
_HEADER_NAME = re.compile(_TOKEN)
_HEADER_VALUE_BAD = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]{1,16})((?:[ \t]*;[^\x00-\x08\x0a-\x1f\x7f]*)?)")
_DIGITS = re.compile(rb"[0-9]{1,18}")

_FRAMING_FIELDS = frozenset(
    (b"content-length", b"transfer-encoding", b"host", b"connection", b"expect", b"upgrade")
)
_MAX_CHUNK_LINE = 4096
_MAX_LEADING_CRLF = 8

# Parser states.
_HEAD, _BODY_LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILERS, _UPGRADED, _CLOSED = range(8)


class ParseError(Exception):
    """The request is malformed; answer ``status`` and close the connection."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class RequestHead:
    """The parsed request line and header section handed to ``on_request``."""

    __slots__ = (
        "chunked",
        "content_length",
        "expect_continue",
        "headers",
        "http_version",
        "keep_alive",
        "method",
        "target",
        "upgrade",
    )

    def __init__(
        self,
        method: str,
        target: bytes,
        http_version: str,
        headers: list[tuple[bytes, bytes]],
        keep_alive: bool,
        content_length: int | None,
        chunked: bool,
        expect_continue: bool,
        upgrade: bytes | None,
    ) -> None:
        self.method = method
        self.target = target
        self.http_version = http_version
        self.headers = headers
        self.keep_alive = keep_alive
        self.content_length = content_length
        self.chunked = chunked
        self.expect_continue = expect_continue
        self.upgrade = upgrade

    @property
    def has_body(self) -> bool:
        return self.chunked or bool(self.content_length)

    def __repr__(self) -> str:
        return f"RequestHead({self.method} {self.target!r} HTTP/{self.http_version})"


class ParserHandler(Protocol):
    """What a parser calls back into (the connection protocol, or a test recorder)."""

    def on_request(self, head: RequestHead) -> None: ...

    def on_body(self, data: bytes) -> None: ...

    def on_message_complete(self) -> None: ...


def _tokens(value: bytes) -> list[bytes]:
    return [t.strip().lower() for t in value.split(b",") if t.strip()]


def analyse_headers(
    method: str,
    target: bytes,
    http_version: str,
    headers: list[tuple[bytes, bytes]],
    max_body_size: int | None,
) -> RequestHead:
    """Apply the framing rules shared by both parsers and build the :class:`RequestHead`.

    ``headers`` must already be validated (token names lower-cased, values without
    control characters, surrounding whitespace stripped).
    """
    content_length: int | None = None
    transfer_encoding: bytes | None = None
    connection: bytes | None = None
    upgrade: bytes | None = None
    expect = False
    hosts = 0
    for name, value in headers:
        if name not in _FRAMING_FIELDS:
            continue
        if name == b"content-length":
            if content_length is not None:
                raise ParseError(400, "Repeated Content-Length header")
            if _DIGITS.fullmatch(value) is None:
                raise ParseError(400, "Invalid Content-Length header")
            content_length = int(value)
        elif name == b"transfer-encoding":
            if transfer_encoding is not None:
                raise ParseError(400, "Repeated Transfer-Encoding header")
            transfer_encoding = value.lower()
        elif name == b"host":
            hosts += 1
        elif name == b"connection":
            connection = value if connection is None else connection + b"," + value
        elif name == b"expect":
            if value.lower() != b"100-continue":
                raise ParseError(417, "Unsupported Expect header")
            expect = True
        elif name == b"upgrade":
            upgrade = value
    if http_version == "1.1":
        if hosts != 1:
            raise ParseError(400, "Missing Host header" if hosts == 0 else "Repeated Host header")
    elif hosts > 1:
        raise ParseError(400, "Repeated Host header")

    chunked = False
    if transfer_encoding is not None:
        if content_length is not None:
            raise ParseError(400, "Content-Length with Transfer-Encoding")
        if http_version == "1.0":
            raise ParseError(400, "Transfer-Encoding in an HTTP/1.0 request")
        codings = _tokens(transfer_encoding)
        if codings == [b"chunked"]:
            chunked = True
        elif codings and codings[-1] == b"chunked":
            raise ParseError(501, "Unsupported transfer coding")
        else:
            raise ParseError(400, "Invalid Transfer-Encoding header")
    if max_body_size is not None and content_length is not None and content_length > max_body_size:
        raise ParseError(413, "Request body too large")

    conn_tokens = _tokens(connection) if connection is not None else ()
    if http_version == "1.1":
        keep_alive = b"close" not in conn_tokens
    else:
        keep_alive = b"keep-alive" in conn_tokens
    upgrade_token: bytes | None = None
    if upgrade is not None and b"upgrade" in conn_tokens and http_version == "1.1":
        upgrade_token = upgrade.strip().lower()
    return RequestHead(
        method,
        target,
        http_version,
        headers,
        keep_alive,
        content_length,
        chunked,
        expect and http_version == "1.1",
        upgrade_token,
    )


class RequestParser:
    """Pure-Python, incremental, strict HTTP/1.1 request parser.

    ``feed(data)`` calls the handler for every complete piece in ``data`` and keeps the
    rest buffered. When a request asks for ``Upgrade: websocket`` the parser stops after
    its head and ``feed`` returns the bytes that follow (possibly ``b""``); otherwise it
    returns ``None``.
    """

    __slots__ = (
        "_buffer",
        "_chunk_total",
        "_handler",
        "_keep_alive",
        "_max_body_size",
        "_max_header_size",
        "_max_headers",
        "_max_request_line",
        "_remaining",
        "_state",
        "_trailer_size",
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
        self._handler = handler
        self._max_request_line = max_request_line
        self._max_header_size = max_header_size
        self._max_headers = max_headers
        self._max_body_size = max_body_size
        self._buffer = b""
        self._state = _HEAD
        self._remaining = 0
        self._chunk_total = 0
        self._trailer_size = 0
        self._keep_alive = True

    @property
    def in_head(self) -> bool:
        """True while part of a request head is buffered (the header timeout runs)."""
        return self._state == _HEAD and bool(self._buffer)

    def feed(self, data: bytes) -> bytes | None:
        """Consume ``data``; raise :class:`ParseError` on a malformed request."""
        buf = self._buffer + data if self._buffer else data
        handler = self._handler
        while buf:
            state = self._state
            if state == _HEAD:
                if not self._keep_alive:
                    # Data after a request that closes the connection is never parsed.
                    self._state = _CLOSED
                    buf = b""
                    break
                end = buf.find(b"\r\n\r\n")
                if end == -1:
                    self._check_partial_head(buf)
                    break
                if end + 4 > self._max_header_size + self._max_request_line + 4:
                    raise ParseError(431, "Request header fields too large")
                head = self._parse_head(buf[:end])
                buf = buf[end + 4 :]
                self._keep_alive = head.keep_alive
                handler.on_request(head)
                if head.upgrade is not None and head.upgrade == b"websocket":
                    self._state = _UPGRADED
                    self._buffer = b""
                    return buf
                if head.chunked:
                    self._state = _CHUNK_SIZE
                    self._chunk_total = 0
                elif head.content_length:
                    self._state = _BODY_LENGTH
                    self._remaining = head.content_length
                else:
                    handler.on_message_complete()
            elif state == _BODY_LENGTH:
                remaining = self._remaining
                if len(buf) <= remaining:
                    self._remaining = remaining - len(buf)
                    handler.on_body(buf)
                    buf = b""
                    if self._remaining == 0:
                        self._state = _HEAD
                        handler.on_message_complete()
                else:
                    handler.on_body(buf[:remaining])
                    buf = buf[remaining:]
                    self._state = _HEAD
                    handler.on_message_complete()
            elif state == _CHUNK_SIZE:
                end = buf.find(b"\r\n")
                if end == -1:
                    if b"\n" in buf:
                        raise ParseError(400, "Bare LF in chunk size line")
                    if len(buf) > _MAX_CHUNK_LINE:
                        raise ParseError(400, "Chunk size line too long")
                    break
                match = _CHUNK_LINE.fullmatch(buf, 0, end)
                if match is None:
                    raise ParseError(400, "Invalid chunk size")
                size = int(match.group(1), 16)
                buf = buf[end + 2 :]
                if size == 0:
                    self._state = _TRAILERS
                    self._trailer_size = 0
                else:
                    self._chunk_total += size
                    if self._max_body_size is not None and self._chunk_total > self._max_body_size:
                        raise ParseError(413, "Request body too large")
                    self._state = _CHUNK_DATA
                    self._remaining = size
            elif state == _CHUNK_DATA:
                remaining = self._remaining
                if len(buf) <= remaining:
                    self._remaining = remaining - len(buf)
                    handler.on_body(buf)
                    buf = b""
                    if self._remaining == 0:
                        self._state = _CHUNK_END
                else:
                    handler.on_body(buf[:remaining])
                    buf = buf[remaining:]
                    self._state = _CHUNK_END
            elif state == _CHUNK_END:
                if len(buf) < 2:
                    if buf != b"\r":
                        raise ParseError(400, "Missing CRLF after chunk data")
                    break
                if buf[:2] != b"\r\n":
                    raise ParseError(400, "Missing CRLF after chunk data")
                buf = buf[2:]
                self._state = _CHUNK_SIZE
            elif state == _TRAILERS:
                end = buf.find(b"\r\n")
                if end == -1:
                    if b"\n" in buf:
                        raise ParseError(400, "Bare LF in trailer section")
                    if self._trailer_size + len(buf) > self._max_header_size:
                        raise ParseError(431, "Trailer section too large")
                    break
                line = buf[:end]
                buf = buf[end + 2 :]
                if not line:
                    self._state = _HEAD
                    handler.on_message_complete()
                    continue
                self._trailer_size += end + 2
                if self._trailer_size > self._max_header_size:
                    raise ParseError(431, "Trailer section too large")
                self._parse_field(line)
            elif state == _CLOSED:
                buf = b""
            else:  # _UPGRADED: the connection belongs to another protocol now
                self._buffer = b""
                return buf
        self._buffer = buf
        return None

    def _check_partial_head(self, buf: bytes) -> None:
        """Refuse an incomplete head early: bare LF, oversized line or section."""
        if buf[:2] == b"\r\n":
            stripped = buf.lstrip(b"\r\n")
            if len(buf) - len(stripped) > 2 * _MAX_LEADING_CRLF:
                raise ParseError(400, "Too many empty lines before the request line")
        line_end = buf.find(b"\r\n")
        if line_end == -1 or line_end == 0:
            probe = buf.lstrip(b"\r\n")
            if b"\n" in probe:
                raise ParseError(400, "Bare LF in request head")
            if len(probe) > self._max_request_line:
                raise ParseError(414, "Request line too long")
            return
        if buf.count(b"\n") != buf.count(b"\r\n"):
            raise ParseError(400, "Bare LF in request head")
        if line_end > self._max_request_line:
            raise ParseError(414, "Request line too long")
        if len(buf) - line_end > self._max_header_size:
            raise ParseError(431, "Request header fields too large")

    def _parse_head(self, block: bytes) -> RequestHead:
        leading = 0
        while block.startswith(b"\r\n", leading):
            leading += 2
            if leading > 2 * _MAX_LEADING_CRLF:
                raise ParseError(400, "Too many empty lines before the request line")
        lines = block[leading:].split(b"\r\n") if leading else block.split(b"\r\n")
        request_line = lines[0]
        if len(request_line) > self._max_request_line:
            raise ParseError(414, "Request line too long")
        match = _REQUEST_LINE.fullmatch(request_line)
        if match is None:
            raise ParseError(400, "Invalid request line")
        method, target, major, minor = match.groups()
        method_str = method.decode("ascii")
        if method_str not in KNOWN_METHODS:
            raise ParseError(501, "Method not implemented")
        if major != b"1" or minor not in (b"0", b"1"):
            raise ParseError(505, "HTTP version not supported")
        if len(lines) - 1 > self._max_headers:
            raise ParseError(431, "Too many header fields")
        if len(block) - len(request_line) > self._max_header_size:
            raise ParseError(431, "Request header fields too large")
        parse_field = self._parse_field
        headers = [parse_field(line) for line in lines[1:]]
        return analyse_headers(
            method_str,
            target,
            "1.1" if minor == b"1" else "1.0",
            headers,
            self._max_body_size,
        )

    @staticmethod
    def _parse_field(line: bytes) -> tuple[bytes, bytes]:
        if line[:1] in (b" ", b"\t"):
            raise ParseError(400, "Obsolete line folding in header")
        colon = line.find(b":")
        if colon <= 0:
            raise ParseError(400, "Invalid header line")
        name = line[:colon]
        if _HEADER_NAME.fullmatch(name) is None:
            raise ParseError(400, "Invalid header name")
        value = line[colon + 1 :]
        if _HEADER_VALUE_BAD.search(value) is not None:
            raise ParseError(400, "Invalid character in header value")
        return name.lower(), value.strip(b" \t")
