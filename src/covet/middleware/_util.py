"""Small raw-ASGI helpers shared by the middleware in this package (private).

Middleware works on the raw ``list[tuple[bytes, bytes]]`` header lists of ASGI messages:
header names there are lower-case bytes, so a lookup is a short scan with no decoding.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Sequence
from typing import Any
from urllib.parse import quote

from covet import _json
from covet._types import Receive, Scope, Send

__all__ = (
    "READY",
    "RawHeaders",
    "add_vary",
    "get_header",
    "get_headers",
    "has_header",
    "json_error_response",
    "reject_websocket",
    "request_url",
    "send_json_error",
    "send_redirect",
    "split_tokens",
)

RawHeaders = list[tuple[bytes, bytes]]


class _Ready:
    """An awaitable that is already finished: ``await READY`` returns at once.

    What a plain-function ``send`` wrapper returns when it has nothing to send yet;
    cheaper than a coroutine. (ASGI only promises that ``send(...)`` is awaitable.)
    """

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # a generator that ends at once


READY = _Ready()
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"


def get_header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """First value of header ``name`` (lower-case bytes), or ``None``.

    Request header names are lower-case by the ASGI spec; response headers set by an app
    may not be, so a same-length name is compared case-insensitively too.
    """
    size = len(name)
    for key, value in headers:
        if key == name or (len(key) == size and key.lower() == name):
            return value
    return None


def get_headers(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    """Every value of header ``name`` (lower-case bytes), in order."""
    size = len(name)
    return [value for key, value in headers if key == name or (len(key) == size and key.lower() == name)]


def has_header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bool:
    """Whether header ``name`` (lower-case bytes) is present."""
    return get_header(headers, name) is not None


def split_tokens(value: bytes | str) -> list[str]:
    """Split a comma-separated header value into stripped, non-empty tokens."""
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    return [t.strip() for t in text.split(",") if t.strip()]


def add_vary(headers: RawHeaders, value: str) -> None:
    """Add ``value`` to the ``Vary`` header of a raw header list (no duplicates)."""
    for index, item in enumerate(headers):  # noqa: B007 - used after the break
        if len(item[0]) == 4 and item[0].lower() == b"vary":
            break
    else:
        headers.append((b"vary", value.encode("latin-1")))
        return
    key, existing = item
    slot = (existing, value)
    merged = _VARY_MERGED.get(slot, _UNKNOWN)
    if merged is _UNKNOWN:
        merged = _merge_vary(existing, value)
        if len(_VARY_MERGED) < 256:  # apps send a handful of distinct Vary values
            _VARY_MERGED[slot] = merged
    if merged is not None:
        headers[index] = (key, merged)


_VARY_MERGED: dict[tuple[bytes, str], bytes | None] = {}
_UNKNOWN: Any = object()


def _merge_vary(existing: bytes, value: str) -> bytes | None:
    """``existing`` with ``value`` appended, or None when it already covers it."""
    tokens = split_tokens(existing)
    if "*" in tokens or value.lower() in (t.lower() for t in tokens):
        return None
    return (existing.decode("latin-1") + ", " + value).encode("latin-1")


def json_error_response(
    status: int,
    detail: str,
    headers: Sequence[tuple[bytes, bytes]] = (),
    extra: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The start and body messages of a JSON error ``{"error": detail, ...}``."""
    payload: dict[str, Any] = {"error": detail}
    if extra:
        payload.update(extra)
    body = _json.dumps(payload)
    raw: RawHeaders = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
    ]
    raw.extend(headers)
    start = {"type": "http.response.start", "status": status, "headers": raw}
    return start, {"type": "http.response.body", "body": body, "more_body": False}


async def send_json_error(
    scope: Scope,
    send: Send,
    status: int,
    detail: str,
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """Answer an HTTP request with a JSON error (no body for ``HEAD``).

    The body carries ``trace_id`` when ``RequestIDMiddleware`` set ``scope["request_id"]``.
    """
    request_id = scope.get("request_id")
    extra = {"trace_id": request_id} if request_id else None
    start, body = json_error_response(status, detail, headers, extra)
    await send(start)
    if scope.get("method") == "HEAD":
        body["body"] = b""
    await send(body)


async def reject_websocket(receive: Receive, send: Send, code: int = 1008) -> None:
    """Refuse a WebSocket handshake (the server answers the upgrade with 403)."""
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.close", "code": code})


def request_url(scope: Scope, scheme: str, netloc: str) -> str:
    """The URL of this request rebuilt with ``scheme`` and ``netloc`` (path and query kept)."""
    root_path: str = scope.get("root_path", "")
    path: str = scope["path"]
    if root_path and not path.startswith(root_path):  # servers differ on whether path includes it
        path = root_path + path
    url = f"{scheme}://{netloc}{quote(path, safe=_PATH_SAFE)}"
    query: bytes = scope.get("query_string", b"")
    if query:
        url += "?" + quote(query.decode("latin-1"), safe=_PATH_SAFE + "?")
    return url


async def send_redirect(send: Send, url: str, status: int = 308) -> None:
    """Answer with a body-less redirect to ``url``."""
    headers = [(b"location", url.encode("latin-1")), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
