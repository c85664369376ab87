"""Turning exceptions into responses: the JSON error format and the debug page."""

from __future__ import annotations

import html
import logging
import sys
import traceback
import uuid
from typing import Any

from covet._types import Scope
from covet.exceptions import HTTPException, ValidationError
from covet.http.response import HTMLResponse, JSONResponse, Response

__all__ = ("http_error_response", "server_error_response", "trace_id")

logger = logging.getLogger("covet.error")


def trace_id(scope: Scope) -> str:
    """The request's correlation id (``scope["request_id"]``), or a fresh one."""
    rid = scope.get("request_id")
    if rid:
        return str(rid)
    rid = uuid.uuid4().hex
    scope["request_id"] = rid
    return rid


def http_error_response(exc: HTTPException, scope: Scope) -> Response:
    """``{"error": detail, "trace_id": ...}``; validation errors add ``details``."""
    if isinstance(exc, ValidationError):
        body: dict[str, Any] = exc.to_dict()
    else:
        body = {"error": exc.detail}
    body["trace_id"] = trace_id(scope)
    if exc.status_code in (204, 304) or exc.status_code < 200:
        return Response(b"", status_code=exc.status_code, headers=exc.headers)
    return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


def server_error_response(exc: BaseException, scope: Scope, *, debug: bool) -> Response:
    """500: a sanitized JSON body in production, a traceback page in debug mode."""
    tid = trace_id(scope)
    logger.error(
        "Unhandled %s in %s %s [trace_id=%s]",
        type(exc).__name__,
        scope.get("method", scope.get("type", "?")),
        scope.get("path", "?"),
        tid,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    if not debug:
        return JSONResponse({"error": "Internal Server Error", "trace_id": tid}, status_code=500)
    frames = traceback.format_exception(type(exc), exc, exc.__traceback__)
    accept = b""
    for key, value in scope.get("headers", ()):
        if key == b"accept":
            accept = value
            break
    if b"text/html" in accept:
        return HTMLResponse(_debug_page(exc, frames, tid, scope), status_code=500)
    return JSONResponse(
        {
            "error": "Internal Server Error",
            "exception": type(exc).__name__,
            "message": str(exc),
            "traceback": "".join(frames).splitlines(),
            "trace_id": tid,
        },
        status_code=500,
    )


def _debug_page(exc: BaseException, frames: list[str], tid: str, scope: Scope) -> str:
    esc = html.escape
    title = f"{type(exc).__name__}: {exc}"
    python = sys.version.split()[0]
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{esc(title)}</title><style>"
        "body{font:15px/1.5 system-ui,sans-serif;margin:2rem;color:#222}"
        "h1{font-size:1.4rem;color:#b00020}pre{background:#f6f6f6;padding:1rem;overflow:auto;"
        "border-left:4px solid #b00020;font:13px/1.45 ui-monospace,monospace}"
        ".meta{color:#666}</style></head><body>"
        f"<h1>{esc(title)}</h1>"
        f"<p class='meta'>{esc(str(scope.get('method', '')))} {esc(str(scope.get('path', '')))}"
        f" &middot; trace_id {esc(tid)} &middot; Python {esc(python)} &middot; debug mode: "
        "never enable it in production</p>"
        f"<pre>{esc(''.join(frames))}</pre></body></html>"
    )
