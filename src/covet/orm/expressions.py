"""Query expressions: ``Q`` (filter trees), ``F`` (column references with arithmetic),
aggregates (``Count``, ``Sum``, ``Avg``, ``Min``, ``Max``) and ordering.

They are resolved against a query (which adds the joins) into ``covet.db.sql`` nodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from covet.db.sql.nodes import BinOp, Case, Expr, Func, Literal, Param

if TYPE_CHECKING:
    from covet.orm.sqlbuild import QueryBuilder

__all__ = (
    "Aggregate",
    "Avg",
    "Combined",
    "Count",
    "Expression",
    "F",
    "Max",
    "Min",
    "OrderBy",
    "Q",
    "Sum",
    "Value",
)

_ARITH = frozenset({"+", "-", "*", "/", "%"})


class Q:
    """A filter tree: ``Q(a=1) | Q(b=2)``, ``~Q(c=3)``, ``Q(x=1) & Q(y__gt=2)``."""

    __slots__ = ("children", "connector", "negated")

    AND = "AND"
    OR = "OR"

    def __init__(
        self, *args: Q, _connector: str = "AND", _negated: bool = False, **kwargs: Any
    ) -> None:
        for a in args:
            if not isinstance(a, Q):
                raise TypeError(
                    f"positional filter arguments must be Q objects, not {type(a).__name__}"
                )
        self.children: list[Q | tuple[str, Any]] = [*args, *sorted(kwargs.items())]
        self.connector = _connector
        self.negated = _negated

    def _combine(self, other: Q, connector: str) -> Q:
        if not isinstance(other, Q):
            return NotImplemented
        return Q(self, other, _connector=connector)

    def __and__(self, other: Q) -> Q:
        return self._combine(other, self.AND)

    def __or__(self, other: Q) -> Q:
        return self._combine(other, self.OR)

    def __invert__(self) -> Q:
        return Q(self, _negated=True)

    def __bool__(self) -> bool:
        return bool(self.children)

    def __repr__(self) -> str:
        inner = f" {self.connector} ".join(repr(c) for c in self.children)
        return f"{'NOT ' if self.negated else ''}Q({inner})"


class Expression:
    """Base of ORM expressions: arithmetic builds :class:`Combined` trees."""

    __slots__ = ()

    def resolve(self, qb: QueryBuilder) -> Expr:
        raise NotImplementedError

    def _combine(self, op: str, other: Any, reverse: bool = False) -> Combined:
        other_e = other if isinstance(other, Expression) else Value(other)
        return Combined(other_e, op, self) if reverse else Combined(self, op, other_e)

    def __add__(self, other: Any) -> Combined:
        return self._combine("+", other)

    def __radd__(self, other: Any) -> Combined:
        return self._combine("+", other, True)

    def __sub__(self, other: Any) -> Combined:
        return self._combine("-", other)

    def __rsub__(self, other: Any) -> Combined:
        return self._combine("-", other, True)

    def __mul__(self, other: Any) -> Combined:
        return self._combine("*", other)

    def __rmul__(self, other: Any) -> Combined:
        return self._combine("*", other, True)

    def __truediv__(self, other: Any) -> Combined:
        return self._combine("/", other)

    def __mod__(self, other: Any) -> Combined:
        return self._combine("%", other)

    def asc(self) -> OrderBy:
        return OrderBy(self, descending=False)

    def desc(self) -> OrderBy:
        return OrderBy(self, descending=True)


class F(Expression):
    """A reference to a field (``F("views")``, ``F("author__name")``)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError("F() needs a field name")
        self.name = name

    def resolve(self, qb: QueryBuilder) -> Expr:
        return qb.resolve_ref(self.name)

    def __repr__(self) -> str:
        return f"F({self.name!r})"


class Value(Expression):
    """A literal value used in an expression (bound as a parameter)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def resolve(self, qb: QueryBuilder) -> Expr:
        return Param(self.value)

    def __repr__(self) -> str:
        return f"Value({self.value!r})"


class Combined(Expression):
    __slots__ = ("left", "op", "right")

    def __init__(self, left: Expression, op: str, right: Expression) -> None:
        if op not in _ARITH:
            raise ValueError(f"unsupported operator {op!r}")
        self.left = left
        self.op = op
        self.right = right

    def resolve(self, qb: QueryBuilder) -> Expr:
        return BinOp(self.left.resolve(qb), self.op, self.right.resolve(qb))

    def __repr__(self) -> str:
        return f"({self.left!r} {self.op} {self.right!r})"


class Aggregate(Expression):
    """``Count("x")``, ``Sum("x", filter=Q(...))``, ``Count("x", distinct=True)``."""

    __slots__ = ("distinct", "expr", "filter")
    function = ""

    def __init__(
        self, expr: str | Expression = "*", *, distinct: bool = False, filter: Q | None = None
    ) -> None:
        if isinstance(expr, str) and expr != "*":
            expr = F(expr)
        self.expr = expr
        self.distinct = distinct
        self.filter = filter

    def resolve(self, qb: QueryBuilder) -> Expr:
        if self.expr == "*":
            if self.filter is not None:
                inner: Expr = Case([(qb.build_q(self.filter, aggregate=True), Literal(1))])
                return Func(self.function, inner, distinct=self.distinct)
            return Func(self.function)
        assert isinstance(self.expr, Expression)
        target = self.expr.resolve(qb)
        if self.filter is not None:
            target = Case([(qb.build_q(self.filter, aggregate=True), target)])
        return Func(self.function, target, distinct=self.distinct)

    def default_alias(self) -> str:
        if isinstance(self.expr, F):
            return f"{self.expr.name}__{self.function.lower()}"
        if self.expr == "*":
            return self.function.lower()
        raise TypeError("complex aggregates need an alias: aggregate(total=Sum(...))")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.expr!r})"


class Count(Aggregate):
    __slots__ = ()
    function = "COUNT"


class Sum(Aggregate):
    __slots__ = ()
    function = "SUM"


class Avg(Aggregate):
    __slots__ = ()
    function = "AVG"


class Min(Aggregate):
    __slots__ = ()
    function = "MIN"


class Max(Aggregate):
    __slots__ = ()
    function = "MAX"


class OrderBy:
    """An ordering term: ``F("x").desc()``."""

    __slots__ = ("descending", "expr")

    def __init__(self, expr: Expression, descending: bool = False) -> None:
        self.expr = expr
        self.descending = descending

    def __repr__(self) -> str:
        return f"OrderBy({self.expr!r}, descending={self.descending})"
