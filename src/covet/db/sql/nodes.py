"""The query AST: immutable-ish node objects that a :class:`~covet.db.sql.compiler.Compiler`
turns into ``(sql, params)`` for one dialect.

Values only ever travel as :class:`Param` nodes (placeholders); identifiers only as
:class:`Identifier`-bearing nodes (quoted by the dialect). Nothing here formats a value
into SQL text.
"""

from __future__ import annotations

import decimal
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = (
    "Alias",
    "And",
    "Between",
    "BinOp",
    "Case",
    "Cast",
    "Column",
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
    "check_identifier",
)

_FUNC_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_COMPARISONS = frozenset({"=", "<>", "<", "<=", ">", ">=", "+", "-", "*", "/", "%"})


def check_identifier(name: str) -> str:
    """Reject identifiers that cannot be a table/column name (quoted or not)."""
    if not isinstance(name, str) or not name or "\x00" in name or len(name) > 128:
        raise ValueError(f"invalid SQL identifier: {name!r}")
    return name


class Expr:
    """Base of every value-producing node; supports building comparisons with operators."""

    __slots__ = ()

    def _bin(self, op: str, other: Any, reverse: bool = False) -> BinOp:
        other_node = other if isinstance(other, Expr) else Param(other)
        return BinOp(other_node, op, self) if reverse else BinOp(self, op, other_node)

    def __eq__(self, other: Any) -> BinOp:  # type: ignore[override]
        if other is None:
            return IsNull(self)  # type: ignore[return-value]
        return self._bin("=", other)

    def __ne__(self, other: Any) -> BinOp:  # type: ignore[override]
        if other is None:
            return IsNull(self, negated=True)  # type: ignore[return-value]
        return self._bin("<>", other)

    def __lt__(self, other: Any) -> BinOp:
        return self._bin("<", other)

    def __le__(self, other: Any) -> BinOp:
        return self._bin("<=", other)

    def __gt__(self, other: Any) -> BinOp:
        return self._bin(">", other)

    def __ge__(self, other: Any) -> BinOp:
        return self._bin(">=", other)

    def __add__(self, other: Any) -> BinOp:
        return self._bin("+", other)

    def __radd__(self, other: Any) -> BinOp:
        return self._bin("+", other, reverse=True)

    def __sub__(self, other: Any) -> BinOp:
        return self._bin("-", other)

    def __rsub__(self, other: Any) -> BinOp:
        return self._bin("-", other, reverse=True)

    def __mul__(self, other: Any) -> BinOp:
        return self._bin("*", other)

    def __rmul__(self, other: Any) -> BinOp:
        return self._bin("*", other, reverse=True)

    def __truediv__(self, other: Any) -> BinOp:
        return self._bin("/", other)

    def __mod__(self, other: Any) -> BinOp:
        return self._bin("%", other)

    def __and__(self, other: Expr) -> And:
        return And(self, other)

    def __or__(self, other: Expr) -> Or:
        return Or(self, other)

    def __invert__(self) -> Not:
        return Not(self)

    __hash__ = object.__hash__

    def in_(self, values: Iterable[Any] | Select) -> In:
        return In(self, values)

    def not_in(self, values: Iterable[Any] | Select) -> In:
        return In(self, values, negated=True)

    def is_null(self) -> IsNull:
        return IsNull(self)

    def is_not_null(self) -> IsNull:
        return IsNull(self, negated=True)

    def like(self, pattern: Any, *, case_insensitive: bool = False) -> Like:
        """``LIKE`` with a raw pattern (``%``/``_`` are wildcards; escape with ``\\``)."""
        return Like(self, pattern, case_insensitive=case_insensitive)

    def between(self, low: Any, high: Any) -> Between:
        return Between(self, low, high)

    def label(self, name: str) -> Alias:
        return Alias(self, name)

    def asc(self) -> OrderBy:
        return OrderBy(self, descending=False)

    def desc(self) -> OrderBy:
        return OrderBy(self, descending=True)


class Param(Expr):
    """A bound value: always emitted as a placeholder. ``kind`` selects ``dialect.to_db``."""

    __slots__ = ("kind", "value")

    def __init__(self, value: Any, kind: str | None = None) -> None:
        self.value = value
        self.kind = kind

    def __repr__(self) -> str:
        return f"Param({self.value!r})"


class Literal(Expr):
    """An integer constant written into the SQL (``SELECT 1``); only ints are accepted."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("Literal only accepts ints; bind other values with Param")
        self.value = value


class Star(Expr):
    """``*`` (or ``"t".*``)."""

    __slots__ = ("table",)

    def __init__(self, table: Table | None = None) -> None:
        self.table = table


class Column(Expr):
    """A column reference ``"alias"."name"`` (or just ``"name"`` without a table)."""

    __slots__ = ("kind", "name", "table")

    def __init__(self, name: str, table: Table | None = None, kind: str | None = None) -> None:
        self.name = check_identifier(name)
        self.table = table
        self.kind = kind

    def __repr__(self) -> str:
        return f"Column({self.name!r})"


class _Columns:
    """Attribute access to a table's columns: ``users.c.email``."""

    __slots__ = ("_table",)

    def __init__(self, table: Table) -> None:
        self._table = table

    def __getattr__(self, name: str) -> Column:
        if name.startswith("__"):
            raise AttributeError(name)
        return Column(name, self._table)

    def __getitem__(self, name: str) -> Column:
        return Column(name, self._table)


class Table:
    """A table (optionally aliased). ``Table("users").c.email`` is a column."""

    __slots__ = ("alias", "c", "name")

    def __init__(self, name: str, alias: str | None = None) -> None:
        self.name = check_identifier(name)
        self.alias = check_identifier(alias) if alias is not None else None
        self.c = _Columns(self)

    @property
    def ref(self) -> str:
        """The name columns are qualified with (the alias, else the table name)."""
        return self.alias or self.name

    def aliased(self, alias: str) -> Table:
        return Table(self.name, alias)

    def __repr__(self) -> str:
        return f"Table({self.name!r}, alias={self.alias!r})"


class BinOp(Expr):
    __slots__ = ("left", "op", "right")

    def __init__(self, left: Expr, op: str, right: Expr) -> None:
        if op not in _COMPARISONS:
            raise ValueError(f"unsupported operator {op!r}")
        self.left = left
        self.op = op
        self.right = right


class And(Expr):
    __slots__ = ("parts",)
    parts: tuple[Expr, ...]

    def __init__(self, *parts: Expr) -> None:
        flat: list[Expr] = []
        for p in parts:
            flat.extend(p.parts if isinstance(p, And) else (p,))
        self.parts = tuple(flat)


class Or(Expr):
    __slots__ = ("parts",)
    parts: tuple[Expr, ...]

    def __init__(self, *parts: Expr) -> None:
        flat: list[Expr] = []
        for p in parts:
            flat.extend(p.parts if isinstance(p, Or) else (p,))
        self.parts = tuple(flat)


class Not(Expr):
    __slots__ = ("expr",)

    def __init__(self, expr: Expr) -> None:
        self.expr = expr


class NotTrue(Expr):
    """``(expr) IS NOT TRUE``: holds when ``expr`` is false *or NULL*, so it selects
    exactly the rows that a filter on ``expr`` leaves out (``exclude()``, ``~Q``)."""

    __slots__ = ("expr",)

    def __init__(self, expr: Expr) -> None:
        self.expr = expr


class IsNull(Expr):
    __slots__ = ("expr", "negated")

    def __init__(self, expr: Expr, negated: bool = False) -> None:
        self.expr = expr
        self.negated = negated


class In(Expr):
    """``expr IN (...)``; an empty list compiles to a constant false (true when negated)."""

    __slots__ = ("expr", "negated", "values")

    def __init__(self, expr: Expr, values: Iterable[Any] | Select, negated: bool = False) -> None:
        self.expr = expr
        self.values: Select | tuple[Expr, ...] = (
            values
            if isinstance(values, Select)
            else tuple(v if isinstance(v, Expr) else Param(v) for v in values)
        )
        self.negated = negated


class Like(Expr):
    """``expr LIKE pattern ESCAPE '\\'`` (case-sensitive on every backend unless asked)."""

    __slots__ = ("case_insensitive", "expr", "negated", "pattern")

    def __init__(
        self, expr: Expr, pattern: Any, *, case_insensitive: bool = False, negated: bool = False
    ) -> None:
        self.expr = expr
        self.pattern = pattern if isinstance(pattern, Expr) else Param(pattern)
        self.case_insensitive = case_insensitive
        self.negated = negated


class Between(Expr):
    __slots__ = ("expr", "high", "low")

    def __init__(self, expr: Expr, low: Any, high: Any) -> None:
        self.expr = expr
        self.low = low if isinstance(low, Expr) else Param(low)
        self.high = high if isinstance(high, Expr) else Param(high)


class Func(Expr):
    """A SQL function call: ``COUNT(DISTINCT x)``; the name must be a plain identifier."""

    __slots__ = ("args", "distinct", "name")

    def __init__(self, name: str, *args: Any, distinct: bool = False) -> None:
        if not _FUNC_NAME.match(name):
            raise ValueError(f"invalid SQL function name: {name!r}")
        self.name = name.upper()
        self.args = tuple(a if isinstance(a, Expr) else Param(a) for a in args)
        self.distinct = distinct


class Case(Expr):
    """``CASE WHEN cond THEN value ... ELSE default END``."""

    __slots__ = ("default", "whens")

    def __init__(self, whens: Sequence[tuple[Expr, Any]], default: Any = None) -> None:
        self.whens = tuple((c, v if isinstance(v, Expr) else Param(v)) for c, v in whens)
        self.default = default if isinstance(default, Expr) or default is None else Param(default)


class Cast(Expr):
    """``CAST(expr AS <dialect type for kind>)``; backends that infer types emit ``expr``."""

    __slots__ = ("expr", "kind", "options")

    def __init__(self, expr: Any, kind: str, **options: Any) -> None:
        self.expr = expr if isinstance(expr, Expr) else Param(expr, kind)
        self.kind = kind
        self.options = options


class Alias(Expr):
    __slots__ = ("expr", "name")

    def __init__(self, expr: Expr, name: str) -> None:
        self.expr = expr
        self.name = check_identifier(name)


class Exists(Expr):
    __slots__ = ("query",)

    def __init__(self, query: Select) -> None:
        self.query = query


#: JSON value types, as ``JsonTypeIs`` names them
JSON_TYPES = frozenset({"string", "number", "boolean", "null", "object", "array"})
_JSON_COMPARISONS = frozenset({"=", "<", "<=", ">", ">="})


class JsonKey(Expr):
    """The JSON value at ``path`` inside a JSON document (a column), SQL NULL when absent.

    ``path`` holds object keys (``str``, any text: keys travel as bound parameters or
    inside a bound JSON-path string) and array indices (non-negative ``int``). Selected,
    it reads back as JSON text (``kind="json"``); ordered, by JSON type and value.
    """

    __slots__ = ("expr", "kind", "path")

    def __init__(self, expr: Expr, path: Sequence[str | int] = ()) -> None:
        for step in path:
            if isinstance(step, bool) or not isinstance(step, (str, int)):
                raise TypeError(f"a JSON path step is a str key or an int index, not {step!r}")
            if isinstance(step, int) and step < 0:
                raise ValueError(f"JSON array indices must be non-negative, not {step}")
        self.expr = expr
        self.path: tuple[str | int, ...] = tuple(path)
        self.kind = "json"

    def child(self, step: str | int) -> JsonKey:
        return JsonKey(self.expr, (*self.path, step))

    def __repr__(self) -> str:
        return f"JsonKey({self.expr!r}, {self.path!r})"


class JsonText(Expr):
    """The text of the JSON string at ``key`` (``->>``); other values as their JSON text."""

    __slots__ = ("key",)

    def __init__(self, key: JsonKey) -> None:
        self.key = key


class JsonTypeIs(Expr):
    """True when the value at ``key`` has JSON type ``json_type`` (see ``JSON_TYPES``)."""

    __slots__ = ("json_type", "key")

    def __init__(self, key: JsonKey, json_type: str) -> None:
        if json_type not in JSON_TYPES:
            raise ValueError(f"unknown JSON type {json_type!r}")
        self.key = key
        self.json_type = json_type


class JsonCompare(Expr):
    """``key <op> value`` between JSON values of one type; other types never match.

    ``value`` is a JSON scalar: ``str``, ``int``, ``float``, ``Decimal``, ``bool`` or
    ``None`` (JSON null); ``bool`` and ``None`` only with ``=``. Numbers compare as
    numbers, strings as strings, so ``{"n": 10}`` is greater than 9 and ``{"n": "10"}``
    is neither greater nor equal to 9.
    """

    __slots__ = ("key", "op", "value")

    def __init__(self, key: JsonKey, op: str, value: Any) -> None:
        if op not in _JSON_COMPARISONS:
            raise ValueError(f"unsupported JSON comparison {op!r}")
        if value is None or isinstance(value, bool):
            if op != "=":
                raise ValueError(f"JSON {value!r} can only be compared with '='")
        elif isinstance(value, (int, float, decimal.Decimal)):
            if not isinstance(value, int) and not math.isfinite(value):
                raise ValueError(f"JSON numbers are finite, not {value!r}")
        elif not isinstance(value, str):
            raise TypeError(
                f"a JSON key compares with a str, number, bool or None, not {type(value).__name__}"
            )
        self.key = key
        self.op = op
        self.value = value

    @property
    def json_type(self) -> str:
        """The JSON type of ``value``."""
        value = self.value
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "boolean"
        return "string" if isinstance(value, str) else "number"


class JsonHasKeys(Expr):
    """True when the JSON object at ``key`` has all of ``keys`` (any of them with ``any_``).

    A key holding JSON null counts as present; arrays and scalars have no keys.
    """

    __slots__ = ("any_", "key", "keys")

    def __init__(self, key: JsonKey, keys: Sequence[str], *, any_: bool = False) -> None:
        if isinstance(keys, str) or not keys or not all(isinstance(k, str) for k in keys):
            raise TypeError("JsonHasKeys takes a non-empty sequence of str keys")
        self.key = key
        self.keys = tuple(keys)
        self.any_ = any_


class OrderBy:
    __slots__ = ("descending", "expr")

    def __init__(self, expr: Expr, descending: bool = False) -> None:
        self.expr = expr
        self.descending = descending


class Join:
    __slots__ = ("kind", "on", "table")

    def __init__(self, table: Table, on: Expr, kind: str = "INNER") -> None:
        if kind not in ("INNER", "LEFT"):
            raise ValueError(f"unsupported join kind {kind!r}")
        self.table = table
        self.on = on
        self.kind = kind


class Select(Expr):
    """A SELECT statement. Builder methods return ``self`` (build it, then compile it)."""

    __slots__ = (
        "columns",
        "distinct_on_",
        "for_update",
        "from_",
        "groups",
        "having_cond",
        "is_distinct",
        "joins",
        "limit_",
        "offset_",
        "order",
        "where_",
    )

    def __init__(self, columns: Sequence[Expr] = (), from_: Table | Derived | None = None) -> None:
        self.columns: list[Expr] = list(columns)
        self.from_ = from_
        self.joins: list[Join] = []
        self.where_: Expr | None = None
        self.groups: list[Expr] = []
        self.having_cond: Expr | None = None
        self.order: list[OrderBy] = []
        self.limit_: int | None = None
        self.offset_: int | None = None
        self.is_distinct = False
        #: ``DISTINCT ON (...)`` expressions (PostgreSQL; ``supports_distinct_on``)
        self.distinct_on_: list[Expr] = []
        self.for_update: tuple[bool, bool, bool] | None = None  # (enabled, nowait, skip_locked)

    def select_from(self, table: Table | Derived) -> Select:
        self.from_ = table
        return self

    def join(self, table: Table, on: Expr, kind: str = "INNER") -> Select:
        self.joins.append(Join(table, on, kind))
        return self

    def outerjoin(self, table: Table, on: Expr) -> Select:
        return self.join(table, on, "LEFT")

    def where(self, *conditions: Expr) -> Select:
        for cond in conditions:
            self.where_ = cond if self.where_ is None else And(self.where_, cond)
        return self

    def group_by(self, *exprs: Expr) -> Select:
        self.groups.extend(exprs)
        return self

    def having(self, cond: Expr) -> Select:
        self.having_cond = cond if self.having_cond is None else And(self.having_cond, cond)
        return self

    def order_by(self, *items: Expr | OrderBy) -> Select:
        self.order.extend(i if isinstance(i, OrderBy) else OrderBy(i) for i in items)
        return self

    def limit(self, n: int | None) -> Select:
        self.limit_ = None if n is None else _non_negative(n, "limit")
        return self

    def offset(self, n: int | None) -> Select:
        self.offset_ = None if n is None else _non_negative(n, "offset")
        return self

    def with_for_update(self, *, nowait: bool = False, skip_locked: bool = False) -> Select:
        if nowait and skip_locked:
            raise ValueError("nowait and skip_locked are mutually exclusive")
        self.for_update = (True, nowait, skip_locked)
        return self

    def distinct(self, flag: bool = True) -> Select:
        self.is_distinct = flag
        return self

    def distinct_on(self, *exprs: Expr) -> Select:
        """``SELECT DISTINCT ON (exprs)``: the first row of each group, in ORDER BY order.

        PostgreSQL only; the ORDER BY must start with these expressions.
        """
        self.distinct_on_ = list(exprs)
        return self


def _non_negative(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"{what} must be a non-negative integer, got {n!r}")
    return n


class Derived:
    """A subquery used as a table: ``(SELECT ...) AS "alias"``."""

    __slots__ = ("alias", "query")

    def __init__(self, query: Select, alias: str) -> None:
        self.query = query
        self.alias = check_identifier(alias)

    @property
    def ref(self) -> str:
        return self.alias

    @property
    def c(self) -> _Columns:
        return _Columns(self)  # type: ignore[arg-type]


class Insert:
    """``INSERT INTO table (cols) VALUES (...), (...)`` with optional RETURNING / upsert."""

    __slots__ = ("columns", "conflict_target", "returning", "rows", "table", "update_columns")

    def __init__(
        self,
        table: Table,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        returning: Sequence[str] = (),
        conflict_target: Sequence[str] = (),
        update_columns: Sequence[str] | None = None,
    ) -> None:
        self.table = table
        self.columns = [check_identifier(c) for c in columns]
        self.rows = [[v if isinstance(v, Expr) else Param(v) for v in row] for row in rows]
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError("every inserted row needs one value per column")
        self.returning = [check_identifier(c) for c in returning]
        self.conflict_target = [check_identifier(c) for c in conflict_target]
        self.update_columns = (
            None if update_columns is None else [check_identifier(c) for c in update_columns]
        )


class Update:
    """``UPDATE table SET col = expr, ... WHERE ...``."""

    __slots__ = ("table", "values", "where_")

    def __init__(self, table: Table, values: dict[str, Any], where: Expr | None = None) -> None:
        if not values:
            raise ValueError("UPDATE needs at least one column")
        self.table = table
        self.values = {
            check_identifier(k): (v if isinstance(v, Expr) else Param(v)) for k, v in values.items()
        }
        self.where_ = where


class Delete:
    """``DELETE FROM table WHERE ...``."""

    __slots__ = ("table", "where_")

    def __init__(self, table: Table, where: Expr | None = None) -> None:
        self.table = table
        self.where_ = where
