"""Sans-app HTTP objects: requests, responses, headers, cookies, forms and limits."""

from __future__ import annotations

from covet.http.datastructures import (
    URL,
    Address,
    FormData,
    Headers,
    MutableHeaders,
    QueryParams,
    State,
    UploadFile,
)
from covet.http.limits import DEFAULT_LIMITS, Limits
from covet.http.request import ClientDisconnect, HTTPConnection, Request
from covet.http.response import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

__all__ = (
    "DEFAULT_LIMITS",
    "URL",
    "Address",
    "ClientDisconnect",
    "FileResponse",
    "FormData",
    "HTMLResponse",
    "HTTPConnection",
    "Headers",
    "JSONResponse",
    "Limits",
    "MutableHeaders",
    "PlainTextResponse",
    "QueryParams",
    "RedirectResponse",
    "Request",
    "Response",
    "State",
    "StreamingResponse",
    "UploadFile",
)
