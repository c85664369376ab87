"""``create_all`` / ``drop_all``: tables of the models bound to a database.

For tests and quick starts; real applications use migrations. Tables are created in
dependency order (referenced tables first) and dropped in reverse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from covet.orm.base import registry

if TYPE_CHECKING:
    from covet.orm.base import Model

__all__ = ("create_all", "drop_all", "models_for")


def models_for(db: Any) -> list[type[Model]]:
    """Concrete models whose database is ``db`` (the default database takes unbound models)."""
    from covet.orm.loading import db_for

    out: list[type[Model]] = []
    for models in registry.values():
        for m in models:
            if m._meta.abstract or not m._meta.ready:
                continue
            try:
                bound = db_for(m)
            except Exception:
                bound = None
            if bound is db:
                out.append(m)
    return _sorted(out)


def _sorted(models: list[type[Model]]) -> list[type[Model]]:
    """Referenced tables first (self references ignored); stable otherwise."""
    ordered: list[type[Model]] = []
    seen: set[type[Model]] = set()

    def visit(m: type[Model], stack: set[type[Model]]) -> None:
        if m in seen or m in stack:
            return
        stack.add(m)
        for f in m._meta.fields:
            target = f.related_model
            if target is not None and target is not m and target in models:
                visit(target, stack)
        stack.discard(m)
        seen.add(m)
        ordered.append(m)

    for m in sorted(models, key=lambda m: m._meta.table):
        visit(m, set())
    return ordered


def create_sql(model: type[Model], dialect: Any, *, if_not_exists: bool = True) -> list[str]:
    meta = model._meta
    return list(
        dialect.create_table_sql(
            meta.table,
            meta.column_specs,
            unique_together=meta.unique_together,
            indexes=meta.indexes,
            if_not_exists=if_not_exists,
        )
    )


async def create_all(db: Any, models: list[type[Model]] | None = None) -> None:
    """Create the tables (and indexes) of ``models`` (default: every model bound to ``db``)."""
    models = _sorted(models) if models is not None else models_for(db)
    for m in models:
        for stmt in create_sql(m, db.dialect):
            await db.execute(stmt)


async def drop_all(db: Any, models: list[type[Model]] | None = None) -> None:
    """Drop the tables of ``models`` (default: every model bound to ``db``), dependents first."""
    models = _sorted(models) if models is not None else models_for(db)
    for m in reversed(models):
        for stmt in db.dialect.drop_table_sql(m._meta.table, if_exists=True):
            await db.execute(stmt)
