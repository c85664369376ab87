"""BaseHTTPMiddleware's direct relay: same messages as iterating ``body_iterator``.

``_CallNextResponse`` forwards the downstream body messages straight from the queue
when the dispatch returned the response untouched; it must fall back to the body
generator when the dispatch started reading it, replaced it, or a file message comes.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest

from covet.http.request import Request
from covet.http.response import Response
from covet.middleware.base import BaseHTTPMiddleware, CallNext

START = {"type": "http.response.start", "status": 201, "headers": [(b"x-app", b"1")]}


def scope_for(**extensions: Any) -> dict[str, Any]:
    return {
        "type": "http", "method": "GET", "path": "/", "root_path": "", "scheme": "http",
        "query_string": b"", "headers": [(b"host", b"t")], "extensions": extensions,
    }  # fmt: skip


async def run(app: Any, scope: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope or scope_for(), receive, send)
    return sent


def chunked_app(chunks: list[bytes]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(dict(START))
        for i, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk, "more_body": i < len(chunks) - 1})

    return app


async def passthrough(request: Request, call_next: CallNext) -> Response:
    return await call_next(request)


@pytest.mark.parametrize(
    "chunks", [[b"one"], [b""], [b"a", b"", b"b", b""], [b"x" * 100_000, b"y" * 100_000, b"z"]]
)
async def test_relayed_messages_match_the_documented_sequence(chunks: list[bytes]) -> None:
    sent = await run(BaseHTTPMiddleware(chunked_app(chunks), dispatch=passthrough))
    expected = [{"type": "http.response.start", "status": 201, "headers": [(b"x-app", b"1")]}]
    expected += [{"type": "http.response.body", "body": c, "more_body": True} for c in chunks if c]
    expected.append({"type": "http.response.body", "body": b"", "more_body": False})
    assert sent == expected


async def test_dispatch_that_started_reading_the_body_gets_the_rest_through_the_generator() -> None:
    async def dispatch(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        iterator: AsyncIterator[bytes] = response.body_iterator  # type: ignore[attr-defined]
        assert await iterator.__anext__() == b"a"
        return response

    sent = await run(BaseHTTPMiddleware(chunked_app([b"a", b"b", b"c"]), dispatch=dispatch))
    assert [m.get("body") for m in sent[1:]] == [b"b", b"c", b""]


async def test_replaced_body_iterator_is_used() -> None:
    async def dispatch(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        original: AsyncIterator[bytes] = response.body_iterator  # type: ignore[attr-defined]

        async def upper() -> AsyncIterator[bytes]:
            async for chunk in original:
                yield chunk.upper()

        response.body_iterator = upper()  # type: ignore[attr-defined]
        return response

    sent = await run(BaseHTTPMiddleware(chunked_app([b"a", b"b"]), dispatch=dispatch))
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"AB"


async def test_file_message_after_body_chunks_falls_back_to_the_generator(tmp_path: Any) -> None:
    path = tmp_path / "tail.bin"
    path.write_bytes(b"file-part")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(dict(START))
        await send({"type": "http.response.body", "body": b"head-", "more_body": True})
        with open(path, "rb") as file:
            await send({"type": "http.response.zerocopy", "file": file.fileno(), "offset": 0})

    sent = await run(BaseHTTPMiddleware(app, dispatch=passthrough), scope_for(**{"http.response.zerocopy": {}}))
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"head-file-part"
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    assert os.path.exists(path)


async def test_error_after_start_propagates_from_the_relay() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(dict(START))
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await run(BaseHTTPMiddleware(app, dispatch=passthrough))
