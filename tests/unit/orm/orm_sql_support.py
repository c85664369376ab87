"""Golden-SQL helpers for the ORM unit tests: compile a QuerySet for a dialect without a
database, and write expected SQL once for every dialect."""

from __future__ import annotations

from typing import Any

from covet.db.dialects import get_dialect
from covet.orm.query import QuerySet

DIALECTS = ["sqlite", "postgresql", "mysql"]


class FakeDB:
    """Just enough of a Database for compiling: the dialect."""

    def __init__(self, name: str) -> None:
        self.dialect = get_dialect(name)


def compiled(qs: QuerySet[Any], dialect: str) -> tuple[str, list[Any]]:
    """The ``(sql, params)`` ``qs`` runs on ``dialect``."""
    return qs.using(FakeDB(dialect)).sql()


def q(sql: str, dialect: str) -> str:
    """Goldens use "ident" and ? placeholders; adapt them to the dialect."""
    if dialect == "mysql":
        sql = sql.replace('"', "`")
    out, n = [], 0
    for ch in sql:
        if ch == "?":
            n += 1
            out.append({"sqlite": "?", "postgresql": f"${n}", "mysql": "%s"}[dialect])
        else:
            out.append(ch)
    return "".join(out)


def not_true(sql: str, dialect: str) -> str:
    """A negated condition: true when ``sql`` is false or NULL (``exclude()``, ``~Q``)."""
    return f"NOT COALESCE(({sql}), 0)" if dialect == "sqlite" else f"({sql}) IS NOT TRUE"
