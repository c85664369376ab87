"""CovetPy: an async Python web framework with a zero-dependency core.

>>> from covet import Covet
>>> app = Covet()
>>> @app.get("/hello/{name}")
... async def hello(name: str) -> dict:
...     return {"hello": name}
"""

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

__version__ = "0.1.0"

__all__ = (
    "BackgroundTask",
    "BackgroundTasks",
    "Body",
    "Cookie",
    "Covet",
    "CovetError",
    "Depends",
    "File",
    "Form",
    "HTTPException",
    "Header",
    "ImproperlyConfigured",
    "Path",
    "Query",
    "Request",
    "Response",
    "Router",
    "Security",
    "UploadFile",
    "ValidationError",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketException",
    "status",
)
