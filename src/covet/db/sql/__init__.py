"""A small SQL query builder usable without models; the ORM compiles through it too.

    from covet.db.sql import table, select, func, compile

    users = table("users")
    q = (select(users.c.country, func.count().label("n"))
         .select_from(users)
         .where(users.c.active == True, users.c.age >= 18)
         .group(users.c.country)
         .order_by(func.count().desc())
         .limit(10))
    sql, params = compile(q, db.dialect)
    rows = await db.fetch_all(sql, params)     # or: await fetch_all(db, q)

Every value becomes a placeholder; every identifier is quoted by the dialect.
"""

from __future__ import annotations

from typing import Any

from covet.db.sql.compiler import Compiler, compile
from covet.db.sql.nodes import (
    Alias,
    And,
    Between,
    BinOp,
    Case,
    Cast,
    Column,
    Delete,
    Derived,
    Exists,
    Expr,
    Func,
    In,
    Insert,
    IsNull,
    Join,
    Like,
    Literal,
    Not,
    Or,
    OrderBy,
    Param,
    Select,
    Star,
    Table,
    Update,
)

__all__ = (
    "Alias",
    "And",
    "Between",
    "BinOp",
    "Case",
    "Cast",
    "Column",
    "Compiler",
    "Delete",
    "Derived",
    "Exists",
    "Expr",
    "Func",
    "In",
    "Insert",
    "IsNull",
    "Join",
    "Like",
    "Literal",
    "Not",
    "Or",
    "OrderBy",
    "Param",
    "Select",
    "Star",
    "Table",
    "Update",
    "and_",
    "compile",
    "delete",
    "execute",
    "fetch_all",
    "fetch_one",
    "func",
    "insert",
    "not_",
    "or_",
    "param",
    "select",
    "table",
    "update",
)


def table(name: str, alias: str | None = None) -> Table:
    """A table reference; columns are ``t.c.name`` or ``t.c["name"]``."""
    return Table(name, alias)


def select(*columns: Expr) -> Select:
    """Start a SELECT; ``select_from`` defaults to the table of the first column."""
    stmt = Select(columns)
    for c in columns:
        inner = c.expr if isinstance(c, Alias) else c
        if isinstance(inner, Column) and inner.table is not None:
            stmt.from_ = inner.table
            break
    return stmt


def insert(tbl: Table, values: dict[str, Any] | list[dict[str, Any]]) -> Insert:
    """``INSERT`` one row (a dict) or many rows (a list of dicts with the same keys)."""
    rows = [values] if isinstance(values, dict) else list(values)
    if not rows:
        raise ValueError("insert() needs at least one row")
    cols = list(rows[0])
    for r in rows:
        if list(r) != cols:
            raise ValueError("every inserted row needs the same columns in the same order")
    return Insert(tbl, cols, [[r[c] for c in cols] for r in rows])


def update(tbl: Table, values: dict[str, Any], where: Expr | None = None) -> Update:
    return Update(tbl, values, where)


def delete(tbl: Table, where: Expr | None = None) -> Delete:
    return Delete(tbl, where)


def param(value: Any) -> Param:
    """A bound value used where an expression is needed (``param(1) + t.c.x``)."""
    return Param(value)


def and_(*conds: Expr) -> And:
    return And(*conds)


def or_(*conds: Expr) -> Or:
    return Or(*conds)


def not_(cond: Expr) -> Not:
    return Not(cond)


class _FuncFactory:
    """``func.count()``, ``func.lower(t.c.name)``, ``func.sum(t.c.x, distinct=True)``."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        def make(*args: Any, distinct: bool = False) -> Func:
            return Func(name, *args, distinct=distinct)

        return make


func = _FuncFactory()


async def fetch_all(db: Any, stmt: Select) -> list[Any]:
    """Compile ``stmt`` for ``db.dialect`` and return every row."""
    sql, params = compile(stmt, db.dialect)
    return list(await db.fetch_all(sql, params))


async def fetch_one(db: Any, stmt: Select) -> Any:
    sql, params = compile(stmt, db.dialect)
    return await db.fetch_one(sql, params)


async def execute(db: Any, stmt: Insert | Update | Delete) -> int:
    sql, params = compile(stmt, db.dialect)
    return int(await db.execute(sql, params))
