"""CovetPy: an async Python web framework with a zero-dependency core.

>>> from covet import Covet
>>> app = Covet()
>>> @app.get("/hello/{name}")
... async def hello(name: str) -> dict:
...     return {"hello": name}

Names are imported on first use, so ``import covet`` is cheap and a program pays only
for the parts it touches.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "BackgroundTask": "covet.background",
    "BackgroundTasks": "covet.background",
    "Body": "covet.handlers",
    "Cookie": "covet.handlers",
    "Covet": "covet.app",
    "CovetError": "covet.exceptions",
    "Depends": "covet.handlers",
    "File": "covet.handlers",
    "Form": "covet.handlers",
    "HTTPException": "covet.exceptions",
    "Header": "covet.handlers",
    "ImproperlyConfigured": "covet.exceptions",
    "Path": "covet.handlers",
    "Query": "covet.handlers",
    "Request": "covet.http.request",
    "Response": "covet.http.response",
    "Router": "covet.routing",
    "Security": "covet.handlers",
    "UploadFile": "covet.http.datastructures",
    "ValidationError": "covet.exceptions",
    "WebSocket": "covet.websockets",
    "WebSocketDisconnect": "covet.websockets",
    "WebSocketException": "covet.exceptions",
    "status": "covet.status",
}

__all__ = tuple(sorted(_EXPORTS))

if TYPE_CHECKING:  # for type checkers and IDEs; at run time names load lazily
    from covet import status
    from covet.app import Covet
    from covet.background import BackgroundTask, BackgroundTasks
    from covet.exceptions import (
        CovetError,
        HTTPException,
        ImproperlyConfigured,
        ValidationError,
        WebSocketException,
    )
    from covet.handlers import Body, Cookie, Depends, File, Form, Header, Path, Query, Security
    from covet.http.datastructures import UploadFile
    from covet.http.request import Request
    from covet.http.response import Response
    from covet.routing import Router
    from covet.websockets import WebSocket, WebSocketDisconnect


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'covet' has no attribute {name!r}")
    imported = importlib.import_module(module)
    value = imported if name == "status" else getattr(imported, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*__all__, "__version__"])
