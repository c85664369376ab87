"""Turn a QuerySet's state into ``covet.db.sql`` nodes: field paths -> joins, lookups ->
conditions, Q trees, F expressions, aggregates, select_related column layout.

Every name a user gives (filter keys, order_by, values, F) is resolved against the
model's ``_meta``: an unknown name raises :class:`~covet.orm.exceptions.FieldError`, so
no user string ever reaches the SQL text except as a quoted, known identifier.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from covet.db.sql.nodes import (
    And,
    Column,
    Exists,
    Expr,
    JsonKey,
    Literal,
    Not,
    NotTrue,
    Or,
    Select,
    Table,
)
from covet.orm.exceptions import FieldError
from covet.orm.expressions import Aggregate, Expression, F, OrderBy, Q
from covet.orm.lookups import JSON_LOOKUPS, LOOKUPS, build_lookup

if TYPE_CHECKING:
    from covet.orm.base import Model
    from covet.orm.fields import ModelField

__all__ = ("QueryBuilder", "RelatedLayout")


class _Join:
    __slots__ = ("model", "table")

    def __init__(self, table: Table, model: type[Model]) -> None:
        self.table = table
        self.model = model


class RelatedLayout:
    """Where a select_related model's columns sit in a row: ``row[start:end]``.

    ``name`` is the attribute the loaded object is cached under on its parent (the
    forward field, or the reverse one-to-one accessor); ``back`` is, for a reverse
    one-to-one, the child's forward field that points back at the parent.
    """

    __slots__ = ("back", "children", "end", "model", "name", "start")

    def __init__(
        self, name: str, model: type[Model], start: int, end: int, back: str | None = None
    ) -> None:
        self.name = name
        self.model = model
        self.start = start
        self.end = end
        self.back = back
        self.children: list[RelatedLayout] = []


class QueryBuilder:
    """Builds one statement for one model; resolves names, owns the joins."""

    def __init__(
        self,
        model: type[Model],
        annotations: dict[str, Expression] | None = None,
        *,
        depth: int = 0,
    ) -> None:
        self.model = model
        self.meta = model._meta
        # a subquery builder (depth > 0) aliases its base table so it can correlate
        # with the enclosing query's row
        self.depth = depth
        self.base = Table(self.meta.table, f"__sub{depth}" if depth else None)
        self.select = Select((), self.base)
        self._joins: dict[tuple[str, ...], _Join] = {}
        self.annotations = annotations or {}
        self._annotation_exprs: dict[str, Expr] = {}
        self.has_aggregate = False
        self.touched_aggregate = False
        #: a path crossed a reverse FK or many-to-many relation (aggregates aside)
        self.multi_valued = False
        #: the WHERE holds a subquery (UPDATE/DELETE on MySQL then go through a derived table)
        self.uses_subquery = False
        #: False once a name bound parameters of its own (a JSON key path): the SQL then
        #: cannot be cached by shape (QuerySet._shape knows only the filter values)
        self.cacheable = True
        self._json_keys: dict[tuple[str, str, tuple[str | int, ...]], JsonKey] = {}

    # -- joins ------------------------------------------------------------------------
    def _alias(self, path: tuple[str, ...]) -> str:
        alias = "__".join(path)
        return alias if alias != self.meta.table else alias + "_1"

    def _join(
        self, path: tuple[str, ...], table_name: str, on: Any, model: type[Model], kind: str
    ) -> Table:
        existing = self._joins.get(path)
        if existing is not None:
            return existing.table
        tbl = Table(table_name, self._alias(path))
        self.select.join(tbl, on(tbl), kind)
        self._joins[path] = _Join(tbl, model)
        return tbl

    def join_relation(
        self, table: Table, model: type[Model], name: str, path: tuple[str, ...]
    ) -> tuple[Table, type[Model], ModelField | None]:
        """Join from ``table`` (of ``model``) across relation ``name``; returns the new table."""
        meta = model._meta
        field = meta.by_name.get(name)
        if field is not None and field.relation is not None:
            target = field.related_model
            assert target is not None
            tmeta = target._meta
            if field.is_m2m:
                self.multi_valued = True
                through = field.through
                src_fk, dst_fk = _through_fks(field)
                mid = self._join(
                    (*path[:-1], path[-1] + "__through"),
                    through._meta.table,
                    lambda t: Column(src_fk.column, t) == Column(meta.pk.column, table),
                    through,
                    "LEFT",
                )
                tbl = self._join(
                    path,
                    tmeta.table,
                    lambda t: Column(tmeta.pk.column, t) == Column(dst_fk.column, mid),
                    target,
                    "LEFT",
                )
                return tbl, target, None
            kind = "LEFT" if field.nullable else "INNER"
            tbl = self._join(
                path,
                tmeta.table,
                lambda t: Column(tmeta.pk.column, t) == Column(field.column, table),
                target,
                kind,
            )
            return tbl, target, field
        rel = meta.get_reverse(name)
        if rel is None:
            raise self._unknown(model, name)
        src = rel.model  # the model declaring the field
        fld = rel.field
        if rel.multiple:
            self.multi_valued = True
        if fld.is_m2m:
            through = fld.through
            src_fk, dst_fk = _through_fks(fld)
            mid = self._join(
                (*path[:-1], path[-1] + "__through"),
                through._meta.table,
                lambda t: Column(dst_fk.column, t) == Column(meta.pk.column, table),
                through,
                "LEFT",
            )
            tbl = self._join(
                path,
                src._meta.table,
                lambda t: Column(src._meta.pk.column, t) == Column(src_fk.column, mid),
                src,
                "LEFT",
            )
            return tbl, src, None
        tbl = self._join(
            path,
            src._meta.table,
            lambda t: Column(fld.column, t) == Column(meta.pk.column, table),
            src,
            "LEFT",
        )
        return tbl, src, None

    def _unknown(self, model: type[Model], name: str) -> FieldError:
        meta = model._meta
        choices = sorted([*meta.by_name, *(r.name for r in meta.related_objects)])
        return FieldError(
            f"cannot resolve {name!r} into a field of {model.__name__}; choices: {', '.join(choices)}"
        )

    # -- name resolution --------------------------------------------------------------
    def resolve_path(self, parts: list[str]) -> tuple[Expr, ModelField | None, type[Model]]:
        """Resolve ``["author", "email"]`` to a column (joining as needed)."""
        table, model = self.base, self.model
        path: tuple[str, ...] = ()
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            meta = model._meta
            field = (
                meta.pk if part == "pk" else (meta.by_name.get(part) or meta.by_attname.get(part))
            )
            if field is not None and (
                field.relation is None or part == field.attname != field.name
            ):
                if not last:
                    if field.kind == "json":
                        col = Column(field.column, table, field.kind)
                        return self.json_key(col, field, parts[i + 1 :]), field, model
                    raise FieldError(
                        f"unsupported lookup {parts[i + 1]!r} on {model.__name__}.{field.name} "
                        f"(lookups: {', '.join(sorted(LOOKUPS))})"
                    )
                return Column(field.column, table, field.kind), field, model
            if field is not None and not field.is_m2m:
                if last:
                    return Column(field.column, table, field.kind), field, model
                nxt = parts[i + 1]
                target = field.related_model
                assert target is not None
                if i + 1 == len(parts) - 1 and nxt in ("pk", target._meta.pk.name):
                    return Column(field.column, table, field.kind), field, model
            path = (*path, part)
            table, model, _ = self.join_relation(table, model, part, path)
            if last:
                pk = model._meta.pk
                return Column(pk.column, table, pk.kind), pk, model
        raise FieldError("empty field path")

    def json_key(self, col: Column, field: ModelField, steps: list[str]) -> JsonKey:
        """The value at ``data__a__0``'s key path: digit steps are array indices.

        One node per path and builder, so a path selected, grouped, ordered and used in
        DISTINCT ON compiles to one expression.
        """
        path: list[str | int] = []
        for step in steps:
            if not step:
                raise FieldError(f"empty key in the JSON path {'__'.join([field.name, *steps])!r}")
            path.append(int(step) if step.isascii() and step.isdigit() else step)
        ref = (col.table.ref if col.table is not None else "", col.name, tuple(path))
        key = self._json_keys.get(ref)
        if key is None:
            key = self._json_keys[ref] = JsonKey(col, path)
        self.cacheable = False
        return key

    def resolve_ref(self, name: str) -> Expr:
        """Resolve an ``F()`` name: an annotation or a (possibly related) field."""
        if name in self.annotations:
            return self.annotation_expr(name)
        expr, _, _ = self.resolve_path(name.split("__"))
        return expr

    def annotation_expr(self, name: str) -> Expr:
        ann = self.annotations[name]
        if isinstance(ann, Aggregate):
            self.has_aggregate = True
            self.touched_aggregate = True
        expr = self._annotation_exprs.get(name)
        if expr is None:
            multi_valued = self.multi_valued
            expr = self._annotation_exprs[name] = ann.resolve(self)
            if isinstance(ann, Aggregate):  # an aggregate's joins are grouped, not per row
                self.multi_valued = multi_valued
        return expr

    # -- filters ------------------------------------------------------------------------
    def build_filter(self, key: str, value: Any) -> Expr:
        if not isinstance(key, str) or not key:
            raise FieldError(f"invalid filter keyword {key!r}")
        parts = key.split("__")
        lookup = "exact"
        if len(parts) > 1 and (parts[-1] in LOOKUPS or parts[-1] in JSON_LOOKUPS):
            lookup = parts.pop()
        if parts[0] in self.annotations and len(parts) == 1:
            col: Expr = self.annotation_expr(parts[0])
            field = None
        else:
            col, field, _ = self.resolve_path(parts)
        if isinstance(value, Expression):
            value = value.resolve(self)
        return build_lookup(col, field, lookup, value, self)

    def build_q(self, q: Q, aggregate: bool = False) -> Expr:
        if q.negated and not aggregate and q.children and not self._own_columns_only(q):
            excluded = self._negated_across_relations(q)
            if excluded is not None:
                return excluded
        parts: list[Expr] = []
        for child in q.children:
            if isinstance(child, Q):
                parts.append(self.build_q(child, aggregate))
            else:
                parts.append(self.build_filter(child[0], child[1]))
        expr: Expr
        if not parts:
            expr = And()
        elif len(parts) == 1:
            expr = parts[0]
        else:
            expr = And(*parts) if q.connector == Q.AND else Or(*parts)
        # the complement of filter(q): rows where q is false *or NULL* (a NULL column,
        # a missing related row) are kept, as they are by exclude() in Django
        return NotTrue(expr) if q.negated else expr

    def _own_columns_only(self, q: Q) -> bool:
        """True when every leaf of ``q`` compares one of the model's own columns to a value."""
        meta = self.meta
        for child in q.children:
            if isinstance(child, Q):
                if not self._own_columns_only(child):
                    return False
                continue
            key, value = child
            parts = key.split("__") if isinstance(key, str) else [key]
            if len(parts) == 2 and parts[1] in LOOKUPS:
                parts.pop()
            name = parts[0]
            field = (
                meta.pk if name == "pk" else (meta.by_name.get(name) or meta.by_attname.get(name))
            )
            if field is not None and field.kind == "json" and not isinstance(value, Expression):
                continue  # a key path inside the model's own JSON column
            if len(parts) != 1 or field is None or field.is_m2m or isinstance(value, Expression):
                return False
        return True

    def _negated_across_relations(self, q: Q) -> Expr | None:
        """``NOT EXISTS (...)`` for a negated ``q`` that crosses a multi-valued relation.

        The condition is built in a subquery over the same model, correlated on the
        primary key: an object is excluded when any combination of its related rows
        matches (exactly the objects ``filter()`` would return), and objects with no
        related rows are kept. Returns None when ``q`` crosses only single-valued
        relations (a plain ``NOT`` over the joins is then correct).
        """
        sub = QueryBuilder(self.model, self.annotations, depth=self.depth + 1)
        inner = _positive(q)
        cond = sub.build_q(inner)
        if not sub.multi_valued:
            return None
        if sub.touched_aggregate:
            # Aggregates belong to the outer query's HAVING: negate each part on its own
            # (De Morgan), so the multi-valued parts still get their own subquery.
            return self._negate_parts(inner)
        pk = self.meta.pk.column
        sub.select.columns = [Literal(1)]
        sub.select.where(Column(pk, sub.base) == Column(pk, self.base), cond)
        self.uses_subquery = True
        self.cacheable = self.cacheable and sub.cacheable
        return Not(Exists(sub.select))

    def _negate_parts(self, q: Q) -> Expr | None:
        """``NOT q`` as the combination of its negated children (None for a single leaf)."""
        children = q.children
        if len(children) == 1:
            child = children[0]
            if not isinstance(child, Q):
                return None
            if child.negated:
                return self.build_q(_positive(child))
            return self._negate_parts(child)
        parts = [self.build_q(~c if isinstance(c, Q) else ~Q(**{c[0]: c[1]})) for c in children]
        return Or(*parts) if q.connector == Q.AND else And(*parts)

    def build_where(self, filters: list[Q]) -> Expr | None:
        """The WHERE condition; filters on aggregate annotations go to HAVING."""
        conds: list[Expr] = []
        for q in filters:
            if not q.children:
                continue
            self.touched_aggregate = False
            cond = self.build_q(q)
            if self.touched_aggregate:
                self.select.having(cond)
            else:
                conds.append(cond)
        if not conds:
            return None
        return conds[0] if len(conds) == 1 else And(*conds)

    # -- ordering -----------------------------------------------------------------------
    def order_item(self, item: str | OrderBy | F) -> tuple[Expr, bool]:
        if isinstance(item, OrderBy):
            return item.expr.resolve(self), item.descending
        if isinstance(item, Expression):
            return item.resolve(self), False
        if not isinstance(item, str) or not item:
            raise FieldError(f"invalid order_by term {item!r}")
        desc = item.startswith("-")
        name = item[1:] if desc or item.startswith("+") else item
        return self.resolve_ref(name), desc

    # -- select_related -------------------------------------------------------------------
    def add_model_columns(self, table: Table, model: type[Model]) -> tuple[int, int]:
        start = len(self.select.columns)
        self.select.columns.extend(Column(f.column, table) for f in model._meta.fields)
        return start, len(self.select.columns)

    def add_select_related(self, names: list[str]) -> list[RelatedLayout]:
        layouts: dict[tuple[str, ...], RelatedLayout] = {}
        roots: list[RelatedLayout] = []
        for dotted in names:
            parts = dotted.split("__")
            table, model = self.base, self.model
            path: tuple[str, ...] = ()
            parent: RelatedLayout | None = None
            for part in parts:
                field = model._meta.by_name.get(part)
                rel = model._meta.get_reverse(part) if field is None else None
                back = None
                if rel is not None and not rel.multiple:  # reverse one-to-one
                    back = rel.field.name
                elif field is None or field.relation is None or field.is_m2m:
                    raise FieldError(
                        f"select_related: {part!r} is not a foreign key or one-to-one field "
                        f"(or reverse one-to-one) of {model.__name__}"
                    )
                path = (*path, part)
                table, model, _ = self.join_relation(table, model, part, path)
                layout = layouts.get(path)
                if layout is None:
                    start, end = self.add_model_columns(table, model)
                    layout = layouts[path] = RelatedLayout(part, model, start, end, back)
                    (parent.children if parent is not None else roots).append(layout)
                parent = layout
        return roots


def _positive(q: Q) -> Q:
    """``q`` without its negation."""
    out = Q(_connector=q.connector)
    out.children = list(q.children)
    return out


def _through_fks(field: ModelField) -> tuple[ModelField, ModelField]:
    """The (source, target) foreign keys of an m2m field's through model."""
    through = field.through
    src_name, dst_name = field.through_fields
    tmeta = through._meta
    return tmeta.by_name[src_name], tmeta.by_name[dst_name]
