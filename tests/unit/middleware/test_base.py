from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from covet.background import BackgroundTask
from covet.http.request import Request
from covet.http.response import JSONResponse, PlainTextResponse, Response, StreamingResponse
from covet.middleware.base import BaseHTTPMiddleware, CallNext, Middleware


def http_scope(method: str = "POST", **extra: Any) -> dict[str, Any]:
    scope = {
        "type": "http", "method": method, "path": "/", "root_path": "", "scheme": "http",
        "query_string": b"", "headers": [(b"host", b"t"), (b"content-length", b"5")],
    }  # fmt: skip
    scope.update(extra)
    return scope


def body_receive(body: bytes = b"hello") -> Any:
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    gone = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await gone.wait()
        return {"type": "http.disconnect"}

    return receive


async def run(
    app: Any, scope: dict[str, Any] | None = None, receive: Any = None
) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope or http_scope(), receive or body_receive(), send)
    return sent


def body_of(sent: list[dict[str, Any]]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


async def echo_app(scope: Any, receive: Any, send: Any) -> None:
    request = Request(scope, receive)
    await PlainTextResponse(b"echo:" + await request.body())(scope, receive, send)


def test_middleware_spec() -> None:
    spec = Middleware(BaseHTTPMiddleware, dispatch=None)
    cls, options = spec
    assert cls is BaseHTTPMiddleware and options == {"dispatch": None}
    assert spec.cls is BaseHTTPMiddleware and spec.options == {"dispatch": None}
    assert repr(spec) == "Middleware(BaseHTTPMiddleware, dispatch=None)"
    built = spec.build(echo_app)
    assert isinstance(built, BaseHTTPMiddleware) and built.app is echo_app


async def test_dispatch_modifies_response_and_body_still_readable() -> None:
    async def dispatch(request: Request, call_next: CallNext) -> Response:
        seen = await request.body()
        response = await call_next(request)
        response.headers["x-seen"] = seen.decode()
        return response

    sent = await run(BaseHTTPMiddleware(echo_app, dispatch=dispatch))
    assert sent[0]["status"] == 200
    assert (b"x-seen", b"hello") in sent[0]["headers"]
    assert body_of(sent) == b"echo:hello"


async def test_subclass_dispatch_and_short_circuit() -> None:
    class Deny(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: CallNext) -> Response:
            if request.headers.get("x-token") != "ok":
                return JSONResponse({"error": "no"}, status_code=401)
            return await call_next(request)

    called: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        called.append(1)
        await echo_app(scope, receive, send)

    sent = await run(Deny(app))
    assert sent[0]["status"] == 401 and called == []
    scope = http_scope(headers=[(b"x-token", b"ok"), (b"content-length", b"5")])
    assert body_of(await run(Deny(app), scope)) == b"echo:hello"


async def test_streaming_passes_through_chunk_by_chunk() -> None:
    """Chunk N+1 is only produced once chunk N reached the client: nothing waits for the
    whole body."""
    events: list[str] = []
    delivered = [asyncio.Event() for _ in range(3)]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        async def gen() -> AsyncIterator[bytes]:
            for i in range(3):
                events.append(f"produce{i}")
                yield b"%d" % i
                await asyncio.wait_for(delivered[i].wait(), 2)

        await StreamingResponse(gen(), media_type="text/plain")(scope, receive, send)

    async def dispatch(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        events.append("dispatch-returned")
        return response

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            index = int(message["body"])
            events.append(f"send{index}")
            delivered[index].set()
        sent.append(message)

    await BaseHTTPMiddleware(app, dispatch=dispatch)(http_scope("GET"), body_receive(), send)
    assert events == [
        "dispatch-returned",
        "produce0",
        "send0",
        "produce1",
        "send1",
        "produce2",
        "send2",
    ]
    assert body_of(sent) == b"012"
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


async def test_back_pressure_bounds_pending_body() -> None:
    from covet.middleware import base

    produced = 0
    max_ahead = 0
    relayed = 0

    async def app(scope: Any, receive: Any, send: Any) -> None:
        nonlocal produced, max_ahead
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(100):
            produced += 16 * 1024
            max_ahead = max(max_ahead, produced - relayed)
            await send({"type": "http.response.body", "body": b"x" * 16 * 1024, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def slow_send(message: dict[str, Any]) -> None:
        nonlocal relayed
        relayed += len(message.get("body", b""))
        await asyncio.sleep(0)

    async def dispatch(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    await BaseHTTPMiddleware(app, dispatch=dispatch)(http_scope("GET"), body_receive(), slow_send)
    assert relayed == 100 * 16 * 1024
    assert max_ahead <= base.RELAY_BUFFER + 2 * 16 * 1024


async def test_endpoint_exception_propagates_to_dispatch() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise KeyError("boom")

    caught: list[BaseException] = []

    async def dispatch(request: Request, call_next: CallNext) -> Response:
        try:
            return await call_next(request)
        except KeyError as exc:
            caught.append(exc)
            return PlainTextResponse("handled", status_code=500)

    sent = await run(BaseHTTPMiddleware(app, dispatch=dispatch))
    assert sent[0]["status"] == 500 and isinstance(caught[0], KeyError)

    async def passthrough(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    with pytest.raises(KeyError):
        await run(BaseHTTPMiddleware(app, dispatch=passthrough))


async def test_error_mid_stream_propagates() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        raise RuntimeError("mid-stream")

    async def dispatch(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    with pytest.raises(RuntimeError, match="mid-stream"):
        await run(BaseHTTPMiddleware(app, dispatch=dispatch))


async def test_no_response_is_an_error() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        return None

    async def dispatch(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    with pytest.raises(RuntimeError, match="No response returned"):
        await run(BaseHTTPMiddleware(app, dispatch=dispatch))


async def test_background_tasks_still_run() -> None:
    ran: list[str] = []

    async def task() -> None:
        await asyncio.sleep(0)
        ran.append("bg")

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await PlainTextResponse("x", background=BackgroundTask(task))(scope, receive, send)

    async def dispatch(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    sent = await run(BaseHTTPMiddleware(app, dispatch=dispatch))
    assert body_of(sent) == b"x" and ran == ["bg"]


async def test_abandoned_downstream_is_cancelled() -> None:
    cancelled = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        async def gen() -> AsyncIterator[bytes]:
            try:
                while True:
                    yield b"x"
                    await asyncio.sleep(0)
            finally:
                cancelled.set()

        await StreamingResponse(gen())(scope, receive, send)

    async def dispatch(request: Request, call_next: CallNext) -> Response:
        response = await call_next(request)
        async for chunk in response.body_iterator:  # type: ignore[attr-defined]
            assert chunk == b"x"
            break
        return PlainTextResponse("replaced")

    sent = await asyncio.wait_for(run(BaseHTTPMiddleware(app, dispatch=dispatch)), 2)
    assert body_of(sent) == b"replaced"
    assert cancelled.is_set()


async def test_client_disconnect_stops_stream() -> None:
    stopped = asyncio.Event()
    gone = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        async def gen() -> AsyncIterator[bytes]:
            try:
                for _ in range(10_000):
                    yield b"x"
                    await asyncio.sleep(0.001)
            finally:
                stopped.set()

        await StreamingResponse(gen())(scope, receive, send)

    async def receive() -> dict[str, Any]:
        await gone.wait()
        return {"type": "http.disconnect"}

    count = 0

    async def send(message: dict[str, Any]) -> None:
        nonlocal count
        count += 1
        if count == 5:
            gone.set()

    async def dispatch(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    await asyncio.wait_for(
        BaseHTTPMiddleware(app, dispatch=dispatch)(http_scope("GET"), receive, send), 2
    )
    assert stopped.is_set() and count < 100


async def test_pathsend_from_downstream_is_relayed(tmp_path: Any) -> None:
    from covet.http.files import FileResponse

    path = tmp_path / "f.txt"
    path.write_bytes(b"file-data" * 10_000)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await FileResponse(path)(scope, receive, send)

    async def dispatch(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    scope = http_scope("GET", extensions={"http.response.pathsend": {}})
    sent = await run(BaseHTTPMiddleware(app, dispatch=dispatch), scope)
    assert body_of(sent) == b"file-data" * 10_000


async def test_non_http_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    async def dispatch(request: Request, call_next: CallNext) -> Response:
        raise AssertionError("dispatch must not run for websocket scopes")

    await BaseHTTPMiddleware(app, dispatch=dispatch)({"type": "websocket"}, body_receive(), None)
    await BaseHTTPMiddleware(app, dispatch=dispatch)({"type": "lifespan"}, body_receive(), None)
    assert seen == ["websocket", "lifespan"]


async def test_missing_dispatch() -> None:
    with pytest.raises(NotImplementedError):
        await run(BaseHTTPMiddleware(echo_app))


async def test_zerocopy_from_downstream_is_read_before_the_file_closes(tmp_path: Any) -> None:
    from covet.http.files import FileResponse

    path = tmp_path / "big.bin"
    data = bytes(range(256)) * 1024
    path.write_bytes(data)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await FileResponse(path)(scope, receive, send)

    async def dispatch(request: Request, call_next: CallNext) -> Response:
        return await call_next(request)

    scope = http_scope("GET", extensions={"http.response.zerocopy": {}})
    sent = await run(BaseHTTPMiddleware(app, dispatch=dispatch), scope)
    assert body_of(sent) == data
