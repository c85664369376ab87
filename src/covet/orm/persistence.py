"""Writes: insert/update of one instance, queryset UPDATE, bulk create/update.

INSERT and UPDATE-by-pk SQL is compiled once per model and dialect and cached on
``_meta.cache``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from covet.db.sql.compiler import Compiler
from covet.db.sql.nodes import Case, Cast, Column, Expr, In, Insert, Param, Table, Update
from covet.orm.exceptions import FieldError
from covet.orm.expressions import Expression
from covet.orm.loading import db_for
from covet.orm.validation import validate_fields

if TYPE_CHECKING:
    from covet.orm.base import Model
    from covet.orm.fields import ModelField
    from covet.orm.query import QuerySet

__all__ = (
    "bulk_insert",
    "bulk_update",
    "get_or_create",
    "insert_instance",
    "save_instance",
    "update_or_create",
    "update_queryset",
)


def _insert_fields(model: type[Model], obj: Model) -> list[Any]:
    """Concrete fields to insert: an auto primary key is left out while it is None."""
    d = obj.__dict__
    return [f for f in model._meta.fields if not (f.auto and d.get(f.attname) is None)]


def _insert_sql(model: type[Model], fields: list[Any], dialect: Any, rows: int = 1) -> str:
    key = ("insert", dialect.name, tuple(f.name for f in fields), rows)
    cache = model._meta.cache
    sql = cache.get(key)
    if sql is None:
        node = Insert(
            Table(model._meta.table),
            [f.column for f in fields],
            [[Param(None) for _ in fields] for _ in range(rows)],
        )
        sql = cache[key] = Compiler(dialect).compile(node)[0]
    return sql


def _db_values(obj: Model, fields: list[Any], dialect: Any) -> list[Any]:
    d = obj.__dict__
    to_db = dialect.to_db
    return [to_db(d.get(f.attname), f.kind) for f in fields]


async def insert_instance(obj: Model, db: Any = None, *, validate: bool = True) -> None:
    model = type(obj)
    if validate:
        obj.validate()
    db = db if db is not None else db_for(model)
    dialect = db.dialect
    fields = _insert_fields(model, obj)
    params = _db_values(obj, fields, dialect)
    pk = model._meta.pk
    if pk.auto and obj.__dict__.get(pk.attname) is None:
        if not fields:
            sql = Compiler(dialect).compile(Insert(Table(model._meta.table), [], [[]]))[0]
        else:
            sql = _insert_sql(model, fields, dialect)
        if dialect.supports_returning:
            new_id = await db.fetch_val(sql + dialect.returning_clause([pk.column]), params)
        else:
            new_id = await db.insert_returning_id(sql, params, pk=pk.column)
        obj.__dict__[pk.attname] = int(new_id) if new_id is not None else None
    else:
        await db.execute(_insert_sql(model, fields, dialect), params)
    obj.__dict__["_persisted"] = True


async def save_instance(
    obj: Model, *, update_fields: list[str] | None = None, validate: bool = True
) -> None:
    model = type(obj)
    meta = model._meta
    meta.check_ready()
    db = db_for(model)
    if not obj.__dict__.get("_persisted") and update_fields is None:
        await insert_instance(obj, db, validate=validate)
        return
    if obj.pk is None:
        raise ValueError(f"cannot update a {model.__name__} without a primary key")
    if update_fields is None:
        fields = [f for f in meta.fields if not f.primary_key]
        if validate:
            obj.validate()
    else:
        fields = [meta.get_field(n) for n in update_fields]
        for f in fields:
            if f.is_m2m or f.primary_key:
                raise FieldError(f"update_fields cannot include {f.name!r}")
        if validate:
            validate_fields(obj, fields)
    if not fields:
        return
    dialect = db.dialect
    key = ("update_pk", dialect.name, tuple(f.name for f in fields))
    sql = meta.cache.get(key)
    if sql is None:
        table = Table(meta.table)
        node = Update(
            table,
            {f.column: Param(None) for f in fields},
            Column(meta.pk.column, table) == Param(None),
        )
        sql = meta.cache[key] = Compiler(dialect).compile(node)[0]
    params = _db_values(obj, fields, dialect)
    params.append(dialect.to_db(obj.pk, meta.pk.kind))
    n = await db.execute(sql, params)
    if n == 0 and update_fields is None and not obj.__dict__.get("_persisted"):
        await insert_instance(obj, db, validate=False)
    obj.__dict__["_persisted"] = True


def _resolve_update_value(qb: Any, field: Any, value: Any) -> Expr:
    from covet.orm.base import Model

    if isinstance(value, Expression):
        return value.resolve(qb)
    if isinstance(value, Model):
        value = value.pk
    return Param(value, field.kind)


async def update_queryset(qs: QuerySet[Any], values: dict[str, Any]) -> int:
    if not values:
        raise ValueError("update() needs at least one field")
    model = qs.model
    meta = model._meta
    qb, where = qs._simple_where()
    sets: dict[str, Expr] = {}
    for name, value in values.items():
        field = (
            meta.get_field(name)
            if name in meta.by_name or name in meta.by_attname or name == "pk"
            else None
        )
        if field is None:
            raise FieldError(f"{model.__name__} has no field {name!r}")
        if field.is_m2m:
            raise FieldError(f"update() cannot set the many-to-many field {name!r}")
        if not isinstance(value, Expression):
            from covet.orm.validation import check_value

            check_value(field, value.pk if hasattr(value, "_meta") else value)
        sets[field.column] = _resolve_update_value(qb, field, value)
    if qb.select.joins:
        raise FieldError("F() expressions in update() cannot span relations")
    node = Update(qb.base, sets, where)
    sql, params = Compiler(qs.db.dialect).compile(node)
    return int(await qs.db.execute(sql, params))


def _insert_groups(objs: list[Model], pk: ModelField) -> list[tuple[list[Model], bool]]:
    """``(objects, keys_given)``: those that bring their key, then those whose auto key
    the database makes (one INSERT shape per group); empty groups left out."""
    with_pk = [o for o in objs if not (pk.auto and o.pk is None)]
    without_pk = [o for o in objs if pk.auto and o.pk is None]
    return [(group, given) for group, given in ((with_pk, True), (without_pk, False)) if group]


async def bulk_insert(
    model: type[Model],
    objs: list[Model],
    db: Any,
    batch_size: int | None,
    *,
    ignore_conflicts: bool = False,
    update_conflicts: bool = False,
    unique_fields: Sequence[str] | None = None,
    update_fields: Sequence[str] | None = None,
) -> list[Model]:
    """INSERT many rows in batches that respect the backend's parameter limit; with
    ``ignore_conflicts`` / ``update_conflicts`` an upsert (``covet.orm.upsert``)."""
    dialect = db.dialect
    if batch_size is not None and (isinstance(batch_size, bool) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}")
    from covet.orm.upsert import bulk_upsert, conflict_options

    conflict = conflict_options(
        model, dialect, ignore_conflicts, update_conflicts, unique_fields, update_fields
    )
    if not objs:
        return objs
    for obj in objs:
        if not isinstance(obj, model):
            raise TypeError(f"bulk_create takes {model.__name__} instances")
        obj.validate()
    if conflict is not None:
        await bulk_upsert(model, objs, db, batch_size, *conflict)
        return objs
    meta = model._meta
    pk = meta.pk
    for group, keys_given in _insert_groups(objs, pk):
        fields = _insert_fields(model, group[0])
        if not fields:
            for obj in group:
                await insert_instance(obj, db, validate=False)
            continue
        size = _batch_rows(dialect, fields, batch_size)
        needs_ids = not keys_given
        if needs_ids and not dialect.supports_returning:
            async with db.transaction():
                for obj in group:
                    await insert_instance(obj, db, validate=False)
            continue
        for start in range(0, len(group), size):
            batch = group[start : start + size]
            sql = _insert_sql(model, fields, dialect, rows=len(batch))
            params: list[Any] = []
            for obj in batch:
                params.extend(_db_values(obj, fields, dialect))
            if needs_ids:
                rows = await db.fetch_all(sql + dialect.returning_clause([pk.column]), params)
                for obj, row in zip(batch, rows, strict=False):
                    obj.__dict__[pk.attname] = row[0]
            else:
                await db.execute(sql, params)
        for obj in group:
            obj.__dict__["_persisted"] = True
    return objs


def _batch_rows(dialect: Any, fields: list[Any], batch_size: int | None) -> int:
    """Rows per INSERT: ``batch_size`` capped by the backend's parameter limit and 500."""
    limit = max(1, min(getattr(dialect, "max_params", 999) // max(len(fields), 1), 500))
    return min(batch_size or limit, limit)


async def bulk_update(
    model: type[Model], objs: list[Model], names: list[str], db: Any, batch_size: int | None
) -> int:
    """One ``UPDATE ... SET col = CASE pk WHEN ... END WHERE pk IN (...)`` per batch."""
    if not objs:
        return 0
    if not names:
        raise ValueError("bulk_update() needs the names of the fields to update")
    meta = model._meta
    fields = [meta.get_field(n) for n in names]
    for f in fields:
        if f.primary_key or f.is_m2m:
            raise FieldError(f"bulk_update cannot set {f.name!r}")
    for obj in objs:
        if obj.pk is None:
            raise ValueError("bulk_update() needs saved objects")
        validate_fields(obj, fields)
    dialect = db.dialect
    per_row = 2 * len(fields) + 1
    size = max(1, min(batch_size or 500, getattr(dialect, "max_params", 999) // per_row))
    pk = meta.pk
    to_db = dialect.to_db
    total = 0
    for start in range(0, len(objs), size):
        batch = objs[start : start + size]
        sql = _bulk_update_sql(model, fields, len(batch), dialect)
        pks = [to_db(o.pk, pk.kind) for o in batch]
        params: list[Any] = []
        for f in fields:
            for o, key in zip(batch, pks, strict=True):
                params.append(key)
                params.append(to_db(o.__dict__.get(f.attname), f.kind))
        params.extend(pks)
        total += int(await db.execute(sql, params))
    return total


def _bulk_update_sql(model: type[Model], fields: list[Any], rows: int, dialect: Any) -> str:
    """``UPDATE t SET c = CASE WHEN pk = ? THEN ? ... ELSE c END WHERE pk IN (...)`` (cached)."""
    meta = model._meta
    key = ("bulk_update", dialect.name, tuple(f.name for f in fields), rows)
    sql = meta.cache.get(key)
    if sql is None:
        table = Table(meta.table)
        pk_col = Column(meta.pk.column, table)
        sets: dict[str, Any] = {}
        for f in fields:
            whens = [(pk_col == Param(None), _typed_param(None, f, dialect)) for _ in range(rows)]
            sets[f.column] = Case(whens, default=Column(f.column, table))
        node = Update(table, sets, In(pk_col, [Param(None) for _ in range(rows)]))
        sql = meta.cache[key] = Compiler(dialect).compile(node)[0]
    return sql


def _typed_param(value: Any, field: Any, dialect: Any) -> Expr:
    """A CASE branch value, cast so PostgreSQL can infer the parameter's type."""
    return Cast(
        Param(value, field.kind),
        field.kind,
        max_length=field.max_length if field.kind in ("str", "enum") else None,
        max_digits=field.max_digits,
        decimal_places=field.decimal_places,
    )


async def get_or_create(
    qs: QuerySet[Any], defaults: dict[str, Any] | None, lookup: dict[str, Any]
) -> tuple[Any, bool]:
    from covet.db.exceptions import IntegrityError

    model = qs.model
    try:
        return await qs.get(**lookup), False
    except model.DoesNotExist:
        pass
    params = {k: v for k, v in lookup.items() if "__" not in k}
    params.update(defaults or {})
    try:
        async with qs.db.transaction():
            return await qs.create(**params), True
    except IntegrityError:
        # Another task inserted the same row first: return that one.
        return await qs.get(**lookup), False


async def update_or_create(
    qs: QuerySet[Any], defaults: dict[str, Any] | None, lookup: dict[str, Any]
) -> tuple[Any, bool]:
    async with qs.db.transaction():
        try:
            obj = await qs.select_for_update().get(**lookup)
        except qs.model.DoesNotExist:
            return await get_or_create(qs, defaults, lookup)
        for k, v in (defaults or {}).items():
            setattr(obj, k, v)
        if defaults:
            await obj.save(update_fields=list(defaults))
        return obj, False
