"""``QuerySet``: a lazy, chainable, clone-on-write query (STYLE P10).

Nothing touches the database until a terminal coroutine runs: ``await qs`` /
``await qs.all()``, ``async for obj in qs``, ``get``, ``first``, ``count``, ``exists``,
``aggregate``, ``update``, ``delete``, ``in_bulk``, ``values()``/``values_list()``
results. Each chaining method returns a new QuerySet.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from collections.abc import AsyncIterator, Coroutine, Generator, Sequence
from typing import Any, Generic, TypeVar, overload

from covet.db.exceptions import NotSupportedError
from covet.db.sql.compiler import Compiler
from covet.db.sql.nodes import (
    Alias,
    Column,
    Derived,
    Expr,
    Func,
    In,
    JsonKey,
    Literal,
    Select,
    Table,
)
from covet.orm.base import Model
from covet.orm.exceptions import FieldError
from covet.orm.expressions import Aggregate, Expression, F, OrderBy, Q
from covet.orm.loading import aggregate_value, build_instances, db_for, shape_values
from covet.orm.sqlbuild import QueryBuilder

__all__ = ("QuerySet",)

_MAX_CACHED_SHAPES = 1000  # per model: bounds memory when shapes come from user input
_SIMPLE_LOOKUPS = frozenset({"exact", "gt", "gte", "lt", "lte"})
_SCALARS = frozenset(
    {int, str, float, bool, bytes, decimal.Decimal, uuid.UUID, dt.datetime, dt.date, dt.time}
)
_SCALAR_BASES = (int, str, float, bytes, decimal.Decimal, uuid.UUID, dt.date, dt.time, enum.Enum)

M = TypeVar("M", bound="Model")


class QuerySet(Generic[M]):
    """A lazy query over ``model``; see the module docstring."""

    def __init__(self, model: type[M], db: Any = None) -> None:
        self.model = model
        self._db = db
        self._filters: list[Q] = []
        self._order: list[Any] | None = None
        self._limit: int | None = None
        self._offset: int | None = None
        self._distinct = False
        self._distinct_fields: tuple[str, ...] = ()  # DISTINCT ON (PostgreSQL)
        self._related: list[str] = []
        self._prefetch: list[str] = []
        self._values: list[str] | None = None
        self._values_mode = ""  # "", "dict", "tuple", "flat"
        self._annotations: dict[str, Expression] = {}
        self._for_update: tuple[bool, bool, bool] | None = None
        self._result_cache: list[Any] | None = None
        self._group_by_pk = False

    # -- cloning -------------------------------------------------------------------------
    def _clone(self) -> QuerySet[M]:
        qs = QuerySet.__new__(QuerySet)
        qs.__dict__.update(self.__dict__)
        qs._filters = list(self._filters)
        qs._related = list(self._related)
        qs._prefetch = list(self._prefetch)
        qs._annotations = dict(self._annotations)
        if self._values is not None:
            qs._values = list(self._values)
        qs._result_cache = None
        return qs

    def __repr__(self) -> str:
        return f"<QuerySet {self.model.__name__}>"

    def __bool__(self) -> bool:
        raise TypeError("a QuerySet has no truth value before it runs: use 'await qs.exists()'")

    @property
    def db(self) -> Any:
        return self._db if self._db is not None else db_for(self.model)

    def using(self, db: Any) -> QuerySet[M]:
        """Run this query on another ``Database`` (or alias)."""
        qs = self._clone()
        if isinstance(db, str):
            from covet.db import get_database

            db = get_database(db)
        qs._db = db
        return qs

    # -- chaining --------------------------------------------------------------------------
    def _check_unsliced(self, what: str) -> None:
        if self._limit is not None or self._offset:
            raise TypeError(f"cannot {what} a QuerySet after slicing (limit/offset)")

    def filter(self, *args: Q, **kwargs: Any) -> QuerySet[M]:
        self._check_unsliced("filter")
        qs = self._clone()
        qs._filters.append(Q(*args, **kwargs))
        return qs

    def exclude(self, *args: Q, **kwargs: Any) -> QuerySet[M]:
        self._check_unsliced("filter")
        qs = self._clone()
        qs._filters.append(~Q(*args, **kwargs))
        return qs

    def order_by(self, *terms: str | OrderBy | F) -> QuerySet[M]:
        """Order by fields ("name", "-created_at", "author__name") or ``F("x").desc()``."""
        self._check_unsliced("reorder")
        qs = self._clone()
        qs._order = list(terms)
        return qs

    def reverse(self) -> QuerySet[M]:
        self._check_unsliced("reverse")
        qs = self._clone()
        terms = self._order if self._order is not None else (self.model._meta.ordering or ["pk"])
        qs._order = [_flip(t) for t in terms]
        return qs

    def limit(self, n: int) -> QuerySet[M]:
        qs = self._clone()
        qs._limit = _count(n, "limit")
        return qs

    def offset(self, n: int) -> QuerySet[M]:
        qs = self._clone()
        qs._offset = _count(n, "offset")
        return qs

    @overload
    def __getitem__(self, item: slice) -> QuerySet[M]: ...

    @overload
    def __getitem__(self, item: int) -> Coroutine[Any, Any, M]: ...

    def __getitem__(self, item: slice | int) -> Any:
        if isinstance(item, slice):
            if item.step not in (None, 1):
                raise ValueError("QuerySet slicing does not support steps")
            start = _count(item.start or 0, "slice start")
            qs = self._clone()
            base = qs._offset or 0
            if item.stop is not None:
                stop = _count(item.stop, "slice stop")
                qs._limit = (
                    max(stop - start, 0)
                    if qs._limit is None
                    else min(max(stop - start, 0), max(qs._limit - start, 0))
                )
            elif qs._limit is not None:
                qs._limit = max(qs._limit - start, 0)
            qs._offset = base + start or None
            return qs
        if isinstance(item, int) and not isinstance(item, bool):
            return self[item : item + 1]._one_or_index_error(item)
        raise TypeError("QuerySet indices must be ints or slices")

    async def _one_or_index_error(self, index: int) -> M:
        rows = await self.all()
        if not rows:
            raise IndexError(f"QuerySet index {index} out of range")
        return rows[0]

    def distinct(self, *fields: str) -> QuerySet[M]:
        """Drop duplicate rows; with field names, keep the first row per distinct value
        of those fields (``DISTINCT ON``, PostgreSQL only: the ordering must start with
        the same fields, ``order_by("author", "-created").distinct("author")``)."""
        for name in fields:
            if not isinstance(name, str) or not name:
                raise FieldError(f"invalid distinct() field name {name!r}")
        qs = self._clone()
        qs._distinct = True
        qs._distinct_fields = fields
        return qs

    def select_related(self, *names: str) -> QuerySet[M]:
        """Load forward FK / one-to-one relations and reverse one-to-ones in the same
        query (joins; nested with __)."""
        qs = self._clone()
        qs._related.extend(n for n in names if n not in qs._related)
        return qs

    def prefetch_related(self, *names: str) -> QuerySet[M]:
        """Load relations (reverse FK, m2m, forward FK) with one extra ``IN`` query each."""
        qs = self._clone()
        qs._prefetch.extend(n for n in names if n not in qs._prefetch)
        return qs

    def values(self, *names: str) -> QuerySet[Any]:
        """Rows as dicts of the named fields (all concrete fields when none are named)."""
        return self._values_clone(names, "dict")

    def values_list(self, *names: str, flat: bool = False) -> QuerySet[Any]:
        """Rows as tuples; ``flat=True`` with one name gives plain values."""
        if flat and len(names) != 1:
            raise TypeError("values_list(flat=True) needs exactly one field")
        return self._values_clone(names, "flat" if flat else "tuple")

    def _values_clone(self, names: tuple[str, ...], mode: str) -> QuerySet[Any]:
        for n in names:
            if not isinstance(n, str) or not n:
                raise FieldError(f"invalid field name {n!r}")
        qs = self._clone()
        qs._values = list(names) or [f.attname for f in self.model._meta.fields]
        qs._values_mode = mode
        qs._group_by_pk = bool(self._annotations)
        return qs

    def annotate(self, **annotations: Expression) -> QuerySet[M]:
        """Add computed values (``n=Count("posts")``) as attributes / values keys."""
        qs = self._clone()
        for name, expr in annotations.items():
            if not isinstance(expr, Expression):
                raise TypeError(
                    f"annotate({name}=...) needs an expression such as Count('x') or F('y')"
                )
            if name in self.model._meta.by_name:
                raise FieldError(f"annotation {name!r} conflicts with a field")
            qs._annotations[name] = expr
            if qs._values is not None:
                qs._values.append(name)
        return qs

    def select_for_update(self, *, nowait: bool = False, skip_locked: bool = False) -> QuerySet[M]:
        """Lock the selected rows until the transaction ends (ignored on SQLite)."""
        if nowait and skip_locked:
            raise ValueError("nowait and skip_locked are mutually exclusive")
        qs = self._clone()
        qs._for_update = (True, nowait, skip_locked)
        return qs

    def all(self) -> QuerySet[M]:
        """The QuerySet itself (a clone); await it for the list of results."""
        return self._clone() if self._result_cache is None else self

    # -- compilation ------------------------------------------------------------------------
    def _builder(self) -> QueryBuilder:
        return QueryBuilder(self.model, self._annotations)

    def _build_select(self) -> tuple[Select, QueryBuilder, Any]:
        qb = self._builder()
        sel = qb.select
        layout: Any = None
        if self._values is not None:
            kinds = []
            for name in self._values:
                expr = qb.resolve_ref(name)
                ann = self._annotations.get(name)
                kinds.append(
                    self._annotation_converter(qb, ann)
                    if isinstance(ann, Aggregate)
                    else getattr(expr, "kind", None)
                )
                sel.columns.append(expr)
            layout = kinds
        else:
            qb.add_model_columns(qb.base, self.model)
            layout = qb.add_select_related(self._related) if self._related else []
            if self._annotations:
                model_cols = list(sel.columns)
                layout = (
                    layout,
                    [
                        self._annotation_converter(qb, a) if isinstance(a, Aggregate) else None
                        for a in self._annotations.values()
                    ],
                )
                for name in self._annotations:
                    sel.columns.append(Alias(qb.annotation_expr(name), name))
                if qb.has_aggregate:
                    sel.groups = model_cols
        where = qb.build_where(self._filters)
        if where is not None:
            sel.where(where)
        if self._values is not None and qb.has_aggregate:
            # grouped by the plain values (and the pk after annotate()); decided after
            # the WHERE, whose filters on aggregate annotations become HAVING
            group = [
                c
                for n, c in zip(self._values, list(sel.columns), strict=True)
                if not isinstance(self._annotations.get(n), Aggregate)
            ]
            if self._group_by_pk:
                group.insert(0, Column(self.model._meta.pk.column, qb.base))
            sel.groups = group
        order: Sequence[Any]
        if self._order is not None:
            order = self._order
        else:
            # as Django does: Meta.ordering would have to join GROUP BY and split the
            # groups, so a grouped query ignores it (an explicit order_by() still applies)
            order = () if sel.groups else self.model._meta.ordering
        for term in order:
            qb.touched_aggregate = False
            expr, desc = qb.order_item(term)
            sel.order_by(expr.desc() if desc else expr.asc())
            if sel.groups and not qb.touched_aggregate and all(expr is not g for g in sel.groups):
                sel.groups.append(expr)
        if self._distinct_fields:
            sel.distinct_on(*self._distinct_on(qb, [o.expr for o in sel.order], order))
        elif self._distinct:
            sel.distinct()
        sel.limit(self._limit).offset(self._offset)
        if self._for_update is not None:
            sel.for_update = self._for_update
        return sel, qb, layout

    def _distinct_on(
        self, qb: QueryBuilder, ordered: list[Expr], order: Sequence[Any]
    ) -> list[Expr]:
        """The DISTINCT ON expressions, checked against the backend and the ordering.

        As PostgreSQL requires, the leading ORDER BY terms must be DISTINCT ON fields
        until all of them appeared (the ordering may also be empty or stop early).
        """
        dialect = self.db.dialect
        if not dialect.supports_distinct_on:
            raise NotSupportedError(
                f"distinct(*fields) (SELECT DISTINCT ON) is supported on PostgreSQL only, "
                f"not on {dialect.name}: use distinct() without field names"
            )
        exprs: list[Expr] = []
        for name in self._distinct_fields:
            qb.touched_aggregate = False
            exprs.append(qb.resolve_ref(name))
            if qb.touched_aggregate:
                raise FieldError(f"distinct({name!r}): an aggregate cannot be a DISTINCT ON field")
        wanted = {_expr_ref(e) for e in exprs}
        missing = set(wanted)
        for expr in ordered:
            if not missing:
                break
            ref = _expr_ref(expr)
            if ref not in wanted:
                names = ", ".join(repr(n) for n in self._distinct_fields)
                source = "" if self._order is not None else " (Meta.ordering)"
                raise FieldError(
                    f"distinct({names}) needs the ordering to start with the same fields, "
                    f"e.g. order_by({names}, ...); this query is ordered by "
                    f"({', '.join(repr(t) for t in order)}){source}"
                )
            missing.discard(ref)
        return exprs

    def _annotation_converter(self, qb: QueryBuilder, agg: Aggregate) -> Any:
        kind = qb.resolve_ref(agg.expr.name).kind if isinstance(agg.expr, F) else None  # type: ignore[attr-defined]
        dialect = self.db.dialect
        return lambda v: aggregate_value(agg, v, kind, dialect)

    def _shape(self, dialect: Any) -> tuple[tuple[Any, ...], list[Any]] | None:
        """``(cache key, filter params)`` when this query's SQL depends on no value.

        That holds for filters made only of ``field=value`` / ``field__gt=value`` (and
        gte/lt/lte) on the model's own columns with non-NULL scalar values, string
        ordering, no annotations: their compiled SQL is cached per shape and reused with
        fresh parameters (values, then LIMIT, then OFFSET, in compile order).
        """
        if self._annotations:
            return None
        order = self._order
        if order is not None and not all(type(t) is str for t in order):
            return None
        meta = self.model._meta
        shape: list[Any] = []
        params: list[Any] = []
        for q in self._filters:
            if not q.children:
                continue
            part = _q_shape(q, meta, dialect, params)
            if part is None:
                return None
            shape.append(part)
        if self._limit is not None:
            params.append(self._limit)
        if self._offset:
            params.append(self._offset)
        key = (
            "select",
            dialect.name,
            tuple(shape),
            None if order is None else tuple(order),
            self._limit is not None,
            bool(self._offset),
            self._distinct,
            self._distinct_fields,
            tuple(self._related),
            self._for_update,
            None if self._values is None else (tuple(self._values), self._values_mode),
        )
        return key, params

    def _compile(self, node: Any) -> tuple[str, list[Any]]:
        return Compiler(self.db.dialect).compile(node)

    def sql(self) -> tuple[str, list[Any]]:
        """The ``(sql, params)`` this QuerySet runs (for inspection and logging)."""
        sel, _, _ = self._build_select()
        return self._compile(sel)

    def _as_subquery(self) -> Select:
        if self._values is None:
            qs = self.values_list("pk", flat=True)
        else:
            if len(self._values) != 1:
                raise FieldError("a subquery used with __in must select exactly one field")
            qs = self
        sel, _, _ = qs._build_select()
        return sel

    # -- execution -----------------------------------------------------------------------------
    async def _fetch(self) -> list[Any]:
        if self._result_cache is not None:
            return self._result_cache
        db = self.db
        shape = self._shape(db.dialect)
        cache = self.model._meta.cache
        cached = cache.get(shape[0]) if shape is not None else None
        if cached is not None:
            sql, layout = cached
            params = shape[1]  # type: ignore[index]
        else:
            sel, qb, layout = self._build_select()
            sql, params = Compiler(db.dialect).compile(sel)
            if shape is not None and qb.cacheable and len(cache) < _MAX_CACHED_SHAPES:
                cache[shape[0]] = (sql, layout)
        rows = await db.fetch_rows(sql, params)
        if self._values is not None:
            result = shape_values(rows, self._values, self._values_mode, layout, db.dialect)
        else:
            ann_convs: list[Any] = []
            if self._annotations:
                layout, ann_convs = layout
            result = build_instances(
                self.model, rows, db.dialect, layout, list(self._annotations), ann_convs
            )
            if self._prefetch and result:
                from covet.orm.prefetch import prefetch_objects

                await prefetch_objects(result, self._prefetch)
        self._result_cache = result
        return result

    def __await__(self) -> Generator[Any, None, list[M]]:
        return self._fetch().__await__()

    async def __aiter__(self) -> AsyncIterator[M]:
        for obj in await self._fetch():
            yield obj

    async def iterator(self, chunk_size: int = 500) -> AsyncIterator[M]:
        """Stream results without loading them all (server-side cursor where available).

        ``prefetch_related`` does not apply; close early with ``contextlib.aclosing``.
        """
        if self._prefetch:
            raise TypeError("iterator() does not support prefetch_related()")
        db = self.db
        sel, _qb, layout = self._build_select()
        sql, params = Compiler(db.dialect).compile(sel)
        ann_convs: list[Any] = []
        if self._values is None and self._annotations:
            layout, ann_convs = layout
        agen = db.iterate(sql, params, chunk_size=chunk_size)
        try:
            async for row in agen:
                if self._values is not None:
                    yield shape_values([row], self._values, self._values_mode, layout, db.dialect)[
                        0
                    ]
                else:
                    yield build_instances(
                        self.model, [row], db.dialect, layout, list(self._annotations), ann_convs
                    )[0]
        finally:
            await agen.aclose()

    async def get(self, *args: Q, **kwargs: Any) -> M:
        """The single matching object; ``Model.DoesNotExist`` / ``MultipleObjectsReturned``."""
        qs = self.filter(*args, **kwargs) if args or kwargs else self
        if qs._limit is None:
            qs = qs._clone()
            qs._limit = 2
        rows = await qs._fetch()
        if not rows:
            raise self.model.DoesNotExist(f"{self.model.__name__} matching query does not exist")
        if len(rows) > 1:
            raise self.model.MultipleObjectsReturned(f"more than one {self.model.__name__} matched")
        return rows[0]

    async def first(self) -> M | None:
        ordered = self._order is not None or self.model._meta.ordering
        sliced = self._limit is not None or bool(self._offset)
        qs = self if ordered or sliced else self.order_by("pk")
        rows = await qs[:1]._fetch()
        return rows[0] if rows else None

    async def last(self) -> M | None:
        rows = await self.reverse()[:1]._fetch()
        return rows[0] if rows else None

    async def count(self) -> int:
        if self._result_cache is not None:
            return len(self._result_cache)
        sel, _, _ = self._build_select() if self._needs_subquery() else self._count_base()
        if self._needs_subquery():
            sel.order = []
            outer = Select([Func("COUNT")], Derived(sel, "subquery"))
            sel = outer
        sql, params = self._compile(sel)
        return int(await self.db.fetch_val(sql, params) or 0)

    def _needs_subquery(self) -> bool:
        return bool(
            self._distinct
            or self._limit is not None
            or self._offset
            or self._values is not None
            or self._annotations
        )

    def _count_base(self) -> tuple[Select, QueryBuilder, Any]:
        qb = self._builder()
        qb.select.columns = [Func("COUNT")]
        where = qb.build_where(self._filters)
        if where is not None:
            qb.select.where(where)
        return qb.select, qb, None

    async def exists(self) -> bool:
        if self._result_cache is not None:
            return bool(self._result_cache)
        if self._needs_subquery():
            # slices, distinct rows, values() and annotations (GROUP BY, HAVING) shape the
            # rows first: ask whether that result has one
            sel, _, _ = self._build_select()
            sel.order = []  # how many rows there are does not depend on their order
            probe = Select([Literal(1)], Derived(sel, "subquery"))
        else:
            qb = self._builder()
            probe = qb.select
            probe.columns = [Literal(1)]
            where = qb.build_where(self._filters)
            if where is not None:
                probe.where(where)
        probe.limit(1)
        sql, params = self._compile(probe)
        return await self.db.fetch_one(sql, params) is not None

    async def aggregate(self, *args: Aggregate, **kwargs: Aggregate) -> dict[str, Any]:
        """``{"views__sum": 10, "n": 3}`` for ``aggregate(Sum("views"), n=Count("id"))``."""
        if self._limit is not None or self._offset or self._distinct:
            raise FieldError("aggregate() over a sliced or distinct QuerySet is not supported")
        aggs: dict[str, Aggregate] = {a.default_alias(): a for a in args}
        aggs.update(kwargs)
        for name, agg in aggs.items():
            if not isinstance(agg, Aggregate):
                raise TypeError(f"aggregate({name}=...) needs Count/Sum/Avg/Min/Max")
        qb = self._builder()
        qb.select.columns = [Alias(agg.resolve(qb), name) for name, agg in aggs.items()]
        where = qb.build_where(self._filters)
        if where is not None:
            qb.select.where(where)
        sql, params = self._compile(qb.select)
        row = await self.db.fetch_one(sql, params)
        out: dict[str, Any] = {}
        for i, (name, agg) in enumerate(aggs.items()):
            value = row[i] if row is not None else None
            kind = qb.resolve_ref(agg.expr.name).kind if isinstance(agg.expr, F) else None  # type: ignore[attr-defined]
            out[name] = aggregate_value(agg, value, kind, self.db.dialect)
        return out

    def _pk_subquery_where(self, qb: QueryBuilder) -> Any:
        """``pk IN (SELECT pk FROM (<this query>) AS sub)``: safe for joins on every backend."""
        meta = self.model._meta
        inner = self.values_list("pk", flat=True)
        if self._limit is None and not self._offset:
            inner._order = []  # the order matters only to pick a slice
        inner._limit, inner._offset = self._limit, self._offset
        sel, _, _ = inner._build_select()
        wrapped = Select([Column(meta.pk.column, Table("subquery"))], Derived(sel, "subquery"))
        return In(Column(meta.pk.column, qb.base), wrapped)

    def _simple_where(self) -> tuple[QueryBuilder, Any]:
        """A WHERE usable directly in UPDATE/DELETE (no joins or subqueries), or via the
        pk subquery (MySQL refuses a subquery that reads the table being changed)."""
        qb = self._builder()
        where = qb.build_where(self._filters)
        if qb.select.joins or qb.uses_subquery or self._limit is not None or self._offset:
            qb = self._builder()
            where = self._pk_subquery_where(qb)
        return qb, where

    async def update(self, **values: Any) -> int:
        """``UPDATE`` the matching rows; values may be ``F()`` expressions. Returns the row count."""
        from covet.orm.persistence import update_queryset

        if self._distinct_fields:
            raise TypeError("cannot update() a QuerySet after distinct(*fields)")
        return await update_queryset(self, values)

    async def delete(self) -> int:
        """Delete the matching rows, applying ``on_delete`` rules; returns the row count."""
        from covet.orm.deletion import delete_queryset

        if self._distinct_fields:
            raise TypeError("cannot delete() a QuerySet after distinct(*fields)")
        return await delete_queryset(self)

    async def in_bulk(
        self, ids: list[Any] | None = None, *, field_name: str = "pk"
    ) -> dict[Any, M]:
        """``{key: obj}`` for the given keys (every row when ``ids`` is None)."""
        qs = self if ids is None else self.filter(**{f"{field_name}__in": list(ids)})
        key_attr = self.model._meta.get_field(field_name).attname
        return {getattr(obj, key_attr): obj for obj in await qs._fetch()}

    # -- writes through the query -------------------------------------------------------
    async def create(self, **kwargs: Any) -> M:
        obj = self.model(**kwargs)
        from covet.orm.persistence import insert_instance

        await insert_instance(obj, self.db, validate=True)
        return obj

    async def get_or_create(
        self, defaults: dict[str, Any] | None = None, **lookup: Any
    ) -> tuple[M, bool]:
        """Get the match or create it; losing an insert race (IntegrityError) re-reads the winner."""
        from covet.orm.persistence import get_or_create

        return await get_or_create(self, defaults, lookup)

    async def update_or_create(
        self, defaults: dict[str, Any] | None = None, **lookup: Any
    ) -> tuple[M, bool]:
        """Update the match with ``defaults`` (row locked) or create it."""
        from covet.orm.persistence import update_or_create

        return await update_or_create(self, defaults, lookup)

    async def bulk_create(
        self,
        objs: list[M],
        *,
        batch_size: int | None = None,
        ignore_conflicts: bool = False,
        update_conflicts: bool = False,
        unique_fields: Sequence[str] | None = None,
        update_fields: Sequence[str] | None = None,
    ) -> list[M]:
        """INSERT ``objs`` (validated first) in batches under the backend's parameter
        limit; auto pks are filled where RETURNING exists. Returns ``objs``.

        ``ignore_conflicts=True`` skips rows that violate a unique constraint (other
        errors still raise); objects without a pk keep ``pk=None`` and stay unsaved.
        ``update_conflicts=True`` makes the row that conflicts on ``unique_fields``
        (required on PostgreSQL and SQLite; MySQL uses any unique key) take the new
        values of ``update_fields``; with RETURNING every object gets its row's pk.
        See "Conflicts in bulk_create" in docs/orm.md for the saved state per backend.
        """
        from covet.orm.persistence import bulk_insert

        await bulk_insert(
            self.model,
            list(objs),
            self.db,
            batch_size,
            ignore_conflicts=ignore_conflicts,
            update_conflicts=update_conflicts,
            unique_fields=unique_fields,
            update_fields=update_fields,
        )
        return objs

    async def bulk_update(
        self, objs: list[M], fields: list[str], *, batch_size: int | None = None
    ) -> int:
        from covet.orm.persistence import bulk_update

        return await bulk_update(self.model, list(objs), fields, self.db, batch_size)


def _q_shape(q: Q, meta: Any, dialect: Any, params: list[Any]) -> tuple[Any, ...] | None:
    """The structure of ``q`` (appending its parameters in compile order), or None."""
    parts: list[Any] = []
    for child in q.children:
        if isinstance(child, Q):
            if not child.children:
                return None
            inner = _q_shape(child, meta, dialect, params)
            if inner is None:
                return None
            parts.append(inner)
            continue
        key, value = child
        name, _, lookup = key.partition("__")
        if lookup and lookup not in _SIMPLE_LOOKUPS:
            return None
        field = meta.pk if name == "pk" else (meta.by_name.get(name) or meta.by_attname.get(name))
        if field is None or field.kind in ("m2m", "json") or value is None:
            return None
        if type(value) not in _SCALARS:
            if isinstance(value, Model):
                value = value.pk
            elif not isinstance(value, _SCALAR_BASES):
                return None
        params.append(dialect.to_db(value, field.kind))
        parts.append(key)
    return (q.negated, q.connector, tuple(parts))


def _expr_ref(expr: Expr) -> Any:
    """What identifies a resolved field for DISTINCT ON checks: its table and column
    (and JSON key path); other expressions by identity."""
    if isinstance(expr, Column):
        return ("column", expr.table.ref if expr.table is not None else "", expr.name)
    if isinstance(expr, JsonKey):
        return ("json", _expr_ref(expr.expr), expr.path)
    return ("expr", id(expr))


def _flip(term: Any) -> Any:
    if isinstance(term, OrderBy):
        return OrderBy(term.expr, not term.descending)
    if isinstance(term, Expression):
        return OrderBy(term, True)
    if isinstance(term, str):
        return term[1:] if term.startswith("-") else "-" + term.lstrip("+")
    raise FieldError(f"invalid order_by term {term!r}")


def _count(n: Any, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"{what} must be a non-negative integer, not {n!r}")
    return n
