"""SQLite over the stdlib ``sqlite3`` module, one dedicated thread per connection.

Every call on a connection runs on that connection's own worker thread, so the event
loop never blocks on disk and the sqlite3 object is only ever touched by one thread at
a time. The hand-off is one queue put and one ``call_soon_threadsafe`` per statement
(no ``concurrent.futures`` machinery). Files get ``journal_mode=WAL``, ``synchronous=NORMAL``,
``foreign_keys=ON`` and a ``busy_timeout``; every connection gets
``case_sensitive_like=ON`` and a ``REGEXP`` function.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import decimal
import functools
import queue
import re
import sqlite3
import threading
import uuid
import weakref
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any, TypeVar

from covet.db.drivers.base import DriverConnection, Params, parse_version
from covet.db.exceptions import (
    CheckViolation,
    DatabaseError,
    DataError,
    ForeignKeyViolation,
    InterfaceError,
    NotNullViolation,
    OperationalError,
    UniqueViolation,
    error_class_for_sqlite_message,
)
from covet.db.record import Record, column_index

__all__ = ("SQLiteConnection", "connect_sqlite")

T = TypeVar("T")

_UTC = dt.timezone.utc

_BY_ERRORNAME: dict[str, type[DatabaseError]] = {
    "SQLITE_CONSTRAINT_UNIQUE": UniqueViolation,
    "SQLITE_CONSTRAINT_PRIMARYKEY": UniqueViolation,
    "SQLITE_CONSTRAINT_FOREIGNKEY": ForeignKeyViolation,
    "SQLITE_CONSTRAINT_NOTNULL": NotNullViolation,
    "SQLITE_CONSTRAINT_CHECK": CheckViolation,
    "SQLITE_BUSY": OperationalError,
    "SQLITE_LOCKED": OperationalError,
    "SQLITE_TOOBIG": DataError,
    "SQLITE_MISMATCH": DataError,
}


def _adapt_datetime(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(_UTC).replace(tzinfo=None)
    return value.isoformat(sep=" ", timespec="microseconds")


# Raw parameters of these types are stored the way the SQLite dialect stores them, so
# hand-written SQL and the ORM agree (and no deprecated sqlite3 default adapter runs).
_ADAPTERS: dict[type, Callable[[Any], Any]] = {
    dt.datetime: _adapt_datetime,
    dt.date: dt.date.isoformat,
    dt.time: lambda v: v.isoformat(timespec="microseconds"),
    decimal.Decimal: str,
    uuid.UUID: str,
}


def _adapt(params: Params) -> Sequence[Any]:
    if not params:
        return ()
    adapters = _ADAPTERS
    for p in params:
        if type(p) in adapters:
            return [adapters[type(p)](v) if type(v) in adapters else v for v in params]
    return params


@functools.lru_cache(maxsize=256)
def _compile_regexp(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _regexp(pattern: str | None, value: Any) -> int | None:
    if pattern is None or value is None:
        return None
    return 1 if _compile_regexp(pattern).search(str(value)) else 0


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


class _Worker:
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


class SQLiteConnection(DriverConnection):
    """A ``sqlite3.Connection`` driven from its own thread."""

    def __init__(self, conn: sqlite3.Connection, worker: _Worker) -> None:
        super().__init__()
        self._conn = conn
        self._worker = worker
        self._closed = False

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise InterfaceError("the SQLite connection is closed")
        try:
            return await self._worker.submit(fn, *args)
        except sqlite3.Error as exc:
            raise self.translate(exc) from exc  # type: ignore[misc]

    # -- thread-side helpers ----------------------------------------------------

    def _execute_sync(self, sql: str, params: Sequence[Any]) -> int:
        cur = self._conn.execute(sql, params)
        try:
            return cur.rowcount
        finally:
            cur.close()

    def _execute_many_sync(self, sql: str, seq: list[Sequence[Any]]) -> int:
        cur = self._conn.executemany(sql, seq)
        try:
            return cur.rowcount
        finally:
            cur.close()

    def _fetch_all_sync(self, sql: str, params: Sequence[Any]) -> list[Record]:
        cur = self._conn.execute(sql, params)
        try:
            rows = cur.fetchall()
            if cur.description is None:
                return []
            index = column_index([d[0] for d in cur.description])
            return [Record(row, index) for row in rows]
        finally:
            cur.close()

    def _fetch_rows_sync(self, sql: str, params: Sequence[Any]) -> list[Any]:
        cur = self._conn.execute(sql, params)
        try:
            return cur.fetchall()
        finally:
            cur.close()

    def _fetch_one_sync(self, sql: str, params: Sequence[Any]) -> Record | None:
        cur = self._conn.execute(sql, params)
        try:
            row = cur.fetchone()
            if row is None or cur.description is None:
                return None
            return Record(row, column_index([d[0] for d in cur.description]))
        finally:
            cur.close()

    def _insert_sync(self, sql: str, params: Sequence[Any]) -> Any:
        cur = self._conn.execute(sql, params)
        try:
            if cur.description is not None:  # INSERT ... RETURNING
                row = cur.fetchone()
                cur.fetchall()
                return row[0] if row else None
            return cur.lastrowid
        finally:
            cur.close()

    # -- DriverConnection -------------------------------------------------------

    async def execute(self, sql: str, params: Params) -> int:
        return await self._run(self._execute_sync, sql, _adapt(params))

    async def execute_many(self, sql: str, seq_of_params: Sequence[Sequence[Any]]) -> int:
        return await self._run(self._execute_many_sync, sql, [_adapt(p) for p in seq_of_params])

    async def fetch_all(self, sql: str, params: Params) -> list[Any]:
        return await self._run(self._fetch_all_sync, sql, _adapt(params))

    async def fetch_rows(self, sql: str, params: Params) -> Sequence[Any]:
        return await self._run(self._fetch_rows_sync, sql, _adapt(params))

    async def fetch_one(self, sql: str, params: Params) -> Any | None:
        return await self._run(self._fetch_one_sync, sql, _adapt(params))

    async def insert(self, sql: str, params: Params) -> Any:
        return await self._run(self._insert_sync, sql, _adapt(params))

    async def iterate(self, sql: str, params: Params, chunk_size: int) -> AsyncGenerator[Any, None]:
        cur: sqlite3.Cursor = await self._run(self._conn.execute, sql, _adapt(params))
        try:
            if cur.description is None:
                return
            index = column_index([d[0] for d in cur.description])
            while True:
                rows = await self._run(cur.fetchmany, chunk_size)
                if not rows:
                    return
                for row in rows:
                    yield Record(row, index)
        finally:
            if not self._closed:
                await self._run(cur.close)

    async def ping(self) -> None:
        await self._run(self._execute_sync, "SELECT 1", ())

    def is_closed(self) -> bool:
        return self._closed

    async def close(self) -> None:
        if self._closed:
            return
        try:
            await self._worker.submit(self._conn.close)
        finally:
            self._closed = True
            self._worker.stop()

    def terminate(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._worker.fire(self._conn.close)
        self._worker.stop()

    def translate(self, exc: BaseException) -> DatabaseError | None:
        if not isinstance(exc, sqlite3.Error):
            return None
        message = str(exc)
        name = getattr(exc, "sqlite_errorname", "") or ""
        cls = _BY_ERRORNAME.get(name)
        if cls is None:
            if isinstance(exc, sqlite3.ProgrammingError) and "closed" in message.lower():
                cls = InterfaceError
            elif isinstance(exc, sqlite3.ProgrammingError) and "binding parameter" in message:
                cls = DataError
            elif isinstance(exc, sqlite3.InterfaceError):
                cls = DataError if "binding" in message.lower() else InterfaceError
            else:
                cls = error_class_for_sqlite_message(message)
        table = None
        if cls in (UniqueViolation, NotNullViolation) and ":" in message:
            table = message.split(":", 1)[1].strip().split(".", 1)[0] or None
        return cls(message, table=table, context={"sqlite_error": name} if name else None)

    async def server_version(self) -> tuple[tuple[int, ...], dict[str, Any]]:
        return parse_version(sqlite3.sqlite_version), {}


def _open(database: str, busy_timeout: float, is_memory: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(
        database,
        timeout=busy_timeout,
        isolation_level=None,
        check_same_thread=False,
        uri=database.startswith("file:"),
        cached_statements=256,
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA case_sensitive_like = ON")
        if not is_memory:
            conn.execute("PRAGMA journal_mode = WAL").fetchall()
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.create_function("REGEXP", 2, _regexp, deterministic=True)
    except BaseException:
        conn.close()
        raise
    return conn


async def connect_sqlite(
    database: str, *, busy_timeout: float = 5.0, is_memory: bool = False
) -> SQLiteConnection:
    """Open ``database`` (a path, ``:memory:`` or a ``file:`` URI) on a fresh thread."""
    worker = _Worker()
    try:
        conn = await worker.submit(_open, database, busy_timeout, is_memory)
    except sqlite3.Error as exc:
        worker.stop()
        raise OperationalError(f"cannot open SQLite database {database!r}: {exc}") from exc
    except BaseException:
        worker.stop()
        raise
    return SQLiteConnection(conn, worker)
