"""``Middleware`` spec records and ``BaseHTTPMiddleware`` (dispatch-style middleware).

``BaseHTTPMiddleware`` lets you write ``async dispatch(request, call_next)`` without
breaking streaming: ``call_next`` runs the rest of the app in a task and returns as
soon as the response starts; its body is relayed chunk by chunk with back-pressure,
never buffered.
"""

from __future__ import annotations

import asyncio
import os
import types
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from typing import Any

from covet._types import ASGIApp, Message, Receive, Scope, Send
from covet.concurrency import run_in_threadpool
from covet.http.request import Request
from covet.http.response import Response, StreamingResponse
from covet.middleware._util import READY

__all__ = ("BaseHTTPMiddleware", "CallNext", "DispatchFunction", "Middleware")

CallNext = Callable[[Request], Awaitable[Response]]
DispatchFunction = Callable[[Request, CallNext], Awaitable[Response]]

_READ_CHUNK = 64 * 1024
#: body bytes the inner app may hand over before waiting for them to be relayed
RELAY_BUFFER = 64 * 1024


class Middleware:
    """A middleware class and its options, for ``Covet(middleware=[...])``."""

    __slots__ = ("cls", "options")

    def __init__(self, cls: Callable[..., ASGIApp], /, **options: Any) -> None:
        self.cls = cls
        self.options = options

    def __iter__(self) -> Iterator[Any]:
        return iter((self.cls, self.options))

    def build(self, app: ASGIApp) -> ASGIApp:
        """Instantiate around ``app``."""
        return self.cls(app, **self.options)

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        name = getattr(self.cls, "__name__", repr(self.cls))
        return f"Middleware({name}{', ' + opts if opts else ''})"


class _Done:
    """End of the downstream app (``error`` if it raised)."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


class _CallNextResponse(StreamingResponse):
    """The downstream response as it streams: status/headers as sent, body relayed."""

    __slots__ = ("_downstream", "_own_body")

    def __init__(
        self,
        status_code: int,
        raw_headers: list[tuple[bytes, bytes]],
        body: AsyncIterator[bytes],
        downstream: _Downstream | None = None,
    ) -> None:
        self.status_code = status_code
        self.media_type = None
        self.background = None
        self._headers = None
        self.body = b""
        self.body_iterator = body
        self._sync_iterator = None
        self.raw_headers = list(raw_headers)
        self._downstream = downstream
        self._own_body = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The downstream app watches for disconnects itself; listening here too would
        # steal its messages.
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        downstream = self._downstream
        if (
            downstream is not None
            and self.body_iterator is self._own_body
            and not downstream.body_started
            and await downstream.relay(send)
        ):
            pass  # relayed straight from the queue, as the loop below would have
        else:
            async for chunk in self.body_iterator:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        if self.background is not None:
            await self.background()


class _Downstream:
    """Runs the inner app in a task and hands its messages to the relaying response.

    The inner app's ``send`` never waits while less than ``RELAY_BUFFER`` body bytes are
    pending, so a simple response crosses over in a single event-loop turn; past that it
    waits for the consumer (back-pressure: the body is never accumulated).
    """

    __slots__ = (
        "ack",
        "body_started",
        "consumer",
        "done_seen",
        "finished",
        "messages",
        "pending",
        "producer",
        "task",
    )

    def __init__(self) -> None:
        self.messages: deque[Message | _Done] = deque()
        self.pending = 0  # body bytes handed over but not yet taken
        self.consumer: asyncio.Future[None] | None = None  # the relay waits for a message
        self.producer: asyncio.Future[None] | None = None  # the app waits for room
        self.ack: asyncio.Future[None] | None = None  # the app waits until a file was read
        self.task: asyncio.Task[None] | None = None
        self.finished = False  # the final body message has been relayed
        self.done_seen = False  # the _Done marker has been taken
        self.body_started = False  # body() has been iterated (relay() may no longer run)

    def _push(self, item: Message | _Done) -> None:
        self.messages.append(item)
        waiter = self.consumer
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def run(self, app: ASGIApp, scope: Scope, receive: Receive) -> None:
        try:
            await app(scope, receive, self.send)
        except BaseException as exc:
            self._push(_Done(exc))
            if not isinstance(exc, Exception):
                raise
        else:
            self._push(_Done(None))

    # ``send`` is a plain method returning an awaitable: a message that needs no waiting
    # (the usual case) costs the inner app no coroutine.
    def send(self, message: Message) -> Awaitable[None]:
        """The inner app's ``send``."""
        self.pending += len(message.get("body", b""))
        self._push(message)
        if message["type"] == "http.response.zerocopy" or self.pending > RELAY_BUFFER:
            return self._wait(message)
        return READY

    async def _wait(self, message: Message) -> None:
        if message["type"] == "http.response.zerocopy":
            # The app closes the file once send returns: wait until it has been read.
            self.ack = asyncio.get_running_loop().create_future()
            await self.ack
        while self.pending > RELAY_BUFFER:
            self.producer = asyncio.get_running_loop().create_future()
            await self.producer

    async def next_message(self) -> Message | _Done:
        while not self.messages:
            self.consumer = asyncio.get_running_loop().create_future()
            await self.consumer
        return self.take()

    def take(self) -> Message | _Done:
        """The next queued message (there must be one): ``next_message`` minus the wait."""
        item = self.messages.popleft()
        if isinstance(item, _Done):
            self.done_seen = True
            return item
        self.pending -= len(item.get("body", b""))
        waiter = self.producer
        if waiter is not None and not waiter.done() and self.pending <= RELAY_BUFFER:
            waiter.set_result(None)
        return item

    def _acknowledge(self) -> None:
        ack = self.ack
        if ack is not None and not ack.done():
            ack.set_result(None)

    async def relay(self, send: Send) -> bool:
        """What iterating ``body()`` and sending each chunk does, without the generator.

        Plain body messages are forwarded as ``more_body=True`` chunks (empty ones
        dropped) until the last; returns False, with the message put back for
        ``body()``, at the first message of another kind (a file to read).
        """
        while True:
            message = self.take() if self.messages else await self.next_message()
            if isinstance(message, _Done):
                if message.error is not None:
                    raise message.error
                self.finished = True
                return True
            if message["type"] != "http.response.body":
                self.messages.appendleft(message)
                self.pending += len(message.get("body", b""))
                return False
            body = message.get("body", b"")
            if body:
                await send({"type": "http.response.body", "body": body, "more_body": True})
            if not message.get("more_body", False):
                self.finished = True
                return True

    async def body(self) -> AsyncIterator[bytes]:
        self.body_started = True
        while True:
            message = await self.next_message()
            if isinstance(message, _Done):
                if message.error is not None:
                    raise message.error
                self.finished = True
                return
            kind = message["type"]
            if kind == "http.response.body":
                body = message.get("body", b"")
                if body:
                    yield body
                if not message.get("more_body", False):
                    self.finished = True
                    return
            elif kind == "http.response.pathsend":
                async for chunk in _read_file(message["path"], 0, None):
                    yield chunk
                self.finished = True
                return
            elif kind == "http.response.zerocopy":
                try:
                    async for chunk in _read_fd(
                        message["file"], message.get("offset"), message.get("count")
                    ):
                        yield chunk
                finally:
                    self._acknowledge()
                if not message.get("more_body", False):
                    self.finished = True
                    return

    async def stop(self) -> None:
        """Let the app finish (its background tasks run), or cancel it if abandoned."""
        task = self.task
        if task is None:
            return
        if self.finished:
            error: BaseException | None = None
            while not self.done_seen:
                # messages after the final body are dropped
                item = self.take() if self.messages else await self.next_message()
                if isinstance(item, _Done):
                    error = item.error
            await task
            if error is not None:
                raise error
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            cancelling = getattr(current, "cancelling", None)  # Python >= 3.11
            if cancelling is not None and cancelling():
                raise


async def _read_file(path: str, offset: int, count: int | None) -> AsyncIterator[bytes]:
    file = await run_in_threadpool(open, path, "rb")
    try:
        async for chunk in _read_fd(file, offset, count):
            yield chunk
    finally:
        await run_in_threadpool(file.close)


async def _read_fd(file: Any, offset: int | None, count: int | None) -> AsyncIterator[bytes]:
    fd = file if isinstance(file, int) else file.fileno()
    position = (
        offset if offset is not None else await run_in_threadpool(os.lseek, fd, 0, os.SEEK_CUR)
    )
    remaining = count
    while remaining is None or remaining > 0:
        size = _READ_CHUNK if remaining is None else min(_READ_CHUNK, remaining)
        data = await run_in_threadpool(os.pread, fd, size, position)
        if not data:
            return
        position += len(data)
        if remaining is not None:
            remaining -= len(data)
        yield data


class BaseHTTPMiddleware:
    """Subclass and implement ``dispatch``, or pass ``dispatch=`` a function.

    ::

        class Timing(BaseHTTPMiddleware):
            async def dispatch(self, request, call_next):
                response = await call_next(request)
                response.headers["x-time"] = "..."
                return response

    The body the dispatch reads stays readable by the endpoint; exceptions from the
    endpoint propagate out of ``call_next``; background tasks of the endpoint's
    response still run. Non-HTTP scopes pass straight through.
    """

    def __init__(self, app: ASGIApp, dispatch: DispatchFunction | None = None) -> None:
        self.app = app
        self.dispatch_func: DispatchFunction = dispatch if dispatch is not None else self.dispatch

    async def dispatch(self, request: Request, call_next: CallNext) -> Response:
        """Override: return ``await call_next(request)`` or your own response."""
        raise NotImplementedError(
            "Subclass BaseHTTPMiddleware and implement dispatch(), or pass dispatch="
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive, send)
        downstreams: list[_Downstream] = []

        async def call_next(req: Request) -> Response:
            downstream = _Downstream()
            downstreams.append(downstream)
            task = asyncio.get_running_loop().create_task(
                downstream.run(self.app, req.scope, _replay_receive(req))
            )
            downstream.task = task
            # Yield once: the new task's first step and this one then run in the same loop
            # iteration, so a response the app starts straight away is here without an
            # extra iteration (waiting on a future would need one more to wake up).
            await _yield_now()
            first = downstream.take() if downstream.messages else await downstream.next_message()
            if isinstance(first, _Done):
                if first.error is not None:
                    raise first.error
                raise RuntimeError("No response returned: the app finished without sending one")
            if first["type"] != "http.response.start":
                raise RuntimeError(f"Expected 'http.response.start' first, got {first['type']!r}")
            return _CallNextResponse(
                first["status"], first.get("headers", []), downstream.body(), downstream
            )

        try:
            response = await self.dispatch_func(request, call_next)
            await response(scope, receive, send)
        finally:
            for downstream in downstreams:
                await downstream.stop()


@types.coroutine
def _yield_now() -> Generator[None, None, None]:
    """Give the event loop one turn (what ``asyncio.sleep(0)`` does, minus its overhead)."""
    yield


def _replay_receive(request: Request) -> Receive:
    """``receive`` for the inner app: replays a body the dispatch already read."""
    replayed = False

    async def receive() -> Message:
        nonlocal replayed
        body = request.__dict__.get("_body")
        if body is not None and not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        if request._stream_consumed and not replayed:
            raise RuntimeError(
                "The dispatch consumed the request body with stream(); use body() to keep it readable"
            )
        pending = request.__dict__.get("_pending")
        if pending:
            return pending.pop(0)
        return await request.receive()

    return receive
