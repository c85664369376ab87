"""The threads that run SQLite calls, shared by every connection to one database file.

SQLite lets one writer in at a time, so a thread per connection buys little and costs a
thread wake-up per statement. Instead every connection to a file is assigned to one of
that file's worker threads (``threads``, default 1): a burst of statements from many
tasks runs back to back on a thread that is already awake, and results finishing
together reach the event loop in one wake-up.

A shared thread must never sleep in SQLite's busy handler: a statement waiting for the
write lock would stall the thread that the lock's holder needs to commit. Connections
therefore run with ``busy_timeout = 0`` and wait for the lock on the event loop
(``FileWorkers.wait_for_lock``): woken as soon as a connection of this process ends
its write (a commit, a rollback, an autocommit write), else polled with SQLite's own
back-off schedule (for writers in other processes), until ``busy_timeout`` passes.
"""

from __future__ import annotations

import asyncio
import collections
import os
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from covet.db.exceptions import InterfaceError

__all__ = ("BUSY_BACKOFF", "FileWorkers", "Worker", "assign_worker")

T = TypeVar("T")

#: seconds between retries of a statement refused with SQLITE_BUSY (SQLite's own
#: busy-handler schedule), then the last step repeated; an in-process unlock wakes sooner
BUSY_BACKOFF = (0.001, 0.002, 0.005, 0.01, 0.015, 0.02, 0.025, 0.025, 0.025, 0.05, 0.05, 0.1)


class _Inbox:
    """Results the worker threads hand back to one event loop, delivered in batches:
    a thread appends and wakes the loop only when no delivery is already scheduled,
    so results finishing while the loop is busy cost no extra wake-up. The loop is
    held weakly (the inboxes are kept per loop in a weak mapping)."""

    __slots__ = ("__weakref__", "_items", "_loop", "_scheduled")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = weakref.ref(loop)
        self._items: collections.deque[tuple[asyncio.Future[Any], bool, Any]] = collections.deque()
        self._scheduled = False

    def put(self, fut: asyncio.Future[Any], ok: bool, value: Any) -> None:
        """From a worker thread (a closed loop drops the result: nobody waits for it)."""
        self._items.append((fut, ok, value))
        if not self._scheduled:
            self._scheduled = True
            loop = self._loop()
            try:
                if loop is None:
                    raise RuntimeError("the event loop is gone")
                loop.call_soon_threadsafe(self._deliver)
            except RuntimeError:
                self._items.clear()

    def _deliver(self) -> None:
        self._scheduled = False  # before draining: a later put schedules another delivery
        items = self._items
        while items:
            fut, ok, value = items.popleft()
            if fut.done():
                continue
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)


_inboxes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Inbox] = weakref.WeakKeyDictionary()


def _inbox(loop: asyncio.AbstractEventLoop) -> _Inbox:
    inbox = _inboxes.get(loop)
    if inbox is None:
        inbox = _inboxes[loop] = _Inbox(loop)
    return inbox


_Job = tuple["asyncio.Future[Any] | None", "_Inbox | None", Callable[..., Any], tuple[Any, ...]]


def _serve(jobs: queue.SimpleQueue[_Job | None]) -> None:
    """A worker thread's loop: run each job, hand its outcome to its loop's inbox."""
    get = jobs.get
    while True:
        job = get()
        if job is None:
            return
        fut, inbox, fn, args = job
        if fut is None or inbox is None:
            try:
                fn(*args)
            except Exception:  # a fire-and-forget close: nothing to report to
                pass
            continue
        if fut.cancelled():
            continue
        try:
            result = fn(*args)
        except BaseException as exc:
            inbox.put(fut, False, exc)
        else:
            inbox.put(fut, True, result)


class Worker:
    """One thread running the calls submitted to it in order.

    ``submit`` returns an asyncio future resolved on the submitting loop. A call whose
    future was cancelled before the thread reached it is skipped (like
    ``run_in_executor``); a call already running finishes, its result dropped. The
    thread ends after ``stop()``, or once the worker is garbage collected.
    """

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._stopped = False
        self._thread = threading.Thread(
            target=_serve, args=(self._jobs,), name="covet-sqlite", daemon=True
        )
        self._thread.start()
        self._finalizer = weakref.finalize(self, self._jobs.put, None)

    @property
    def stopped(self) -> bool:
        return self._stopped

    def submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        if self._stopped:
            raise InterfaceError("the SQLite connection is closed")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._jobs.put((fut, _inbox(loop), fn, args))
        return fut

    def fire(self, fn: Callable[..., Any]) -> None:
        """Run ``fn`` on the thread without waiting for it (errors are ignored)."""
        if not self._stopped:
            self._jobs.put((None, None, fn, ()))

    def stop(self) -> None:
        """Let the thread exit once the calls already submitted have run."""
        if not self._stopped:
            self._stopped = True
            self._finalizer()


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class FileWorkers:
    """The worker threads of one database file, and the tasks waiting for its write lock.

    ``assign_worker()`` gives a new connection the least used worker; ``unassign()``
    takes it back, and the threads stop (and the file leaves the registry) with the
    last one.
    """

    def __init__(self, key: tuple[str, int], threads: int) -> None:
        self.key = key
        self._workers = [Worker() for _ in range(threads)]
        self._users = [0] * threads
        #: tasks waiting for the write lock (futures of their loops)
        self.waiters: list[asyncio.Future[None]] = []

    @property
    def workers(self) -> list[Worker]:
        return list(self._workers)

    def _assign(self) -> Worker:  # under _registry_lock
        i = self._users.index(min(self._users))
        self._users[i] += 1
        return self._workers[i]

    def unassign(self, worker: Worker) -> None:
        with _registry_lock:
            i = self._workers.index(worker)
            self._users[i] = max(self._users[i] - 1, 0)
            if any(self._users):
                return
            if _registry.get(self.key) is self:
                del _registry[self.key]
            for w in self._workers:
                w.stop()

    async def wait_for_lock(self, delay: float) -> None:
        """Sleep until a connection of this process ends a write, or ``delay`` passes."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        timer = loop.call_later(delay, _wake, fut)
        self.waiters.append(fut)
        try:
            await fut
        finally:
            timer.cancel()
            try:
                self.waiters.remove(fut)
            except ValueError:
                pass

    def notify(self) -> None:
        """A connection ended its write: let the waiting tasks try again now."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for fut in self.waiters:
            if fut.done():
                continue
            loop = fut.get_loop()
            if loop is running:
                fut.set_result(None)
            elif not loop.is_closed():
                loop.call_soon_threadsafe(_wake, fut)


_registry: dict[tuple[str, int], FileWorkers] = {}
_registry_lock = threading.Lock()


def _forget_inherited_workers() -> None:
    """In a forked child: the parent's worker threads did not come along, so new
    connections must start threads of their own (not queue jobs nobody will run)."""
    global _registry_lock
    _registry.clear()
    _registry_lock = threading.Lock()  # it may have been held by another parent thread


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_inherited_workers)


def assign_worker(database: str, threads: int) -> tuple[FileWorkers, Worker]:
    """The workers of ``database`` (a path, ``:memory:`` or a ``file:`` URI; made on
    first use, files told apart by their real path) and the one a new connection gets;
    give it back with ``FileWorkers.unassign``."""
    if threads < 1:
        raise ValueError(f"threads must be at least 1, not {threads}")
    name = database
    if database != ":memory:" and not database.startswith("file:"):
        name = os.path.realpath(database)
    key = (name, threads)
    with _registry_lock:
        files = _registry.get(key)
        if files is None:
            files = _registry[key] = FileWorkers(key, threads)
        return files, files._assign()
