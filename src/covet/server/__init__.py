"""CovetPy's built-in HTTP/1.1 + WebSocket server for any ASGI 3.0 application.

>>> from covet.server import run
>>> run("myproject.main:app", host="0.0.0.0", port=8000, workers=4)  # doctest: +SKIP

``serve(app, **options)`` is the async form; options are the fields of :class:`Config`.
httptools and uvloop are used when installed, pure Python otherwise, with the same
behaviour.
"""

from __future__ import annotations

from .config import Config, import_from_string
from .server import Server, run, serve

__all__ = ("Config", "Server", "import_from_string", "run", "serve")
