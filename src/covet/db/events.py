"""Watching the statements a ``Database`` runs: ``QueryEvent``, listeners, capture.

``db.add_query_listener(fn)`` calls ``fn(event)`` after every statement that database
runs (pooled, in a transaction or on a held connection, ORM queries included), with
its SQL, parameters, duration and error. ``with db.capture_queries() as queries:``
collects the events of the current task (and the tasks it starts) during the block:
the way to assert "no N+1 queries" in a test. Without listeners the query path pays
one truth test per statement.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ("QueryEvent", "QueryListener", "QueryObservers")

T = TypeVar("T")

logger = logging.getLogger("covet.db")


@dataclass(frozen=True, slots=True)
class QueryEvent:
    """One statement a database ran (or failed to run)."""

    #: the alias of the ``Database``
    database: str
    #: the driver call: ``execute``, ``execute_many``, ``fetch_all``, ``fetch_rows``,
    #: ``fetch_one``, ``insert``, ``iterate`` or ``commit``
    method: str
    sql: str
    #: the parameters as given (a list of parameter sets for ``execute_many``); they
    #: may hold personal data or secrets: mind what a listener logs
    params: Sequence[Any] | None
    #: seconds from the call to its result (for ``iterate``: to the end of the stream)
    duration: float
    #: the exception the statement raised, or None
    error: BaseException | None = None


QueryListener = Callable[[QueryEvent], None]


class QueryObservers:
    """The listeners of one database, and its capture blocks."""

    def __init__(self, alias: str) -> None:
        self.alias = alias
        #: read on every statement: empty means nobody watches
        self.listeners: list[QueryListener] = []
        self._captures: ContextVar[tuple[list[QueryEvent], ...]] = ContextVar(
            f"covet_db_capture_{alias}_{id(self)}", default=()
        )
        self._capturing = 0

    def add(self, listener: QueryListener) -> None:
        self.listeners.append(listener)

    def remove(self, listener: QueryListener) -> None:
        """Remove ``listener`` (ValueError when it was not added)."""
        self.listeners.remove(listener)

    def emit(self, event: QueryEvent) -> None:
        """Call every listener; a failing listener is logged, never breaks the query."""
        for listener in tuple(self.listeners):
            try:
                listener(event)
            except Exception:
                logger.exception("query listener %r failed", listener)

    async def observe(
        self, call: Awaitable[T], method: str, sql: str, params: Sequence[Any] | None
    ) -> T:
        """Await ``call`` (one statement) and report it."""
        start = time.perf_counter()
        try:
            result = await call
        except BaseException as exc:
            self.emit(
                QueryEvent(self.alias, method, sql, params, time.perf_counter() - start, exc)
            )
            raise
        self.emit(QueryEvent(self.alias, method, sql, params, time.perf_counter() - start))
        return result

    def _record(self, event: QueryEvent) -> None:
        for captured in self._captures.get():
            captured.append(event)

    @contextmanager
    def capture(self) -> Iterator[list[QueryEvent]]:
        """Collect the events of this context (the task, and tasks it starts) in a list.

        Blocks nest: an outer block also sees the inner block's statements.
        """
        captured: list[QueryEvent] = []
        token = self._captures.set((*self._captures.get(), captured))
        if not self._capturing:
            self.listeners.append(self._record)
        self._capturing += 1
        try:
            yield captured
        finally:
            self._capturing -= 1
            if not self._capturing:
                self.listeners.remove(self._record)
            self._captures.reset(token)
