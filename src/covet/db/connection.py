"""``Connection`` (one pooled connection held by a task) and ``Transaction``.

Inside ``async with db.transaction():`` or ``async with db.connection():`` the held
connection is bound to the current task through a context variable, so every query
made through the same ``Database`` in that task (the ORM's included) uses it. Tasks
started inside inherit the binding; the connection serialises their operations.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from contextvars import Token
from types import TracebackType
from typing import TYPE_CHECKING, Any

from covet.db.dialects import Dialect
from covet.db.drivers.base import DriverConnection, Params
from covet.db.events import QueryEvent
from covet.db.exceptions import (
    ConnectionLost,
    DatabaseError,
    InterfaceError,
    NotSupportedError,
    TransactionError,
)
from covet.db.pool import Pool

if TYPE_CHECKING:
    from covet.db.database import Database

__all__ = ("Connection", "Transaction")


class _Turns:
    """One operation at a time on a connection, waiting tasks served in arrival order.

    A free turn is taken without awaiting anything (``asyncio.Lock.acquire`` is a
    coroutine even when the lock is free, and this is on every statement's path).
    Tasks wait only while the turn is taken, and ``give_back`` hands it straight to the
    next live waiter, so a free turn means nobody is waiting.
    """

    __slots__ = ("_busy", "_waiters")

    def __init__(self) -> None:
        self._busy = False
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    def try_take(self) -> bool:
        if self._busy:
            return False
        self._busy = True
        return True

    async def take(self) -> None:
        if self.try_take():
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.give_back()  # handed the turn just as we were cancelled: pass it on
            raise

    def give_back(self) -> None:
        waiters = self._waiters
        while waiters:
            fut = waiters.popleft()
            if not fut.done():
                fut.set_result(None)  # the turn goes to it: still taken
                return
        self._busy = False

    async def __aenter__(self) -> None:
        await self.take()

    async def __aexit__(self, *exc_info: object) -> None:
        self.give_back()


class Connection:
    """A connection held from a pool: query methods, ``transaction()``, ``release()``."""

    def __init__(self, database: Database, raw: DriverConnection, pool: Pool) -> None:
        self._database = database
        self._raw = raw
        self._pool = pool
        self._lock = _Turns()
        self._tx_depth = 0
        self._savepoint_seq = 0
        self._stream_task: asyncio.Task[Any] | None = None
        self._released = False

    def __repr__(self) -> str:
        state = "released" if self._released else f"tx_depth={self._tx_depth}"
        return f"<Connection {self._pool.label} {state}>"

    @property
    def dialect(self) -> Dialect:
        return self._database.dialect

    @property
    def driver_connection(self) -> DriverConnection:
        """The driver-level connection (``.raw`` gives the asyncpg/asyncmy/sqlite3 object)."""
        return self._raw

    @property
    def pool(self) -> Pool:
        return self._pool

    @property
    def in_transaction(self) -> bool:
        return self._tx_depth > 0

    @property
    def released(self) -> bool:
        return self._released

    async def _call(self, method: str, *args: Any, observed: bool = False) -> Any:
        if self._released:
            raise InterfaceError("this connection was released to the pool")
        observers = self._database._observers
        if observers.listeners and not observed:
            sql = args[0] if args else method.upper()
            return await observers.observe(
                self._call(method, *args, observed=True),
                method,
                sql,
                args[1] if len(args) > 1 else None,
            )
        if self._stream_task is not None and self._stream_task is asyncio.current_task():
            # a loop left by an exception leaves its stream to the event loop's async
            # generator finalizer: give it a chance to close the stream first
            for _ in range(3):
                await asyncio.sleep(0)
                if self._stream_task is None:
                    break
        if self._stream_task is not None and self._stream_task is asyncio.current_task():
            raise InterfaceError(
                "cannot run a query on this connection while iterate() is streaming from it "
                "(MySQL streams exclusively): use fetch_all() or another connection"
            )
        turns = self._lock
        if not turns.try_take():
            await turns.take()
        try:
            raw = self._raw
            if raw.broken:
                raise ConnectionLost(
                    "the connection was lost or left in an unknown state; it will be replaced"
                )
            try:
                return await getattr(raw, method)(*args)
            except DatabaseError as exc:
                if isinstance(exc, ConnectionLost):
                    self._pool.note_failure()
                raise self._database._scrub(exc) from exc.__cause__
            except asyncio.CancelledError:
                if not raw.cancel_safe:
                    raw.broken = True
                raise
        finally:
            turns.give_back()

    async def execute(self, sql: str, params: Params = None) -> int:
        """Run one statement; the number of rows affected."""
        return int(await self._call("execute", sql, params))

    async def execute_many(self, sql: str, seq_of_params: Sequence[Sequence[Any]]) -> int:
        """Run one statement per parameter set."""
        if not seq_of_params:
            return 0
        return int(await self._call("execute_many", sql, seq_of_params))

    async def fetch_all(self, sql: str, params: Params = None) -> list[Any]:
        """Every row, as records."""
        return await self._call("fetch_all", sql, params)

    async def fetch_rows(self, sql: str, params: Params = None) -> Sequence[Any]:
        """Every row as a positional sequence (see ``Database.fetch_rows``)."""
        return await self._call("fetch_rows", sql, params)

    async def fetch_one(self, sql: str, params: Params = None) -> Any | None:
        """The first row, or None."""
        return await self._call("fetch_one", sql, params)

    async def fetch_val(self, sql: str, params: Params = None, column: int | str = 0) -> Any:
        """One value of the first row (None when there is no row)."""
        row = await self._call("fetch_one", sql, params)
        return None if row is None else row[column]

    async def insert(self, sql: str, params: Params = None) -> Any:
        """Run an INSERT as written; the first value of its ``RETURNING`` row, else the
        driver's ``lastrowid`` (what ``Database.insert_returning_id`` runs on a pool)."""
        return await self._call("insert", sql, params)

    async def insert_returning_id(self, sql: str, params: Params = None, *, pk: str = "id") -> Any:
        """Run an INSERT; the generated key (RETURNING where supported, else lastrowid)."""
        if self.dialect.supports_returning and " RETURNING " not in sql.upper():
            sql = sql + self.dialect.returning_clause([pk])
        return await self._call("insert", sql, params)

    async def insert_returning(
        self, sql: str, params: Params, returning: Sequence[str]
    ) -> Any | None:
        """Run an INSERT with ``RETURNING returning``; the returned row."""
        if not self.dialect.supports_returning:
            raise NotSupportedError(f"{self.dialect.name} does not support INSERT ... RETURNING")
        return await self.fetch_one(sql + self.dialect.returning_clause(returning), params)

    async def iterate(
        self, sql: str, params: Params = None, *, chunk_size: int = 500
    ) -> AsyncGenerator[Any, None]:
        """Stream rows; see ``Database.iterate``."""
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
        if self._released:
            raise InterfaceError("this connection was released to the pool")
        if self._raw.iterate_needs_transaction and not self._tx_depth:
            # The cursor needs a transaction; open it through Transaction so transactions
            # in the loop body become savepoints. Statements run in the loop body join it,
            # so it commits whenever the stream ends without a database error, including
            # when the loop is left early (then the async generator is closed later).
            tx = await self.transaction().start()
            try:
                async with aclosing(self.iterate(sql, params, chunk_size=chunk_size)) as inner:
                    async for row in inner:
                        yield row
            except DatabaseError:
                await tx.rollback()
                raise
            except GeneratorExit:
                await tx.commit()
                raise
            except BaseException:
                await tx.rollback()
                raise
            await tx.commit()
            return
        observers = self._database._observers
        started = time.perf_counter() if observers.listeners else None
        error: BaseException | None = None
        rows = self._raw.iterate(sql, params, chunk_size)
        exclusive = self._raw.streams_exclusively
        try:
            if exclusive:
                async with self._lock:
                    self._stream_task = asyncio.current_task()
                    try:
                        async for row in rows:
                            yield row
                    finally:
                        self._stream_task = None
                        await rows.aclose()
                return
            while True:
                async with self._lock:
                    try:
                        row = await rows.__anext__()
                    except StopAsyncIteration:
                        return
                yield row
        except DatabaseError as exc:
            if isinstance(exc, ConnectionLost):
                self._pool.note_failure()
            error = self._database._scrub(exc)
            raise error from exc.__cause__
        except (Exception, asyncio.CancelledError) as exc:
            error = exc
            raise
        finally:
            if not exclusive:
                async with self._lock:
                    await rows.aclose()
            if started is not None:
                observers.emit(
                    QueryEvent(
                        observers.alias,
                        "iterate",
                        sql,
                        params,
                        time.perf_counter() - started,
                        error,
                    )
                )

    def transaction(self, *, isolation: str | None = None) -> Transaction:
        """A transaction (or savepoint, when one is open) on this connection."""
        return Transaction(self._database, connection=self, isolation=isolation)

    async def release(self) -> None:
        """Return the connection to its pool (an open transaction is rolled back)."""
        if self._released:
            return
        discard = self._raw.broken
        if self._tx_depth and not discard:
            try:
                async with self._lock:
                    await self._raw.execute("ROLLBACK", None)
            except (DatabaseError, OSError):
                discard = True
            self._tx_depth = 0
        self._released = True
        self._pool.release(self._raw, discard=discard)

    def _discard(self) -> None:
        """Drop the connection without I/O (after cancellation or loss)."""
        if self._released:
            return
        self._released = True
        self._pool.release(self._raw, discard=True)


class Transaction:
    """``async with db.transaction():`` — BEGIN/COMMIT, or a SAVEPOINT when nested.

    Rolls back when the block raises. ``start()``, ``commit()`` and ``rollback()`` may
    also be called by hand (in the same task).
    """

    def __init__(
        self,
        database: Database,
        *,
        connection: Connection | None = None,
        isolation: str | None = None,
        using: str | None = None,
    ) -> None:
        if isolation is not None:
            database.dialect.isolation_level(isolation)  # validate early
        self._database = database
        self._connection = connection
        self._isolation = isolation
        self._using = using
        self._owns_connection = False
        self._token: Token[Connection | None] | None = None
        self._savepoint: str | None = None
        self._active = False

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise InterfaceError("the transaction has not started")
        return self._connection

    @property
    def is_savepoint(self) -> bool:
        return self._savepoint is not None

    async def __aenter__(self) -> Transaction:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._active:
            return
        if exc_type is None:
            await self.commit()
        else:
            await self.rollback()

    async def start(self) -> Transaction:
        """Open the transaction (or savepoint)."""
        if self._active:
            raise TransactionError("the transaction is already active")
        db = self._database
        conn = self._connection
        if conn is None:
            conn = db._bound_connection()
        if conn is None:
            conn = await db._hold_connection(self._using)
            self._owns_connection = True
            self._token = db._bind(conn)
        self._connection = conn
        try:
            if conn._tx_depth == 0:
                for stmt in db.dialect.begin_sql(self._isolation):
                    await conn.execute(stmt)
            else:
                if self._isolation is not None:
                    raise TransactionError("isolation can only be set on the outermost transaction")
                if not db.dialect.supports_savepoints:
                    raise NotSupportedError(f"{db.dialect.name} does not support savepoints")
                conn._savepoint_seq += 1
                self._savepoint = f"covet_sp_{conn._savepoint_seq}"
                await conn.execute(db.dialect.savepoint_sql(self._savepoint))
        except BaseException:
            await self._finish(failed=True)
            raise
        conn._tx_depth += 1
        self._active = True
        return self

    async def commit(self) -> None:
        """Commit (or release the savepoint)."""
        conn = self._ensure_active()
        failed = False
        try:
            if self._savepoint is not None:
                await conn.execute(self._database.dialect.release_savepoint_sql(self._savepoint))
            else:
                await conn._call("commit")
        except BaseException:
            failed = True
            if self._savepoint is None:
                # The server ends a transaction whose COMMIT failed; make sure of it.
                await self._quiet_rollback(conn)
            raise
        finally:
            conn._tx_depth -= 1
            self._active = False
            await self._finish(failed=failed)

    async def rollback(self) -> None:
        """Roll back (to the savepoint, when nested)."""
        conn = self._ensure_active()
        failed = False
        try:
            if self._savepoint is not None:
                await conn.execute(
                    self._database.dialect.rollback_to_savepoint_sql(self._savepoint)
                )
                await conn.execute(self._database.dialect.release_savepoint_sql(self._savepoint))
            else:
                await conn.execute("ROLLBACK")
        except ConnectionLost:
            failed = True  # the server discards the transaction with the connection
        except BaseException:
            failed = True
            raise
        finally:
            conn._tx_depth -= 1
            self._active = False
            await self._finish(failed=failed)

    def _ensure_active(self) -> Connection:
        if not self._active or self._connection is None:
            raise TransactionError("the transaction is not active")
        return self._connection

    async def _quiet_rollback(self, conn: Connection) -> None:
        try:
            await conn.execute("ROLLBACK")
        except (DatabaseError, OSError):
            conn.driver_connection.broken = True

    async def _finish(self, *, failed: bool) -> None:
        if not self._owns_connection or self._connection is None:
            return
        conn = self._connection
        if self._token is not None:
            self._database._unbind(self._token)
            self._token = None
        self._owns_connection = False
        if failed and (conn.driver_connection.broken or conn.driver_connection.is_closed()):
            conn._discard()
        else:
            await conn.release()
