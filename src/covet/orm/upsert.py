"""``bulk_create`` with ``ignore_conflicts`` / ``update_conflicts``: the options checked
before any SQL runs, and the INSERT ... ON CONFLICT / ON DUPLICATE KEY UPDATE batches."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from covet.db.sql.compiler import Compiler
from covet.db.sql.nodes import Insert, Param, Table
from covet.orm.exceptions import FieldError
from covet.orm.persistence import (
    _batch_rows,
    _db_values,
    _insert_fields,
    _insert_groups,
    insert_instance,
)

if TYPE_CHECKING:
    from covet.orm.base import Model

__all__ = ("bulk_upsert", "conflict_options")


def _field_names(names: Any, option: str) -> list[str]:
    if isinstance(names, str) or not all(isinstance(n, str) for n in names):
        raise TypeError(f"{option} takes a list of field names, not {names!r}")
    return list(names)


def _named_field(model: type[Model], name: str, option: str) -> Any:
    try:
        field = model._meta.get_field(name)
    except LookupError:
        raise FieldError(f"{option}: {model.__name__} has no field {name!r}") from None
    if field.is_m2m:
        raise FieldError(f"{option} cannot name the many-to-many field {name!r}")
    return field


def conflict_options(
    model: type[Model],
    dialect: Any,
    ignore_conflicts: bool,
    update_conflicts: bool,
    unique_fields: Sequence[str] | None,
    update_fields: Sequence[str] | None,
) -> tuple[bool, list[str], list[str]] | None:
    """Check ``bulk_create``'s conflict options before any SQL runs.

    None for a plain INSERT, else ``(update, conflict target columns, columns to update)``.
    """
    if ignore_conflicts and update_conflicts:
        raise ValueError("bulk_create() takes ignore_conflicts or update_conflicts, not both")
    if not update_conflicts:
        if unique_fields is not None or update_fields is not None:
            raise ValueError("unique_fields and update_fields need update_conflicts=True")
        return (False, [], []) if ignore_conflicts else None
    if not update_fields:
        raise ValueError("update_conflicts=True needs update_fields: the fields to overwrite")
    meta = model._meta
    updates: list[str] = []
    for name in _field_names(update_fields, "update_fields"):
        field = _named_field(model, name, "update_fields")
        if field.primary_key:
            raise FieldError(f"update_fields cannot include the primary key {name!r}")
        if field.column not in updates:
            updates.append(field.column)
    target: list[str] = []
    for name in _field_names(unique_fields or (), "unique_fields"):
        column = _named_field(model, name, "unique_fields").column
        if column not in target:
            target.append(column)
    if target:
        keys = [{meta.pk.column}, *({f.column} for f in meta.fields if f.unique)]
        keys += [set(cols) for cols in meta.unique_together]
        keys += [set(i.columns) for i in meta.indexes if i.unique]
        if set(target) not in keys:
            raise ValueError(
                f"unique_fields {list(unique_fields or ())!r} are not the primary key, a "
                f"unique field or a Meta.unique_together group of {model.__name__}"
            )
    elif dialect.upsert_style == "on_conflict":
        raise ValueError(
            f"update_conflicts=True needs unique_fields on {dialect.name} "
            "(the fields of the unique constraint that conflicts)"
        )
    return True, target, updates


def _upsert_sql(
    model: type[Model],
    fields: list[Any],
    dialect: Any,
    rows: int,
    target: list[str],
    updates: list[str],
    returning: bool,
) -> str:
    meta = model._meta
    names = tuple(f.name for f in fields)
    key = ("upsert", dialect.name, names, rows, tuple(target), tuple(updates), returning)
    sql = meta.cache.get(key)
    if sql is None:
        node = Insert(
            Table(meta.table),
            [f.column for f in fields],
            [[Param(None) for _ in fields] for _ in range(rows)],
            returning=[meta.pk.column] if returning else (),
            conflict_target=target,
            update_columns=updates,
        )
        sql = meta.cache[key] = Compiler(dialect).compile(node)[0]
    return sql


async def bulk_upsert(
    model: type[Model],
    objs: list[Model],
    db: Any,
    batch_size: int | None,
    update: bool,
    target: list[str],
    updates: list[str],
) -> None:
    """``INSERT ... ON CONFLICT`` / ``ON DUPLICATE KEY UPDATE`` in batches.

    Saved state afterwards (documented in docs/orm.md, "Conflicts in bulk_create"):

    - update: with RETURNING (PostgreSQL, SQLite 3.35+, MariaDB 10.5+) every object
      gets the pk of the row it inserted or updated, in row order, and is saved;
      without it (MySQL) objects keep the pk they had and stay unsaved.
    - ignore: objects without a pk keep None and stay unsaved. An object with a pk is
      saved only when its row was inserted, which RETURNING tells on PostgreSQL and
      SQLite (``ON CONFLICT DO NOTHING`` returns inserted rows only); on MySQL/MariaDB
      (a skipped row is returned too) it stays unsaved.
    """
    meta = model._meta
    dialect = db.dialect
    pk = meta.pk
    to_db = dialect.to_db
    from_db = _pk_converter(pk, dialect)
    for group, keys_given in _insert_groups(objs, pk):
        fields = _insert_fields(model, group[0])
        if not fields:  # only an auto pk: the rows cannot conflict
            for obj in group:
                await insert_instance(obj, db, validate=False)
            continue
        if update:
            returning = dialect.supports_returning
        else:
            returning = (
                keys_given
                and dialect.supports_returning
                and dialect.upsert_style == "on_conflict"
            )
        size = _batch_rows(dialect, fields, batch_size)
        for start in range(0, len(group), size):
            batch = group[start : start + size]
            sql = _upsert_sql(model, fields, dialect, len(batch), target, updates, returning)
            params: list[Any] = []
            for obj in batch:
                params.extend(_db_values(obj, fields, dialect))
            if not returning:
                await db.execute(sql, params)
                continue
            rows = await db.fetch_rows(sql, params)
            keys = [r[0] if from_db is None or r[0] is None else from_db(r[0]) for r in rows]
            if update:
                if len(keys) == len(batch):  # one row per object, in order
                    for obj, key in zip(batch, keys, strict=True):
                        obj.__dict__[pk.attname] = key
                        obj.__dict__["_persisted"] = True
                continue
            inserted: dict[Any, int] = {}
            for key in keys:
                k = to_db(key, pk.kind)
                inserted[k] = inserted.get(k, 0) + 1
            for obj in batch:  # the first object with a returned pk is the one inserted
                k = to_db(obj.pk, pk.kind)
                if inserted.get(k):
                    inserted[k] -= 1
                    obj.__dict__["_persisted"] = True


def _pk_converter(pk: Any, dialect: Any) -> Any:
    """Driver value -> Python value for the primary key (None when none is needed)."""
    if pk.kind == "enum" and getattr(pk, "enum_type", None) is not None:
        return pk.enum_type
    return dialect.from_db_converter(pk.kind)


