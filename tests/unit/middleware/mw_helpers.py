"""Helpers for the middleware tests: tiny raw ASGI apps and a message-level driver."""

from __future__ import annotations

import json
from typing import Any

from covet._types import ASGIApp, Message, Receive, Scope, Send


async def echo_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer JSON describing what the app saw (client, scheme, host, request id, body)."""
    body = b""
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        more = message.get("more_body", False)
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    payload = json.dumps(
        {
            "client": list(scope["client"]) if scope.get("client") else None,
            "scheme": scope.get("scheme"),
            "host": headers.get("host"),
            "request_id": scope.get("request_id"),
            "path": scope["path"],
            "body": body.decode("latin-1"),
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def body_app(
    body: bytes,
    content_type: bytes = b"text/plain; charset=utf-8",
    headers: list[tuple[bytes, bytes]] | None = None,
    status: int = 200,
) -> ASGIApp:
    """An app answering ``body`` in one message."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raw = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
        raw.extend(headers or [])
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body if scope["method"] != "HEAD" else b""})

    return app


def stream_app(chunks: list[bytes], content_type: bytes = b"text/plain") -> ASGIApp:
    """An app answering ``chunks`` as a streaming (chunked) body."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", content_type)]})
        for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app


async def drive(
    app: ASGIApp,
    *,
    method: str = "GET",
    path: str = "/",
    headers: list[tuple[bytes, bytes]] | None = None,
    body_chunks: list[bytes] | None = None,
    scope_type: str = "http",
    client: tuple[str, int] | None = ("203.0.113.9", 1234),
    scheme: str = "http",
    extra: dict[str, Any] | None = None,
) -> tuple[list[Message], Scope]:
    """Call ``app`` once with a hand-made scope; returns every sent message and the scope."""
    scope: Scope = {
        "type": scope_type,
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers if headers is not None else [(b"host", b"testserver")],
        "client": client,
        "server": ("testserver", 80),
    }
    if scope_type == "websocket":
        scope.pop("method")
    scope.update(extra or {})
    incoming: list[Message]
    if scope_type == "websocket":
        incoming = [{"type": "websocket.connect"}]
    else:
        chunks = body_chunks if body_chunks is not None else [b""]
        incoming = [
            {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
        ]
    sent: list[Message] = []

    async def receive() -> Message:
        if incoming:
            return incoming.pop(0)
        return {"type": "http.disconnect" if scope_type == "http" else "websocket.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent, scope


def start_headers(messages: list[Message]) -> dict[str, str]:
    """Lower-case header dict of the response start message (last value wins)."""
    start = next(m for m in messages if m["type"] == "http.response.start")
    return {k.decode().lower(): v.decode("latin-1") for k, v in start["headers"]}
