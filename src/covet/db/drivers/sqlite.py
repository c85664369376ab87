"""SQLite over the stdlib ``sqlite3`` module, on worker threads shared per database file.

Every call on a connection runs on the worker thread it was assigned
(``sqlite_workers``), so the event loop never blocks on disk and the sqlite3 object is
only ever touched by one thread at a time. A statement refused with ``SQLITE_BUSY``
waits for the write lock on the event loop, not in the thread, and is run again until
``busy_timeout`` passes. Files get ``journal_mode=WAL``, ``synchronous=NORMAL`` and
``foreign_keys=ON``; every connection gets ``case_sensitive_like=ON`` and a ``REGEXP``
function.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import functools
import itertools
import re
import sqlite3
import uuid
import weakref
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any, TypeVar

from covet.db.drivers.base import DriverConnection, Params, parse_version
from covet.db.drivers.sqlite_workers import BUSY_BACKOFF, FileWorkers, Worker, assign_worker
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

#: SQLITE_BUSY and SQLITE_BUSY_RECOVERY: the lock is taken, nothing was done, try again
#: (not SQLITE_BUSY_SNAPSHOT: a transaction that read an old snapshot can never write)
_BUSY_CODES = frozenset({5, 261})

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


def _is_busy(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorcode", None) in _BUSY_CODES


async def _run_waiting_for_lock(
    files: FileWorkers,
    worker: Worker,
    busy_timeout: float,
    refused: sqlite3.Error,
    fn: Callable[..., T],
    *args: Any,
) -> T:
    """Run again a call refused with SQLITE_BUSY once the lock may be free, until
    ``busy_timeout`` seconds have passed (then the last refusal is raised). Only calls
    that did nothing when refused come here: one statement, or a whole batch
    (``executemany`` runs in a transaction of its own)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + busy_timeout
    for delay in itertools.chain(BUSY_BACKOFF, itertools.repeat(BUSY_BACKOFF[-1])):
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise refused
        await files.wait_for_lock(min(delay, remaining))
        try:
            return await worker.submit(fn, *args)
        except sqlite3.Error as exc:
            if not _is_busy(exc):
                raise
            refused = exc
    raise AssertionError("unreachable")  # pragma: no cover


class SQLiteConnection(DriverConnection):
    """A ``sqlite3.Connection`` driven from a worker thread of its database file."""

    def __init__(
        self, conn: sqlite3.Connection, files: FileWorkers, worker: Worker, busy_timeout: float
    ) -> None:
        super().__init__()
        self._conn = conn
        self._files = files
        self._worker = worker
        self._busy_timeout = busy_timeout
        self._closed = False
        # gives the worker back when the connection is closed or garbage collected
        self._unassign = weakref.finalize(self, files.unassign, worker)

    @property
    def raw(self) -> sqlite3.Connection:
        """The underlying ``sqlite3.Connection`` (use it only through this connection's
        worker thread)."""
        return self._conn

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            raise InterfaceError("the SQLite connection is closed")
        try:
            try:
                result = await self._worker.submit(fn, *args)
            except sqlite3.Error as exc:
                if not _is_busy(exc):
                    raise
                result = await _run_waiting_for_lock(
                    self._files, self._worker, self._busy_timeout, exc, fn, *args
                )
        except sqlite3.Error as exc:
            raise self.translate(exc) from exc  # type: ignore[misc]
        files = self._files
        if files.waiters and not self._conn.in_transaction:
            files.notify()  # this connection holds no lock now
        return result

    # -- thread-side helpers ----------------------------------------------------

    def _execute_sync(self, sql: str, params: Sequence[Any]) -> int:
        cur = self._conn.execute(sql, params)
        try:
            return cur.rowcount
        finally:
            cur.close()

    def _execute_many_sync(self, sql: str, seq: list[Sequence[Any]]) -> int:
        conn = self._conn
        if conn.in_transaction:
            cur = conn.executemany(sql, seq)
        else:  # all or nothing, and a refusal of the lock comes before any row
            conn.execute("BEGIN IMMEDIATE")
            try:
                cur = conn.executemany(sql, seq)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
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
            self._unassign()
            if self._files.waiters:
                self._files.notify()

    def terminate(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._worker.fire(self._conn.close)
        self._unassign()

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


def _open(database: str, is_memory: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(
        database,
        timeout=0,  # never wait in the shared thread: SQLITE_BUSY waits on the loop
        isolation_level=None,
        check_same_thread=False,
        uri=database.startswith("file:"),
        cached_statements=256,
    )
    try:
        conn.execute("PRAGMA busy_timeout = 0")
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
    database: str, *, busy_timeout: float = 5.0, is_memory: bool = False, threads: int = 1
) -> SQLiteConnection:
    """Open ``database`` (a path, ``:memory:`` or a ``file:`` URI) on one of its file's
    ``threads`` worker threads; ``busy_timeout`` is how long a statement waits for
    another connection's write lock."""
    if busy_timeout < 0:
        raise ValueError(f"busy_timeout must not be negative, not {busy_timeout}")
    files, worker = assign_worker(database, threads)
    try:
        try:
            conn = await worker.submit(_open, database, is_memory)
        except sqlite3.Error as exc:
            if not _is_busy(exc):
                raise
            conn = await _run_waiting_for_lock(
                files, worker, busy_timeout, exc, _open, database, is_memory
            )
    except sqlite3.Error as exc:
        files.unassign(worker)
        raise OperationalError(f"cannot open SQLite database {database!r}: {exc}") from exc
    except BaseException:
        files.unassign(worker)
        raise
    return SQLiteConnection(conn, files, worker, busy_timeout)
