"""Compile AST nodes to ``(sql, params)`` for one dialect.

Dispatch is by node class (``visit_<Class>``) with vendor overrides looked up as
``visit_<Class>_<dialect.name>`` (STYLE P11): no inline ``if vendor == ...`` checks.
Values become placeholders from ``dialect.placeholder(i)``; identifiers go through
``dialect.quote``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from covet.db.exceptions import NotSupportedError
from covet.db.sql.json_compiler import JsonCompiler
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
    JsonKey,
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

__all__ = ("Compiler", "DialectLike", "compile")

_MYSQL_MAX_LIMIT = 18446744073709551615
_DEFAULT_VALUES = {"mysql": "() VALUES ()"}
#: ``IN`` lists up to this length are written out; longer ones become one array parameter
_INLINE_IN_MAX = 1000
#: the field kind of a value bound without one, for array parameters (``dialect.to_db``)
_KIND_OF_TYPE: dict[type, str] = {
    dt.datetime: "datetime",
    dt.date: "date",
    dt.time: "time",
    decimal.Decimal: "decimal",
    uuid.UUID: "uuid",
}
_BLOB_TYPES = (bytes, bytearray, memoryview)
#: JsonTypeIs names -> what json_type() (SQLite) / JSON_TYPE() (MySQL, MariaDB) return
class DialectLike(Protocol):
    """What the compiler needs from ``covet.db.dialects.Dialect``."""

    name: str
    supports_returning: bool
    supports_for_update: bool
    supports_distinct_on: bool
    supports_json_ops: bool

    def placeholder(self, i: int) -> str: ...

    def quote(self, ident: str) -> str: ...

    def to_db(self, value: Any, kind: str) -> Any: ...

    def column_type(self, kind: str, **options: Any) -> str: ...

    def like(self, column_sql: str, placeholder: str) -> str: ...

    def case_insensitive_like(self, column_sql: str, placeholder: str) -> str: ...

    def json_path(self, path: Sequence[str | int]) -> str: ...


class Compiler(JsonCompiler):
    """One compilation: collects params while visiting nodes. Not reusable across calls."""

    __slots__ = ("_json_refs", "_quote", "_quote_cache", "dialect", "params", "vendor")

    def __init__(self, dialect: DialectLike) -> None:
        self.dialect = dialect
        self.vendor = dialect.name
        self.params: list[Any] = []
        self._quote = dialect.quote
        self._quote_cache: dict[str, str] = {}
        # PostgreSQL: the placeholders of each JsonKey's keys, so a key path selected,
        # grouped and ordered by is one expression to the server (same $n each time)
        self._json_refs: dict[int, tuple[JsonKey, list[str]]] = {}

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

    def visit_NotTrue(self, node: NotTrue) -> str:
        return f"({self.visit(node.expr)}) IS NOT TRUE"

    def visit_NotTrue_sqlite(self, node: NotTrue) -> str:
        return f"NOT COALESCE(({self.visit(node.expr)}), 0)"  # IS NOT TRUE needs 3.23

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

    def _array_values(self, node: In) -> list[Any] | None:
        """The driver values of a long ``IN`` list of plain parameters, else None.

        Short lists stay ``IN (?, ?, ...)`` (the usual SQL, cached by the drivers); a
        long one is sent as a single array parameter by the vendor overrides below, so
        no list can exceed the backend's limit on parameters per statement.
        """
        values = node.values
        if isinstance(values, Select):
            return None
        limit = min(_INLINE_IN_MAX, getattr(self.dialect, "max_params", 999) // 2)
        if len(values) <= limit:
            return None
        out: list[Any] = []
        to_db = self.dialect.to_db
        for v in values:
            if type(v) is not Param:
                return None
            value, kind = v.value, v.kind
            if value is not None:
                if kind is None:
                    kind = _KIND_OF_TYPE.get(type(value))
                    if kind is None and isinstance(value, enum.Enum):
                        kind = "enum"
                if kind is not None:
                    value = to_db(value, kind)
            out.append(value)
        return out

    def visit_In_postgresql(self, node: In) -> str:
        """A long list: ``col = ANY($1)``, one array parameter typed after ``col``."""
        values = self._array_values(node)
        if values is None:
            return self.visit_In(node)
        sql = f"{self._wrap(node.expr)} = ANY({self.add_param(values)})"
        return f"NOT ({sql})" if node.negated else sql

    def visit_In_sqlite(self, node: In) -> str:
        """A long list: ``col IN (SELECT value FROM json_each(?))``, one JSON parameter.

        JSON has no bytes: BLOB values are matched as ``hex(col)`` against hex text.
        """
        values = self._array_values(node)
        if values is None:
            return self.visit_In(node)
        blobs = [bytes(v).hex().upper() for v in values if isinstance(v, _BLOB_TYPES)]
        others = [v for v in values if not isinstance(v, _BLOB_TYPES)]
        try:
            payloads = [
                json.dumps(group, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
                if group
                else None
                for group in (others, blobs)
            ]
        except (TypeError, ValueError):  # values JSON cannot carry (NaN, custom objects)
            return self.visit_In(node)
        col = self._wrap(node.expr)
        parts = [
            f"{target} IN (SELECT value FROM json_each({self.add_param(payload)}))"
            for target, payload in zip((col, f"hex({col})"), payloads, strict=True)
            if payload is not None
        ]
        sql = parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"
        return f"NOT ({sql})" if node.negated else sql

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
        distinct = "DISTINCT " if node.is_distinct else ""
        if node.distinct_on_:
            if not self.dialect.supports_distinct_on:
                raise NotSupportedError(f"{self.vendor} does not support SELECT DISTINCT ON")
            distinct = f"DISTINCT ON ({', '.join(self.visit(e) for e in node.distinct_on_)}) "
        cols = ", ".join(self.visit(c) for c in node.columns) if node.columns else "*"
        sql = ["SELECT ", distinct, cols]
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
            sql.append(" ORDER BY " + ", ".join(self.order_sql(o) for o in node.order))
        sql.append(self.limit_offset(node.limit_, node.offset_))
        if node.for_update is not None and self.dialect.supports_for_update:
            _, nowait, skip_locked = node.for_update
            sql.append(" FOR UPDATE")
            if nowait:
                sql.append(" NOWAIT")
            elif skip_locked:
                sql.append(" SKIP LOCKED")
        return "".join(sql)

    def order_sql(self, item: OrderBy) -> str:
        """One ORDER BY term (a JSON key may sort by more than one expression)."""
        direction = " DESC" if item.descending else " ASC"
        if isinstance(item.expr, JsonKey):
            return ", ".join(key + direction for key in self.json_sort_keys(item.expr))
        return self.visit(item.expr) + direction

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
        if not cols:  # without a target: skip a row that violates any unique constraint
            return f" ON CONFLICT ({target}) DO NOTHING" if target else " ON CONFLICT DO NOTHING"
        if not target:
            raise ValueError("ON CONFLICT DO UPDATE needs conflict_target columns")
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
