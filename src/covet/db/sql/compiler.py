"""Compile AST nodes to ``(sql, params)`` for one dialect.

Dispatch is by node class (``visit_<Class>``) with vendor overrides looked up as
``visit_<Class>_<dialect.name>`` (STYLE P11): no inline ``if vendor == ...`` checks.
Values become placeholders from ``dialect.placeholder(i)``; identifiers go through
``dialect.quote``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

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
    Func,
    In,
    Insert,
    IsNull,
    Like,
    Literal,
    Not,
    Or,
    Param,
    Select,
    Star,
    Table,
    Update,
)

__all__ = ("Compiler", "DialectLike", "compile")

_MYSQL_MAX_LIMIT = 18446744073709551615
_DEFAULT_VALUES = {"mysql": "() VALUES ()"}


class DialectLike(Protocol):
    """What the compiler needs from ``covet.db.dialects.Dialect``."""

    name: str
    supports_returning: bool
    supports_for_update: bool

    def placeholder(self, i: int) -> str: ...

    def quote(self, ident: str) -> str: ...

    def to_db(self, value: Any, kind: str) -> Any: ...

    def column_type(self, kind: str, **options: Any) -> str: ...

    def like(self, column_sql: str, placeholder: str) -> str: ...

    def case_insensitive_like(self, column_sql: str, placeholder: str) -> str: ...


class Compiler:
    """One compilation: collects params while visiting nodes. Not reusable across calls."""

    __slots__ = ("_quote", "_quote_cache", "dialect", "params", "vendor")

    def __init__(self, dialect: DialectLike) -> None:
        self.dialect = dialect
        self.vendor = dialect.name
        self.params: list[Any] = []
        self._quote = dialect.quote
        self._quote_cache: dict[str, str] = {}

    # -- entry points --------------------------------------------------------------
    def compile(self, node: Any) -> tuple[str, list[Any]]:
        sql = self.visit(node)
        return sql, self.params

    def visit(self, node: Any) -> str:
        cls_name = type(node).__name__
        method: Callable[[Any], str] | None = getattr(
            self, f"visit_{cls_name}_{self.vendor}", None
        ) or getattr(self, f"visit_{cls_name}", None)
        if method is None:
            raise TypeError(f"cannot compile {type(node).__name__} to SQL")
        return method(node)

    # -- helpers -------------------------------------------------------------------
    def q(self, ident: str) -> str:
        out = self._quote_cache.get(ident)
        if out is None:
            out = self._quote_cache[ident] = self._quote(ident)
        return out

    def add_param(self, value: Any) -> str:
        self.params.append(value)
        return self.dialect.placeholder(len(self.params))

    def table_sql(self, table: Table | Derived) -> str:
        if isinstance(table, Derived):
            return f"({self.visit(table.query)}) AS {self.q(table.alias)}"
        if table.alias and table.alias != table.name:
            return f"{self.q(table.name)} AS {self.q(table.alias)}"
        return self.q(table.name)

    def _wrap(self, node: Any) -> str:
        sql = self.visit(node)
        if isinstance(node, (And, Or, BinOp, Select)):
            return f"({sql})"
        return sql

    # -- expressions -----------------------------------------------------------------
    def visit_Param(self, node: Param) -> str:
        value = node.value
        if node.kind is not None and value is not None:
            value = self.dialect.to_db(value, node.kind)
        return self.add_param(value)

    def visit_Column(self, node: Column) -> str:
        if node.table is None:
            return self.q(node.name)
        return f"{self.q(node.table.ref)}.{self.q(node.name)}"

    def visit_Literal(self, node: Literal) -> str:
        return str(int(node.value))

    def visit_Star(self, node: Star) -> str:
        return "*" if node.table is None else f"{self.q(node.table.ref)}.*"

    def visit_BinOp(self, node: BinOp) -> str:
        op = getattr(self.dialect, "percent", "%") if node.op == "%" else node.op
        return f"{self._wrap(node.left)} {op} {self._wrap(node.right)}"

    def visit_And(self, node: And) -> str:
        if not node.parts:
            return "1 = 1"
        return " AND ".join(self._wrap(p) for p in node.parts)

    def visit_Or(self, node: Or) -> str:
        if not node.parts:
            return "1 = 0"
        return " OR ".join(self._wrap(p) for p in node.parts)

    def visit_Not(self, node: Not) -> str:
        return f"NOT ({self.visit(node.expr)})"

    def visit_IsNull(self, node: IsNull) -> str:
        return f"{self._wrap(node.expr)} IS {'NOT ' if node.negated else ''}NULL"

    def visit_In(self, node: In) -> str:
        if isinstance(node.values, Select):
            inner = self.visit(node.values)
        else:
            if not node.values:
                return "1 = 1" if node.negated else "1 = 0"
            inner = ", ".join(self.visit(v) for v in node.values)
        return f"{self._wrap(node.expr)} {'NOT IN' if node.negated else 'IN'} ({inner})"

    def visit_Between(self, node: Between) -> str:
        return f"{self._wrap(node.expr)} BETWEEN {self.visit(node.low)} AND {self.visit(node.high)}"

    def visit_Like(self, node: Like) -> str:
        column = self._wrap(node.expr)
        pattern = self.visit(node.pattern)
        if node.case_insensitive:
            sql = self.dialect.case_insensitive_like(column, pattern)
        else:
            sql = self.dialect.like(column, pattern)
        return f"NOT ({sql})" if node.negated else sql

    def visit_Func(self, node: Func) -> str:
        args = ", ".join(self.visit(a) for a in node.args) if node.args else "*"
        return f"{node.name}({'DISTINCT ' if node.distinct else ''}{args})"

    def visit_Case(self, node: Case) -> str:
        parts = ["CASE"]
        for cond, value in node.whens:
            parts.append(f"WHEN {self.visit(cond)} THEN {self.visit(value)}")
        if node.default is not None:
            parts.append(f"ELSE {self.visit(node.default)}")
        parts.append("END")
        return " ".join(parts)

    def visit_Cast(self, node: Cast) -> str:
        type_sql = self.dialect.column_type(node.kind, **node.options)
        return f"CAST({self.visit(node.expr)} AS {type_sql})"

    def visit_Cast_mysql(self, node: Cast) -> str:
        # MySQL's CAST accepts few type names; its parameters need no cast.
        return self.visit(node.expr)

    def visit_Cast_sqlite(self, node: Cast) -> str:
        return self.visit(node.expr)

    def visit_Alias(self, node: Alias) -> str:
        return f"{self._wrap(node.expr)} AS {self.q(node.name)}"

    def visit_Exists(self, node: Exists) -> str:
        return f"EXISTS ({self.visit(node.query)})"

    # -- statements ------------------------------------------------------------------
    def visit_Select(self, node: Select) -> str:
        cols = ", ".join(self.visit(c) for c in node.columns) if node.columns else "*"
        sql = ["SELECT ", "DISTINCT " if node.is_distinct else "", cols]
        if node.from_ is not None:
            sql.append(f" FROM {self.table_sql(node.from_)}")
        for j in node.joins:
            kw = "LEFT OUTER JOIN" if j.kind == "LEFT" else "INNER JOIN"
            sql.append(f" {kw} {self.table_sql(j.table)} ON {self.visit(j.on)}")
        if node.where_ is not None:
            sql.append(f" WHERE {self.visit(node.where_)}")
        if node.groups:
            sql.append(" GROUP BY " + ", ".join(self.visit(g) for g in node.groups))
        if node.having_cond is not None:
            sql.append(f" HAVING {self.visit(node.having_cond)}")
        if node.order:
            sql.append(
                " ORDER BY "
                + ", ".join(
                    self.visit(o.expr) + (" DESC" if o.descending else " ASC") for o in node.order
                )
            )
        sql.append(self.limit_offset(node.limit_, node.offset_))
        if node.for_update is not None and self.dialect.supports_for_update:
            _, nowait, skip_locked = node.for_update
            sql.append(" FOR UPDATE")
            if nowait:
                sql.append(" NOWAIT")
            elif skip_locked:
                sql.append(" SKIP LOCKED")
        return "".join(sql)

    def limit_offset(self, limit: int | None, offset: int | None) -> str:
        out = ""
        if limit is not None:
            out = f" LIMIT {self.add_param(limit)}"
        elif offset:
            out = self.limit_all()
        if offset:
            out += f" OFFSET {self.add_param(offset)}"
        return out

    def limit_all(self) -> str:
        """``LIMIT`` clause meaning "no limit", for backends that need one before OFFSET."""
        return {"sqlite": " LIMIT -1", "mysql": f" LIMIT {_MYSQL_MAX_LIMIT}"}.get(self.vendor, "")

    def visit_Insert(self, node: Insert) -> str:
        table = self.q(node.table.name)
        if node.columns:
            cols = ", ".join(self.q(c) for c in node.columns)
            rows = ", ".join("(" + ", ".join(self.visit(v) for v in row) + ")" for row in node.rows)
            sql = f"INSERT INTO {table} ({cols}) VALUES {rows}"
        else:
            sql = self.insert_default_values(table, len(node.rows) or 1)
        if node.update_columns is not None:
            sql += self.upsert_clause(node)
        if node.returning and self.dialect.supports_returning:
            sql += " RETURNING " + ", ".join(self.q(c) for c in node.returning)
        return sql

    def insert_default_values(self, table: str, n: int) -> str:
        if n != 1:
            raise ValueError("multi-row INSERT with no columns is not supported")
        return f"INSERT INTO {table} " + _DEFAULT_VALUES.get(self.vendor, "DEFAULT VALUES")

    def upsert_clause(self, node: Insert) -> str:
        style = getattr(self.dialect, "upsert_style", "on_conflict")
        cols = node.update_columns or []
        if style == "on_duplicate_key":
            if not cols:
                first = self.q(node.columns[0])
                return f" ON DUPLICATE KEY UPDATE {first} = {first}"
            return " ON DUPLICATE KEY UPDATE " + ", ".join(
                f"{self.q(c)} = VALUES({self.q(c)})" for c in cols
            )
        target = ", ".join(self.q(c) for c in node.conflict_target)
        if not target:
            raise ValueError("ON CONFLICT needs conflict_target columns")
        if not cols:
            return f" ON CONFLICT ({target}) DO NOTHING"
        sets = ", ".join(f"{self.q(c)} = EXCLUDED.{self.q(c)}" for c in cols)
        return f" ON CONFLICT ({target}) DO UPDATE SET {sets}"

    def visit_Update(self, node: Update) -> str:
        sets = ", ".join(f"{self.q(k)} = {self.visit(v)}" for k, v in node.values.items())
        sql = f"UPDATE {self.table_sql(node.table)} SET {sets}"
        if node.where_ is not None:
            sql += f" WHERE {self.visit(node.where_)}"
        return sql

    def visit_Delete(self, node: Delete) -> str:
        sql = f"DELETE FROM {self.table_sql(node.table)}"
        if node.where_ is not None:
            sql += f" WHERE {self.visit(node.where_)}"
        return sql


def compile(node: Any, dialect: DialectLike) -> tuple[str, list[Any]]:
    """Compile any AST node or statement to ``(sql, params)`` for ``dialect``."""
    return Compiler(dialect).compile(node)
