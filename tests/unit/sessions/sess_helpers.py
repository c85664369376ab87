"""A small raw-ASGI app exercising ``request.session`` for the session and CSRF tests."""

from __future__ import annotations

import json
from typing import Any

from covet._types import Receive, Scope, Send
from covet.http import Request
from covet.sessions import rotate

SECRET = "unit-test-secret-key-0123456789"


async def session_app(scope: Scope, receive: Receive, send: Send) -> None:
    """``/set?k=v`` stores, ``/get`` reads, ``/clear`` empties, ``/login`` rotates,
    ``/bump`` rewrites a nested value in place; every answer is the session as JSON."""
    request = Request(scope, receive, send)
    session = request.session
    path = scope["path"]
    if path == "/set":
        for key, value in request.query_params.multi_items():
            session[key] = value
    elif path == "/clear":
        session.clear()
    elif path == "/login":
        rotate(request)
        session["user"] = "alice"
    elif path == "/bump":
        session.setdefault("items", [])
        session["items"].append(1)
        session.modified = True
    elif path == "/form":
        form = await request.form()
        session["form"] = dict(form.multi_items()) if hasattr(form, "multi_items") else dict(form)
    payload: dict[str, Any] = {"session": dict(session), "id": getattr(session, "session_id", None)}
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
