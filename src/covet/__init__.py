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

from typing import TYPE_CHECKING

from covet._lazy import lazy_exports

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
    # "X as X": an explicit re-export, which mypy --strict (no implicit re-export) needs
    from covet import status as status
    from covet.app import Covet as Covet
    from covet.background import BackgroundTask as BackgroundTask
    from covet.background import BackgroundTasks as BackgroundTasks
    from covet.exceptions import CovetError as CovetError
    from covet.exceptions import HTTPException as HTTPException
    from covet.exceptions import ImproperlyConfigured as ImproperlyConfigured
    from covet.exceptions import ValidationError as ValidationError
    from covet.exceptions import WebSocketException as WebSocketException
    from covet.handlers import Body as Body
    from covet.handlers import Cookie as Cookie
    from covet.handlers import Depends as Depends
    from covet.handlers import File as File
    from covet.handlers import Form as Form
    from covet.handlers import Header as Header
    from covet.handlers import Path as Path
    from covet.handlers import Query as Query
    from covet.handlers import Security as Security
    from covet.http.datastructures import UploadFile as UploadFile
    from covet.http.request import Request as Request
    from covet.http.response import Response as Response
    from covet.routing import Router as Router
    from covet.websockets import WebSocket as WebSocket
    from covet.websockets import WebSocketDisconnect as WebSocketDisconnect


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, also=("__version__",))
