"""A connection pool, the same over every driver.

* at most ``max_size`` connections; ``min_size`` are opened by ``open()``;
* ``acquire()`` waits up to ``acquire_timeout`` seconds, then raises ``PoolTimeout``;
  waiters are served first come, first served, and one timer per pool (not one per
  wait) ends the waits that run out, since their deadlines come in queue order;
* checkout health check: a connection known to be closed is dropped without I/O; one
  idle longer than ``idle_ping`` seconds, or idle since before the last connection
  failure this pool saw, is pinged first; one older than ``recycle`` seconds is replaced;
* ``release(conn, discard=True)`` (or a connection marked ``broken``) closes it; the
  next ``acquire()`` opens a fresh one, so the pool recovers by itself after a server
  restart.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from covet.db.drivers.base import DriverConnection
from covet.db.exceptions import DatabaseError, InterfaceError, PoolTimeout

__all__ = ("Pool", "PoolStats")

#: seconds a checkout ping may take before the connection is given up as dead
_PING_TIMEOUT = 5.0


class _WaitExpired(Exception):
    """A task's wait for a slot ran out (becomes PoolTimeout in that task)."""


@dataclass
class PoolStats:
    """Counters since the pool was opened."""

    acquired: int = 0
    created: int = 0
    discarded: int = 0
    timeouts: int = 0
    pings: int = 0


class Pool:
    """Connections for one server URL."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[DriverConnection]],
        *,
        min_size: int = 1,
        max_size: int = 10,
        acquire_timeout: float = 30.0,
        recycle: float | None = None,
        idle_ping: float = 30.0,
        label: str = "pool",
    ) -> None:
        self.validate_options(
            min_size=min_size,
            max_size=max_size,
            acquire_timeout=acquire_timeout,
            recycle=recycle,
            idle_ping=idle_ping,
        )
        self._connect = connect
        self.min_size = min_size
        self.max_size = max_size
        self.acquire_timeout = acquire_timeout
        self.recycle = recycle
        self.idle_ping = idle_ping
        self.label = label
        self.stats = PoolStats()
        self._idle: collections.deque[DriverConnection] = collections.deque()
        self._in_use: set[DriverConnection] = set()
        self._free_slots = max_size
        #: tasks waiting for a slot, with their deadlines (in order: the timeout is fixed)
        self._waiters: collections.deque[tuple[asyncio.Future[None], float]] = collections.deque()
        self._expiry: asyncio.TimerHandle | None = None
        self._closed = False
        self._failure_at = 0.0

    @staticmethod
    def validate_options(
        *,
        min_size: int,
        max_size: int,
        acquire_timeout: float,
        recycle: float | None,
        idle_ping: float,
    ) -> None:
        """Raise ValueError for pool options that make no sense."""
        if max_size < 1:
            raise ValueError(f"max_size must be at least 1, not {max_size}")
        if not 0 <= min_size <= max_size:
            raise ValueError(
                f"min_size must be between 0 and max_size ({max_size}), not {min_size}"
            )
        if acquire_timeout <= 0:
            raise ValueError(f"acquire_timeout must be positive, not {acquire_timeout}")
        if recycle is not None and recycle <= 0:
            raise ValueError(f"recycle must be positive, not {recycle}")
        if idle_ping < 0:
            raise ValueError(f"idle_ping must not be negative, not {idle_ping}")

    def __repr__(self) -> str:
        return (
            f"<Pool {self.label} size={self.size} idle={len(self._idle)} "
            f"in_use={len(self._in_use)} max={self.max_size}>"
        )

    @property
    def size(self) -> int:
        """Open connections, idle plus in use."""
        return len(self._idle) + len(self._in_use)

    @property
    def idle(self) -> int:
        return len(self._idle)

    @property
    def in_use(self) -> int:
        return len(self._in_use)

    @property
    def closed(self) -> bool:
        return self._closed

    async def open(self) -> None:
        """Open ``min_size`` connections (fails fast if the server is unreachable)."""
        for _ in range(self.min_size - self.size):
            conn = await self._create()
            self._idle.append(conn)

    async def _create(self) -> DriverConnection:
        conn = await self._connect()
        self.stats.created += 1
        return conn

    def note_failure(self) -> None:
        """A connection of this pool failed: ping idle ones before their next use."""
        self._failure_at = time.monotonic()

    @property
    def waiting(self) -> int:
        """Tasks waiting in ``acquire()`` for a connection."""
        return sum(not fut.done() for fut, _ in self._waiters)

    async def acquire(self) -> DriverConnection:
        """A healthy connection; PoolTimeout after ``acquire_timeout`` seconds."""
        if self._closed:
            raise InterfaceError(f"the connection pool {self.label} is closed")
        if self._free_slots and not self._waiters:
            self._free_slots -= 1
        else:
            await self._wait_for_slot()
        try:
            conn = await self._checkout()
        except BaseException:
            self._release_slot()
            raise
        self._in_use.add(conn)
        self.stats.acquired += 1
        return conn

    async def _wait_for_slot(self) -> None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        deadline = loop.time() + self.acquire_timeout
        self._waiters.append((fut, deadline))
        if self._expiry is None:
            self._expiry = loop.call_at(deadline, self._expire_waiters)
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                self._release_slot()  # handed a slot just as we were cancelled: pass it on
            raise
        except _WaitExpired:
            self.stats.timeouts += 1
            raise PoolTimeout(
                f"no connection available from {self.label} within {self.acquire_timeout:g}s "
                f"(max_size={self.max_size}, all in use)",
                context={"max_size": self.max_size, "acquire_timeout": self.acquire_timeout},
            ) from None

    def _expire_waiters(self) -> None:
        self._expiry = None
        waiters = self._waiters
        if not waiters:
            return
        loop = waiters[0][0].get_loop()
        now = loop.time()
        while waiters:
            fut, deadline = waiters[0]
            if fut.done():
                waiters.popleft()
            elif deadline <= now:
                waiters.popleft()
                fut.set_exception(_WaitExpired())
            else:
                self._expiry = loop.call_at(deadline, self._expire_waiters)
                return

    def _release_slot(self) -> None:
        """Hand the slot to the longest waiting task, else free it."""
        waiters = self._waiters
        while waiters:
            fut, _ = waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return
        self._free_slots += 1

    async def _checkout(self) -> DriverConnection:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()  # most recently used first: warm, least likely stale
            if conn.is_closed() or conn.broken:
                self._drop(conn)
                continue
            if self.recycle is not None and now - conn.created_at > self.recycle:
                await self._close_quietly(conn)
                continue
            if now - conn.last_used > self.idle_ping or conn.last_used <= self._failure_at:
                self.stats.pings += 1
                try:
                    await asyncio.wait_for(conn.ping(), _PING_TIMEOUT)
                except (DatabaseError, OSError, asyncio.TimeoutError):
                    self._drop(conn)
                    continue
            return conn
        return await self._create()

    def release(self, conn: DriverConnection, *, discard: bool = False) -> None:
        """Give ``conn`` back (or close it when ``discard``, broken or the pool is closed)."""
        if conn not in self._in_use:
            return
        self._in_use.discard(conn)
        try:
            if discard or conn.broken or conn.is_closed() or self._closed:
                if conn.broken:
                    self.note_failure()
                self._drop(conn)
            else:
                conn.last_used = time.monotonic()
                self._idle.append(conn)
        finally:
            self._release_slot()

    def _drop(self, conn: DriverConnection) -> None:
        self.stats.discarded += 1
        try:
            conn.terminate()
        except Exception:  # already gone: nothing left to free
            conn.broken = True

    async def _close_quietly(self, conn: DriverConnection) -> None:
        self.stats.discarded += 1
        try:
            await asyncio.wait_for(conn.close(), 5)
        except (Exception, asyncio.TimeoutError):
            conn.terminate()

    def _fail_waiters(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        while self._waiters:
            fut, _ = self._waiters.popleft()
            if not fut.done():
                fut.set_exception(InterfaceError(f"the connection pool {self.label} is closed"))

    async def close(self) -> None:
        """Close idle connections now (tasks waiting for one get InterfaceError); in-use
        ones are closed when released."""
        self._closed = True
        self._fail_waiters()
        while self._idle:
            await self._close_quietly(self._idle.pop())

    def terminate(self) -> None:
        """Close everything at once, without I/O (for a pool whose event loop is gone)."""
        self._closed = True
        self._expiry = None  # its loop is gone or closing: nothing to cancel there
        for conn in [*self._idle, *self._in_use]:
            try:
                conn.terminate()
            except Exception:
                conn.broken = True
        self._idle.clear()
        self._in_use.clear()

    def connections(self) -> list[DriverConnection]:
        """Every open connection (idle and in use), for inspection and tests."""
        return [*self._idle, *self._in_use]
