"""Escape hatches: raw SQL and Python code (data migrations) inside a migration."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from covet.db.dialects import Dialect
from covet.orm.migrations.operations import Operation
from covet.orm.migrations.serializer import render_value
from covet.orm.migrations.state import MigrationError, ProjectState

__all__ = ("RunPython", "RunSQL")


class RunSQL(Operation):
    """Raw SQL (a statement or a list); irreversible without ``backwards``."""

    def __init__(
        self, forwards: str | Sequence[str], backwards: str | Sequence[str] | None = None
    ) -> None:
        self.forwards = [forwards] if isinstance(forwards, str) else list(forwards)
        self.backwards = (
            None
            if backwards is None
            else ([backwards] if isinstance(backwards, str) else list(backwards))
        )
        self.reversible = self.backwards is not None

    def state_forwards(self, state: ProjectState) -> None:
        return None  # raw SQL is opaque to the state

    def forwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        return list(self.forwards)

    def backwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        if self.backwards is None:
            raise MigrationError("RunSQL has no backwards SQL: this migration cannot be reverted")
        return list(self.backwards)

    def describe(self) -> str:
        return "raw SQL"

    def source(self) -> str:
        return f"RunSQL({render_value(self.forwards)}, {render_value(self.backwards)})"


DataFunction = Callable[[Any], Awaitable[None] | None]


class RunPython(Operation):
    """Call ``forwards(db)`` (sync or async) — data migrations; ``backwards`` to revert."""

    def __init__(self, forwards: DataFunction, backwards: DataFunction | None = None) -> None:
        self.forwards = forwards
        self.backwards = backwards
        self.reversible = backwards is not None

    def state_forwards(self, state: ProjectState) -> None:
        return None

    def forwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        return []

    def backwards_sql(
        self, dialect: Dialect, before: ProjectState, after: ProjectState
    ) -> list[str]:
        return []

    async def run(self, db: Any, *, backwards: bool = False) -> None:
        fn = self.backwards if backwards else self.forwards
        if fn is None:
            raise MigrationError(
                "RunPython has no backwards function: this migration cannot be reverted"
            )
        result = fn(db)
        if inspect.isawaitable(result):
            await result

    def describe(self) -> str:
        return f"run Python {getattr(self.forwards, '__name__', 'function')}"

    def source(self) -> str:
        back = getattr(self.backwards, "__name__", None)
        return f"RunPython({self.forwards.__name__}, {back})"
