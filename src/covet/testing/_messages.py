"""Building test requests: URLs, query strings, bodies (JSON, form, multipart), cookies."""

from __future__ import annotations

import http.cookies
import mimetypes
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from covet import _json

__all__ = ("CookieJar", "encode_body", "merge_query", "split_url")

QueryValue = str | int | float | bool | None
FileSpec = bytes | str | tuple[str, Any] | tuple[str, Any, str]


def split_url(base_url: str, url: str) -> tuple[str, str, int, str, bytes]:
    """(scheme, host, port, path, raw query) of ``url`` resolved against ``base_url``."""
    full = urljoin(base_url.rstrip("/") + "/", url.lstrip("/")) if not urlsplit(url).scheme else url
    parts = urlsplit(full)
    scheme = parts.scheme or "http"
    port = parts.port or (443 if scheme in ("https", "wss") else 80)
    return scheme, parts.hostname or "testserver", port, parts.path or "/", parts.query.encode("latin-1")


def merge_query(query: bytes, params: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> bytes:
    if not params:
        return query
    items = params.items() if isinstance(params, Mapping) else params
    pairs: list[tuple[str, str]] = []
    for key, value in items:
        values = value if isinstance(value, (list, tuple)) else [value]
        pairs.extend((key, _query_str(v)) for v in values)
    extra = urlencode(pairs).encode("latin-1")
    return query + b"&" + extra if query else extra


def _query_str(value: QueryValue) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


def encode_body(
    *,
    content: bytes | str | None,
    json: Any,
    data: Mapping[str, Any] | None,
    files: Mapping[str, FileSpec] | Iterable[tuple[str, FileSpec]] | None,
) -> tuple[bytes, str | None]:
    """The request body and its content type."""
    if content is not None:
        return (content.encode() if isinstance(content, str) else content), None
    if json is not None:
        return _json.dumps(json), "application/json"
    if files:
        return _multipart(data or {}, files)
    if data is not None:
        pairs: list[tuple[str, str]] = []
        for key, value in data.items():
            values = value if isinstance(value, (list, tuple)) else [value]
            pairs.extend((key, str(v)) for v in values)
        return urlencode(pairs).encode(), "application/x-www-form-urlencoded"
    return b"", None


def _multipart(
    data: Mapping[str, Any], files: Mapping[str, FileSpec] | Iterable[tuple[str, FileSpec]]
) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = bytearray()
    for key, value in data.items():
        for v in value if isinstance(value, (list, tuple)) else [value]:
            out += f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'.encode()
            out += str(v).encode() + b"\r\n"
    # a mapping, or (field, file) pairs to send several files under one field
    for key, spec in files.items() if isinstance(files, Mapping) else files:
        if isinstance(spec, tuple):
            filename, payload = spec[0], spec[1]
            ctype = spec[2] if len(spec) > 2 else None
        else:
            filename, payload, ctype = key, spec, None
        if hasattr(payload, "read"):
            payload = payload.read()
        if isinstance(payload, str):
            payload = payload.encode()
        ctype = ctype or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"; filename="{filename}"\r\n'
            f"Content-Type: {ctype}\r\n\r\n"
        ).encode()
        out += payload + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


class CookieJar:
    """Cookies set by responses, sent back on later requests (path-aware, expiry-aware)."""

    def __init__(self) -> None:
        self._cookies: dict[str, tuple[str, str, float | None]] = {}

    def __getitem__(self, name: str) -> str:
        return self._cookies[name][0]

    def __contains__(self, name: object) -> bool:
        return name in self._cookies

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._cookies))

    def __len__(self) -> int:
        return len(self._cookies)

    def keys(self) -> list[str]:
        return list(self._cookies)

    def get(self, name: str, default: str | None = None) -> str | None:
        entry = self._cookies.get(name)
        return entry[0] if entry else default

    def set(self, name: str, value: str, path: str = "/") -> None:
        self._cookies[name] = (value, path, None)

    def delete(self, name: str) -> None:
        self._cookies.pop(name, None)

    def clear(self) -> None:
        self._cookies.clear()

    def items(self) -> list[tuple[str, str]]:
        return [(k, v[0]) for k, v in self._cookies.items()]

    def update_from(self, set_cookie_headers: Iterable[str]) -> None:
        now = time.time()
        for header in set_cookie_headers:
            parsed: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
            try:
                parsed.load(header)
            except http.cookies.CookieError:
                continue
            for name, morsel in parsed.items():
                expires: float | None = None
                if morsel["max-age"]:
                    try:
                        expires = now + int(morsel["max-age"])
                    except ValueError:
                        expires = None
                elif morsel["expires"]:
                    try:
                        expires = time.mktime(time.strptime(morsel["expires"], "%a, %d %b %Y %H:%M:%S GMT")) - time.timezone
                    except ValueError:
                        expires = None
                if expires is not None and expires <= now:
                    self._cookies.pop(name, None)
                else:
                    self._cookies[name] = (morsel.value, morsel["path"] or "/", expires)

    def header_for(self, path: str) -> str:
        now = time.time()
        pairs = []
        for name, (value, cpath, expires) in list(self._cookies.items()):
            if expires is not None and expires <= now:
                del self._cookies[name]
                continue
            if path == cpath or path.startswith(cpath.rstrip("/") + "/") or cpath == "/":
                pairs.append(f"{name}={value}")
        return "; ".join(pairs)
