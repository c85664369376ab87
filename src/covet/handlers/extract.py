"""Per-request extraction: query strings, headers, cookies and the body, read straight from ASGI.

These helpers run on every request, so they avoid building framework objects: the
query string is split by hand when it holds no escapes, headers are scanned only when a
handler asks for one, and the body is read from ``receive`` directly.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from covet._types import Receive, Scope
from covet.exceptions import HTTPException
from covet.http.cookies import parse_cookie_header
from covet.http.request import ClientDisconnect

from .analysis import ParamField
from .errors import MISSING, Invalid, render_details

__all__ = (
    "check_json_type",
    "extract_params",
    "media_type_of",
    "parse_query",
    "parse_query_multi",
    "read_body",
)


def parse_query(qs: bytes) -> dict[str, str]:
    """``a=1&b=2`` -> ``{"a": "1", "b": "2"}`` (last value of a repeated key wins)."""
    s = qs.decode("latin-1")
    if "%" in s or "+" in s:
        return dict(parse_qsl(s, keep_blank_values=True))
    out: dict[str, str] = {}
    for part in s.split("&"):
        if part:
            key, _, value = part.partition("=")
            out[key] = value
    return out


def parse_query_multi(qs: bytes) -> dict[str, list[str]]:
    """``tag=a&tag=b`` -> ``{"tag": ["a", "b"]}``."""
    out: dict[str, list[str]] = {}
    for key, value in parse_qsl(qs.decode("latin-1"), keep_blank_values=True):
        lst = out.get(key)
        if lst is None:
            out[key] = [value]
        else:
            lst.append(value)
    return out


def _headers(scope: Scope) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in scope["headers"]:
        name = key.decode("latin-1").lower()
        lst = out.get(name)
        if lst is None:
            out[name] = [value.decode("latin-1")]
        else:
            lst.append(value.decode("latin-1"))
    return out


def _cookies(scope: Scope) -> dict[str, str]:
    cookies: dict[str, str] = {}
    for key, value in scope["headers"]:
        if key == b"cookie":
            for name, val in parse_cookie_header(value.decode("latin-1")).items():
                cookies.setdefault(name, val)
    return cookies


def _build_source(key: str, scope: Scope) -> Any:
    if key == "path":
        return scope.get("path_params") or {}
    if key == "header":
        return _headers(scope)
    if key == "cookie":
        return _cookies(scope)
    qs = scope.get("query_string", b"")
    if not qs:
        return {}
    return parse_query_multi(qs) if key == "query*" else parse_query(qs)


def extract_params(
    fields: list[ParamField],
    scope: Scope,
    kwargs: dict[str, Any],
    cache: dict[str, Any],
    errors: list[dict[str, Any]] | None,
) -> list[dict[str, Any]] | None:
    """Fill ``kwargs`` from path/query/header/cookie ``fields``; returns the error list.

    ``cache`` keeps each parsed source (query dict, header dict...) for the request.
    """
    for f in fields:
        key = f.source_key
        src = cache.get(key)
        if src is None:
            src = cache[key] = _build_source(key, scope)
        raw = src.get(f.alias, MISSING)
        if raw is MISSING:
            if f.required:
                errors = errors or []
                errors.append({"field": f"{f.location}.{f.alias}", "message": "Field required", "code": "missing"})
            else:
                kwargs[f.name] = f.default
            continue
        if key == "header" and not f.multi:
            raw = raw[0]
        if type(raw) is f.fast_type:
            kwargs[f.name] = raw
            continue
        try:
            kwargs[f.name] = f.validator(raw)
        except Invalid as exc:
            errors = (errors or []) + render_details(f"{f.location}.{f.alias}", exc.errors)
    return errors


def media_type_of(scope: Scope) -> str:
    """The request's media type, lower-cased, without parameters ("" when absent)."""
    for key, value in scope["headers"]:
        if key == b"content-type":
            return value.decode("latin-1").split(";", 1)[0].strip().lower()
    return ""


def check_json_type(scope: Scope) -> None:
    """400 unless the Content-Type is absent, ``application/json`` or ``*+json``."""
    for key, value in scope["headers"]:
        if key == b"content-type":
            if value == b"application/json":
                return
            break
    media = media_type_of(scope)
    if media and media != "application/json" and not media.endswith("+json"):
        raise HTTPException(400, f"Expected a JSON body (Content-Type: application/json), got {media!r}")


async def read_body(scope: Scope, receive: Receive, limit: int, *, json: bool = False) -> bytes:
    """The whole request body from ``receive``; 413 past ``limit``; done on Content-Length.

    ``json=True`` also checks the Content-Type (400 when a body of another type is sent).
    """
    expected = -1
    content_type = b""
    for key, value in scope["headers"]:
        if key == b"content-length":
            if not value.isdigit():
                raise HTTPException(400, "Invalid Content-Length header")
            expected = int(value)
            if expected > limit:
                raise HTTPException(413, f"Request body too large (limit {limit} bytes)")
        elif key == b"content-type":
            content_type = value
    if expected == 0:
        return b""
    if json and content_type and content_type != b"application/json":
        check_json_type(scope)
    message = await receive()
    if message["type"] != "http.request":
        raise ClientDisconnect
    body = message.get("body", b"")
    if not message.get("more_body", False) or len(body) == expected:
        if len(body) > limit:
            raise HTTPException(413, f"Request body too large (limit {limit} bytes)")
        return body
    chunks = [body]
    received = len(body)
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnect
        chunk = message.get("body", b"")
        received += len(chunk)
        if received > limit:
            raise HTTPException(413, f"Request body too large (limit {limit} bytes)")
        chunks.append(chunk)
        if not message.get("more_body", False) or received == expected:
            return b"".join(chunks)
