"""``Model.objects``: the entry point for queries, plus ``raw()`` and a cached fast path
for ``get(pk=...)`` (the SQL is compiled once per model and dialect)."""

from __future__ import annotations

import uuid
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from covet.db.sql.compiler import Compiler
from covet.db.sql.nodes import Column, Param, Select, Table
from covet.orm.loading import db_for, row_loaders
from covet.orm.query import QuerySet

if TYPE_CHECKING:
    from covet.orm.base import Model

__all__ = ("Manager",)

M = TypeVar("M", bound="Model")

#: key types that are neither expressions nor model instances
_PLAIN_KEYS = frozenset({int, str, uuid.UUID})

if TYPE_CHECKING:
    # type checkers see every QuerySet method on the manager (the interpreter reaches
    # them through __getattr__), with the model's type: Post.objects.filter() is a
    # QuerySet[Post], await Post.objects.get(...) a Post
    _QuerySetMethods = QuerySet
else:
    _QuerySetMethods = Generic


class Manager(_QuerySetMethods[M]):
    """``Model.objects``: every QuerySet method starts here (``User.objects.filter(...)``);
    the manager itself behaves as ``QuerySet(Model)`` (``await User.objects`` is every row)."""

    model: type[M]

    def __init__(self) -> None:
        self.model = None  # type: ignore[assignment]

    def get_queryset(self) -> QuerySet[M]:
        if self.model._meta.pending:
            self.model._meta.check_ready()
        return QuerySet(self.model)

    def all(self) -> QuerySet[M]:
        return self.get_queryset()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or self.model is None:
            raise AttributeError(name)
        return getattr(self.get_queryset(), name)

    def __getitem__(self, item: Any) -> Any:
        return self.get_queryset()[item]

    def __aiter__(self) -> Any:
        return self.get_queryset().__aiter__()

    def __await__(self) -> Generator[Any, None, list[M]]:
        return self.get_queryset().__await__()

    async def get(self, *args: Any, **kwargs: Any) -> M:
        """The single matching object. ``get(pk=x)`` / ``get(id=x)`` runs cached SQL."""
        if args or len(kwargs) != 1:
            return await self.get_queryset().get(*args, **kwargs)
        ((key, value),) = kwargs.items()
        model = self.model
        meta = model._meta
        if meta.pending:
            meta.check_ready()
        if key not in ("pk", meta.pk.name):
            return await self.get_queryset().get(**kwargs)
        if type(value) not in _PLAIN_KEYS:  # (hasattr on a plain key raises internally)
            if value is None or hasattr(value, "resolve"):
                return await self.get_queryset().get(**kwargs)
            if hasattr(value, "_meta"):
                value = value.pk
        db = db_for(model)
        dialect = db.dialect
        plan = meta.cache.get(dialect.name)
        if plan is None:
            plan = meta.cache[dialect.name] = self._pk_plan(dialect)
        sql, to_db, load_one = plan
        rows = await db.fetch_rows(sql, [value if to_db is None else to_db(value)])
        if not rows:
            raise model.DoesNotExist(f"{model.__name__} matching query does not exist")
        return load_one(rows[0])

    def _pk_plan(self, dialect: Any) -> tuple[str, Any, Any]:
        """``(sql, pk converter, row loader)`` for ``get(pk=...)`` on ``dialect``."""
        meta = self.model._meta
        table = Table(meta.table)
        sel = Select([Column(f.column, table) for f in meta.fields], table)
        sel.where(Column(meta.pk.column, table) == Param(None))
        sql = Compiler(dialect).compile(sel)[0]
        return sql, dialect.to_db_converter(meta.pk.kind), row_loaders(self.model, dialect)[0]

    async def raw(self, sql: str, params: Sequence[Any] | None = None) -> list[M]:
        """Run your own SELECT (dialect placeholders) and map rows to instances by column name.

        Columns that are not fields become attributes; missing fields are left unset.
        """
        model = self.model
        meta = model._meta
        db = db_for(model)
        dialect = db.dialect
        by_column = {f.column: f for f in meta.fields}
        rows = await db.fetch_all(sql, list(params or ()))
        out = []
        for row in rows:
            obj = model.__new__(model)
            d: dict[str, Any] = {"_persisted": True}
            for name, value in row.items():
                f = by_column.get(name) or meta.by_attname.get(name)
                if f is None:
                    d[name] = value
                    continue
                if value is not None:
                    value = (
                        f.enum_type(value)
                        if f.kind == "enum" and f.enum_type
                        else dialect.from_db(value, f.kind)
                    )
                d[f.attname] = value
            obj.__dict__ = d
            out.append(obj)
        return out

    def __repr__(self) -> str:
        return f"<Manager {self.model.__name__ if self.model else '?'}>"
