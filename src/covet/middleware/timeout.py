"""Answer 504 when a handler has not started its response in time, and cancel it."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable

from covet._types import ASGIApp, Message, Receive, Scope, Send
from covet.exceptions import ImproperlyConfigured
from covet.middleware._util import send_json_error

__all__ = ("TimeoutMiddleware",)


#: a deadline this close to the loop's clock counts as reached (timer granularity)
_SLACK = 0.001


class _Entry:
    """One request under watch: ``active`` until its response starts or it ends."""

    __slots__ = ("active", "deadline", "started", "task", "timed_out")

    def __init__(self, task: asyncio.Task[object], deadline: float) -> None:
        self.task = task
        self.deadline = deadline
        self.active = True
        self.started = False
        self.timed_out = False


class _Watch:
    """The requests of one middleware on one event loop, in deadline order.

    The timeout is the same for every request, so deadlines grow with arrival: a deque
    and a single timer for its head replace a timer per request (a heap push and a
    cancelled handle each). Finished entries leave from the front as soon as they get
    there; the deque is compacted when finished entries pile up behind a slow one.
    """

    __slots__ = ("active", "entries", "handle", "loop", "timeout")

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self.loop = loop
        self.timeout = timeout
        self.entries: deque[_Entry] = deque()
        self.active = 0
        self.handle: asyncio.TimerHandle | None = None

    def add(self, task: asyncio.Task[object]) -> _Entry:
        entry = _Entry(task, self.loop.time() + self.timeout)
        self.entries.append(entry)
        self.active += 1
        if self.handle is None:
            self.handle = self.loop.call_at(entry.deadline, self._expire)
        return entry

    def release(self, entry: _Entry) -> None:
        """The request started its response or ended: it is no longer watched."""
        if not entry.active:
            return
        entry.active = False
        self.active -= 1
        entries = self.entries
        while entries and not entries[0].active:
            entries.popleft()
        if len(entries) > 2 * self.active + 64:
            self.entries = deque(e for e in entries if e.active)

    def _expire(self) -> None:
        self.handle = None
        limit = self.loop.time() + _SLACK
        entries = self.entries
        while entries:
            entry = entries[0]
            if not entry.active:
                entries.popleft()
                continue
            if entry.deadline > limit:
                self.handle = self.loop.call_at(entry.deadline, self._expire)
                return
            entries.popleft()
            entry.active = False
            self.active -= 1
            entry.timed_out = True
            entry.task.cancel()


class TimeoutMiddleware:
    """Cancel a request's handler if it has not sent ``http.response.start`` after
    ``timeout`` seconds, and answer 504 instead.

    Once the response has started (a streaming body, say) the timeout no longer
    applies. Only HTTP requests are affected. The handler sees a normal
    ``asyncio.CancelledError``, so its ``finally`` blocks and context managers run.
    """

    def __init__(self, app: ASGIApp, timeout: float = 30.0) -> None:
        if not timeout > 0:
            raise ImproperlyConfigured("timeout must be a positive number of seconds")
        self.app = app
        self.timeout = float(timeout)
        self._watch: _Watch | None = None  # of the loop that ran the last request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        task = asyncio.current_task()
        assert task is not None
        watch = self._watch
        loop = task.get_loop()
        if watch is None or watch.loop is not loop:
            # Another loop (tests, a thread per loop): a watch of its own. A replaced
            # watch keeps serving the requests it holds, on its own loop.
            watch = self._watch = _Watch(loop, self.timeout)
        entry = watch.add(task)

        # A plain function returning send's awaitable: no coroutine frame of its own.
        def send_tracking(message: Message) -> Awaitable[None]:
            if not entry.started and message["type"] == "http.response.start":
                if entry.timed_out:
                    raise asyncio.CancelledError()
                entry.started = True
                watch.release(entry)
            return send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except asyncio.CancelledError:
            if not entry.timed_out:
                raise
            uncancel = getattr(task, "uncancel", None)
            if uncancel is not None:
                uncancel()
        finally:
            watch.release(entry)
        if entry.timed_out and not entry.started:
            await send_json_error(scope, send, 504, "Request timed out")
