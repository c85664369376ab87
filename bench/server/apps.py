"""Applications served in the server benchmark: raw ASGI and Covet variants."""

from __future__ import annotations

import json
from typing import Any

HELLO = b"Hello, world!"
HELLO_HEADERS = [(b"content-type", b"text/plain"), (b"content-length", b"13")]
JSON_HEADERS = [(b"content-type", b"application/json")]
START_HELLO = {"type": "http.response.start", "status": 200, "headers": HELLO_HEADERS}
BODY_HELLO = {"type": "http.response.body", "body": HELLO}


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Raw ASGI hello world (lifespan ignored)."""
    if scope["type"] != "http":
        return
    await send(START_HELLO)
    await send(BODY_HELLO)


async def json_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Raw ASGI JSON response (serialised per request)."""
    if scope["type"] != "http":
        return
    body = json.dumps({"message": "Hello, world!", "items": [1, 2, 3], "ok": True}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [*JSON_HEADERS, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def ws_echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """WebSocket echo used for the idle-connections measurement."""
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send(
            {"type": "websocket.send", "text": message.get("text"), "bytes": message.get("bytes")}
        )


def _covet_app() -> Any:
    try:
        from covet import Covet
    except ImportError:
        return None
    app = Covet(title="bench", openapi_url=None) if _accepts_openapi_url() else Covet(title="bench")

    @app.get("/")
    async def index() -> dict[str, Any]:
        return {"message": "Hello, world!", "items": [1, 2, 3], "ok": True}

    return app


def _accepts_openapi_url() -> bool:
    import inspect

    from covet import Covet

    return "openapi_url" in inspect.signature(Covet).parameters


covet_json = _covet_app()
