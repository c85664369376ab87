"""The uniform interface the pool and ``Database`` use over the three drivers.

A driver connection runs one operation at a time (the caller serialises), translates
driver exceptions into the ``covet.db`` tree itself, and reports ``is_closed()``
cheaply so the pool can drop dead connections without a round trip.
"""

from __future__ import annotations

import abc
import time
from collections.abc import AsyncGenerator, Sequence
from typing import Any

from covet.db.exceptions import DatabaseError

__all__ = ("DriverConnection", "Params")

Params = Sequence[Any] | None


class DriverConnection(abc.ABC):
    """One open connection to the server."""

    def __init__(self) -> None:
        self.created_at = time.monotonic()
        self.last_used = self.created_at
        #: set when an operation failed in a way that leaves the connection unusable
        self.broken = False

    #: True when ``iterate`` occupies the connection until the stream ends (MySQL's
    #: unbuffered cursors); otherwise other queries may run between fetched chunks
    streams_exclusively: bool = False
    #: True when a query cancelled mid-way leaves the connection usable (asyncpg cancels
    #: server-side; SQLite's thread finishes the call); else it is discarded
    cancel_safe: bool = True
    #: True when ``iterate`` needs an open transaction (PostgreSQL's server-side cursors)
    iterate_needs_transaction: bool = False

    @abc.abstractmethod
    async def execute(self, sql: str, params: Params) -> int:
        """Run one statement; the number of rows affected (-1 when unknown)."""

    @abc.abstractmethod
    async def execute_many(self, sql: str, seq_of_params: Sequence[Sequence[Any]]) -> int:
        """Run one statement per parameter set; the rows affected in total (-1 when unknown)."""

    @abc.abstractmethod
    async def fetch_all(self, sql: str, params: Params) -> list[Any]:
        """All rows as records."""

    async def fetch_rows(self, sql: str, params: Params) -> Sequence[Any]:
        """All rows as positional sequences (no by-name access): what the ORM reads.
        Drivers whose records cost more than their plain tuples override this."""
        return await self.fetch_all(sql, params)

    @abc.abstractmethod
    async def fetch_one(self, sql: str, params: Params) -> Any | None:
        """The first row, or None."""

    @abc.abstractmethod
    async def insert(self, sql: str, params: Params) -> Any:
        """Run an INSERT and return the id the server generated (``lastrowid``)."""

    @abc.abstractmethod
    def iterate(self, sql: str, params: Params, chunk_size: int) -> AsyncGenerator[Any, None]:
        """Stream rows without holding the whole result in memory."""

    @abc.abstractmethod
    async def ping(self) -> None:
        """A round trip proving the connection works; raises ConnectionLost otherwise."""

    @abc.abstractmethod
    def is_closed(self) -> bool:
        """True when the connection is known to be unusable (no I/O)."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Close gracefully."""

    @abc.abstractmethod
    def terminate(self) -> None:
        """Close at once, without I/O (any event loop, any state)."""

    @abc.abstractmethod
    def translate(self, exc: BaseException) -> DatabaseError | None:
        """The ``covet.db`` error for a driver exception, or None if it is not one."""

    async def commit(self) -> None:
        """``COMMIT``; raises TransactionError when the server rolled back instead."""
        await self.execute("COMMIT", None)

    async def reset_schema_cache(self) -> None:
        """Forget what the driver cached about the schema (prepared statements and their
        types), after DDL changed it. A no-op for drivers that cache nothing stale."""
        return None

    async def server_version(self) -> tuple[tuple[int, ...], dict[str, Any]]:
        """The server version and facts for ``Dialect.configure`` (e.g. ``is_mariadb``)."""
        return (0,), {}


def parse_version(text: str) -> tuple[int, ...]:
    """``"15.4 (Debian)"`` -> ``(15, 4)``."""
    numbers: list[int] = []
    for part in text.strip().split(" ")[0].split("-")[0].split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        if not digits:
            break
        numbers.append(int(digits))
    return tuple(numbers) or (0,)
