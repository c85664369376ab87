"""Pieces shared by the HTTP and WebSocket protocols: status lines, error responses, targets."""

from __future__ import annotations

import http
import logging
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from .state import ServerState

__all__ = (
    "ASGI_VERSION",
    "HEADER_NAME",
    "HEADER_VALUE_BAD",
    "STATUS_LINES",
    "access_logger",
    "address",
    "error_response",
    "logger",
    "split_target",
    "status_line",
)

logger = logging.getLogger("covet.server.error")
access_logger = logging.getLogger("covet.server.access")

ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}
HEADER_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
HEADER_VALUE_BAD = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


def status_line(status: int) -> bytes:
    try:
        phrase = http.HTTPStatus(status).phrase.encode("ascii")
    except ValueError:
        phrase = b""
    return b"HTTP/1.1 %d %s\r\n" % (status, phrase)


STATUS_LINES: dict[int, bytes] = {int(s): status_line(int(s)) for s in http.HTTPStatus}


def error_response(status: int, detail: str, state: ServerState) -> bytes:
    """A complete ``text/plain`` response that also closes the connection."""
    body = detail.encode("utf-8", "replace")
    return b"".join(
        (
            STATUS_LINES.get(status) or status_line(status),
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


def address(info: Any) -> tuple[str, int] | None:
    if isinstance(info, tuple) and len(info) >= 2:
        return str(info[0]), int(info[1])
    return None
