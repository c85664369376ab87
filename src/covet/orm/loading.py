"""Rows -> model instances, fast: no validation, ``__dict__`` filled in place, and per
model and dialect a row loader generated once (the fields unpacked straight into the
instance dict, converters called only where a column needs one)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from covet.db.database import get_database
from covet.db.record import Record

if TYPE_CHECKING:
    from covet.orm.base import Model
    from covet.orm.expressions import Aggregate
    from covet.orm.sqlbuild import RelatedLayout

__all__ = (
    "aggregate_value",
    "build_instances",
    "db_for",
    "model_loader",
    "row_loaders",
    "shape_values",
    "value_converters",
)

_REL = "_rel_"


def db_for(model: type[Model]) -> Any:
    """The ``Database`` a model uses: ``Meta.database`` (object or alias) or the default."""
    db = model._meta.database
    if db is None or isinstance(db, str):
        return get_database(db) if db else get_database()
    return db


def _converter(field: Any, dialect: Any) -> Callable[[Any], Any] | None:
    if field.kind == "enum" and field.enum_type is not None:
        return field.enum_type
    return dialect.from_db_converter(field.kind)


def model_loader(
    model: type[Model], dialect: Any
) -> tuple[tuple[str, ...], list[tuple[int, Callable[[Any], Any]]]]:
    """``(attnames, [(index, converter), ...])`` for ``model`` on ``dialect`` (cached)."""
    key = ("load", dialect.name)
    cache = model._meta.cache
    hit = cache.get(key)
    if hit is None:
        fields = model._meta.fields
        attnames = tuple(f.attname for f in fields)
        convs = [(i, c) for i, f in enumerate(fields) if (c := _converter(f, dialect)) is not None]
        hit = cache[key] = (attnames, convs)
    return hit


RowLoaders = tuple[Callable[[Sequence[Any]], Any], Callable[[Sequence[Any]], list[Any]]]


def row_loaders(model: type[Model], dialect: Any) -> RowLoaders:
    """``(load_one(row), load_all(rows))`` for rows holding exactly ``model``'s columns,
    generated once per model and dialect (cached)."""
    key = ("rowloaders", dialect.name)
    cache = model._meta.cache
    hit = cache.get(key)
    if hit is None:
        hit = cache[key] = _generate_loaders(model, *model_loader(model, dialect))
    return hit


def _generate_loaders(
    model: type[Model],
    attnames: tuple[str, ...],
    convs: list[tuple[int, Callable[[Any], Any]]],
) -> RowLoaders:
    converted = dict(convs)
    names = [f"v{i}" for i in range(len(attnames))]
    if converted:
        fill = [f"{', '.join(names)}, = row"]
        for i, (attname, var) in enumerate(zip(attnames, names, strict=True)):
            value = f"None if {var} is None else c{i}({var})" if i in converted else var
            fill.append(f"d[{attname!r}] = {value}")
    else:  # unpack straight into the dict, in field order (instances share their keys)
        fill = [", ".join(f"d[{a!r}]" for a in attnames) + ", = row"]
    body = "".join(f"\n{' ' * 8}{line}" for line in fill)
    source = f"""
def load_one(row):
        obj = new(model)
        d = obj.__dict__{body}
        d["_persisted"] = True
        return obj

def load_all(rows):
    out = []
    append = out.append
    for row in rows:
        obj = new(model)
        d = obj.__dict__{body}
        d["_persisted"] = True
        append(obj)
    return out
"""
    namespace: dict[str, Any] = {"new": model.__new__, "model": model}
    namespace.update({f"c{i}": conv for i, conv in convs})
    exec(compile(source, f"<covet row loader for {model.__name__}>", "exec"), namespace)
    return namespace["load_one"], namespace["load_all"]


def value_converters(kinds: Sequence[Any], dialect: Any) -> list[Callable[[Any], Any] | None]:
    """Converters for ``values()`` columns: a kind name, a ready converter, or None."""
    out: list[Callable[[Any], Any] | None] = []
    for k in kinds:
        if callable(k):
            out.append(k)
        else:
            out.append(dialect.from_db_converter(k) if k and k != "m2m" else None)
    return out


def _make(
    model: type[Model],
    values: Sequence[Any],
    attnames: tuple[str, ...],
    convs: list[tuple[int, Callable[[Any], Any]]],
) -> Any:
    if convs:
        values = list(values)
        for i, conv in convs:
            v = values[i]
            if v is not None:
                values[i] = conv(v)
    obj = model.__new__(model)
    d = obj.__dict__  # filled in place: assigning a new __dict__ costs more
    for name, value in zip(attnames, values):  # noqa: B905 (values match attnames)
        d[name] = value
    d["_persisted"] = True
    return obj


def build_instances(
    model: type[Model],
    rows: Sequence[Any],
    dialect: Any,
    layout: list[RelatedLayout] | None = None,
    annotations: Sequence[str] = (),
    annotation_converters: Sequence[Any] = (),
) -> list[Any]:
    """Instances for ``rows`` (model columns first, then select_related, then annotations)."""
    if not layout and not annotations:
        if rows and type(rows[0]) is Record:  # SQLite/MySQL: unpack the plain tuples
            rows = [r._values for r in rows]
        return row_loaders(model, dialect)[1](rows)
    attnames, convs = model_loader(model, dialect)
    n = len(attnames)
    result = []
    for r in rows:
        values = tuple(r)
        obj = _make(model, values[:n], attnames, convs)
        if layout:
            _attach(obj, values, layout, dialect)
        if annotations:
            d = obj.__dict__
            tail = values[len(values) - len(annotations) :]
            for i, (name, v) in enumerate(zip(annotations, tail, strict=False)):
                conv = annotation_converters[i] if i < len(annotation_converters) else None
                d[name] = conv(v) if conv is not None else v
        result.append(obj)
    return result


def _attach(
    parent: Any, values: tuple[Any, ...], layout: list[RelatedLayout], dialect: Any
) -> None:
    for lay in layout:
        chunk = values[lay.start : lay.end]
        pk_index = lay.model._meta.fields.index(lay.model._meta.pk)
        if chunk[pk_index] is None:
            parent.__dict__[_REL + lay.name] = None
            continue
        attnames, convs = model_loader(lay.model, dialect)
        child = _make(lay.model, chunk, attnames, convs)
        parent.__dict__[_REL + lay.name] = child
        if lay.back is not None:  # profile.author is the parent itself
            child.__dict__[_REL + lay.back] = parent
        if lay.children:
            _attach(child, values, lay.children, dialect)


def shape_values(
    rows: list[Any], names: list[str], mode: str, kinds: list[Any], dialect: Any
) -> list[Any]:
    convs = value_converters(kinds, dialect)
    if mode == "flat":
        conv = convs[0]
        return [r[0] if conv is None or r[0] is None else conv(r[0]) for r in rows]
    out = []
    for r in rows:
        vals = tuple(v if c is None or v is None else c(v) for v, c in zip(r, convs, strict=False))
        out.append(dict(zip(names, vals, strict=False)) if mode == "dict" else vals)
    return out


def aggregate_value(agg: Aggregate, value: Any, kind: str | None, dialect: Any) -> Any:
    if value is None:
        return 0 if agg.function == "COUNT" else None
    if agg.function == "COUNT":
        return int(value)
    if agg.function == "AVG":
        return float(value)
    if kind in ("int", "bigint", "smallint"):
        return int(value)
    if kind is not None and kind not in ("enum", "json"):
        return dialect.from_db(value, kind)
    return value
