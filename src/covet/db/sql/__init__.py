"""A small SQL query builder usable without models; the ORM compiles through it too.

    from covet.db.sql import table, select, func, compile

    users = table("users")
    q = (select(users.c.country, func.count().label("n"))
         .select_from(users)
         .where(users.c.active == True, users.c.age >= 18)
         .group_by(users.c.country)
         .order_by(func.count().desc())
         .limit(10))
    sql, params = compile(q, db.dialect)
    rows = await db.fetch_all(sql, params)     # or: await fetch_all(db, q)

Every value becomes a placeholder; every identifier is quoted by the dialect.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    JsonCompare,
    JsonHasKeys,
    JsonKey,
    JsonText,
    JsonTypeIs,
    Like,
    Literal,
    Not,
    NotTrue,
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
    "JsonCompare",
    "JsonHasKeys",
    "JsonKey",
    "JsonText",
    "JsonTypeIs",
    "Like",
    "Literal",
    "Not",
    "NotTrue",
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
        found = _first_table(c)
        if found is not None:
            stmt.from_ = found
            break
    return stmt


def _first_table(node: Any) -> Table | None:
    """The table of the first column found inside an expression (depth first)."""
    if isinstance(node, Column):
        return node.table if isinstance(node.table, Table) else None
    children: tuple[Any, ...] = ()
    if isinstance(node, (Alias, Cast)):
        children = (node.expr,)
    elif isinstance(node, Func):
        children = node.args
    elif isinstance(node, BinOp):
        children = (node.left, node.right)
    elif isinstance(node, Case):
        children = tuple(x for pair in node.whens for x in pair)
    for child in children:
        found = _first_table(child)
        if found is not None:
            return found
    return None


def insert(
    tbl: Table,
    values: dict[str, Any] | list[dict[str, Any]],
    *,
    returning: Sequence[str] = (),
    on_conflict: Sequence[str] = (),
    update_columns: Sequence[str] | None = None,
) -> Insert:
    """``INSERT`` one row (a dict) or many rows (a list of dicts with the same keys).

    ``update_columns`` makes it an upsert: on a conflict on ``on_conflict`` (the unique
    columns; PostgreSQL and SQLite need them, MySQL uses any unique key) those columns
    take the new values; ``update_columns=[]`` ignores the conflicting row (with no
    ``on_conflict`` columns: any unique violation, ``ON CONFLICT DO NOTHING``).
    ``returning`` adds ``RETURNING`` where the backend supports it.
    """
    rows = [values] if isinstance(values, dict) else list(values)
    if not rows:
        raise ValueError("insert() needs at least one row")
    cols = list(rows[0])
    for r in rows:
        if list(r) != cols:
            raise ValueError("every inserted row needs the same columns in the same order")
    return Insert(
        tbl,
        cols,
        [[r[c] for c in cols] for r in rows],
        returning=returning,
        conflict_target=on_conflict,
        update_columns=update_columns,
    )


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
