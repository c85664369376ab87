"""A connection pool, the same over every driver.

* at most ``max_size`` connections; ``min_size`` are opened by ``open()``;
* ``acquire()`` waits up to ``acquire_timeout`` seconds, then raises ``PoolTimeout``;
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
from typing import Any

from covet.db.drivers.base import DriverConnection
from covet.db.exceptions import DatabaseError, InterfaceError, PoolTimeout

__all__ = ("Pool", "PoolStats")

#: seconds a checkout ping may take before the connection is given up as dead
_PING_TIMEOUT = 5.0


@dataclass
class PoolStats:
    """Counters since the pool was opened."""

    acquired: int = 0
    created: int = 0
    discarded: int = 0
    timeouts: int = 0
    pings: int = 0


#: ``asyncio.timeout`` (Python 3.11+), None before
_timeout: Any = getattr(asyncio, "timeout", None)


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
        self._slots = asyncio.Semaphore(max_size)
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

    async def acquire(self) -> DriverConnection:
        """A healthy connection; PoolTimeout after ``acquire_timeout`` seconds."""
        if self._closed:
            raise InterfaceError(f"the connection pool {self.label} is closed")
        try:
            if self._slots.locked():
                if _timeout is not None:  # one timer on this task (wait_for adds a task)
                    async with _timeout(self.acquire_timeout):
                        await self._slots.acquire()
                else:  # Python 3.10
                    await asyncio.wait_for(self._slots.acquire(), self.acquire_timeout)
            else:
                await self._slots.acquire()  # free slot: no timer task needed
        except asyncio.TimeoutError:
            self.stats.timeouts += 1
            raise PoolTimeout(
                f"no connection available from {self.label} within {self.acquire_timeout:g}s "
                f"(max_size={self.max_size}, all in use)",
                context={"max_size": self.max_size, "acquire_timeout": self.acquire_timeout},
            ) from None
        try:
            conn = await self._checkout()
        except BaseException:
            self._slots.release()
            raise
        self._in_use.add(conn)
        self.stats.acquired += 1
        return conn

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
            self._slots.release()

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

    async def close(self) -> None:
        """Close idle connections now; in-use ones are closed when released."""
        self._closed = True
        while self._idle:
            await self._close_quietly(self._idle.pop())

    def terminate(self) -> None:
        """Close everything at once, without I/O (for a pool whose event loop is gone)."""
        self._closed = True
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
