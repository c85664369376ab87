"""``Model._meta``: the model's schema, read by the ORM, ``create_all`` and migrations.

Attributes of :class:`Options` (all stable, documented for the migrations engine):

- ``model``: the model class; ``name``: its class name; ``table``: the table name.
- ``fields``: concrete fields (one column each) in declaration order, primary key first
  when it was auto-added. Each :class:`~covet.orm.fields.Field` has ``name``, ``column``,
  ``kind`` (a ``covet.db`` column kind), ``primary_key``, ``auto``, ``nullable``,
  ``unique``, ``index``, ``max_length``, ``max_digits``, ``decimal_places``, ``default``
  / ``default_factory`` (``has_default``), ``choices``, and for relations ``relation.kind``
  ("fk"/"o2o"), ``related_model``, ``on_delete``, ``related_name``; ``column_spec()``
  gives the ``covet.db.dialects.schema.ColumnSpec``.
- ``pk``: the primary-key field. ``m2m``: many-to-many fields (no column; ``through``
  is the through model, whose ``_meta.auto_created`` is True when generated).
- ``indexes``: ``IndexSpec`` list (``index=True`` fields and ``Meta.indexes``).
- ``unique_together``: list of column-name tuples.
- ``ordering``: default ordering (list of "field" / "-field").
- ``related_objects``: reverse relations pointing at this model (:class:`ReverseRelation`).
- ``database``: ``Meta.database`` (a Database or an alias), None for the default.
- ``auto_created``: True for generated m2m through models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from covet.db.dialects.schema import ColumnSpec, IndexSpec

if TYPE_CHECKING:
    from covet.orm.base import Model
    from covet.orm.fields import ModelField

__all__ = ("Options", "ReverseRelation")


class ReverseRelation:
    """A relation seen from its target: ``User._meta.related_objects`` has ``posts``."""

    __slots__ = ("field", "model", "name")

    def __init__(self, name: str, model: type[Model], field: ModelField) -> None:
        self.name = name
        self.model = model  # the model that declares the field
        self.field = field

    @property
    def multiple(self) -> bool:
        """True for reverse FK and m2m (a manager); False for reverse one-to-one."""
        return self.field.relation is not None and self.field.relation.kind != "o2o"

    def __repr__(self) -> str:
        return f"<ReverseRelation {self.name} -> {self.model.__name__}.{self.field.name}>"


class Options:
    """Schema of one model; see the module docstring for the attribute list."""

    def __init__(self, model: type[Model], meta: Any) -> None:
        self.model = model
        self.name = model.__name__
        self.table: str = getattr(meta, "table", None) or _snake(model.__name__)
        self.ordering: list[str] = list(getattr(meta, "ordering", ()) or ())
        self.database: Any = getattr(meta, "database", None)
        self.abstract: bool = bool(getattr(meta, "abstract", False))
        self.auto_created: bool = bool(getattr(meta, "auto_created", False))
        self.unique_together_names: list[tuple[str, ...]] = [
            tuple(g) for g in (getattr(meta, "unique_together", ()) or ())
        ]
        if (
            self.unique_together_names
            and isinstance(self.unique_together_names[0], tuple)
            and all(isinstance(x, str) and len(x) == 1 for x in self.unique_together_names[0])
        ):
            raise TypeError("Meta.unique_together is a list of tuples of field names")
        self.index_names: list[tuple[str, ...]] = [
            (i,) if isinstance(i, str) else tuple(i) for i in (getattr(meta, "indexes", ()) or ())
        ]
        self.fields: list[ModelField] = []
        self.m2m: list[ModelField] = []
        self.pk: ModelField = None  # type: ignore[assignment]
        self.related_objects: list[ReverseRelation] = []
        self.by_name: dict[str, ModelField] = {}
        self.by_attname: dict[str, ModelField] = {}
        self.pending: list[ModelField] = []
        # Per-dialect caches (SQL strings, converter tuples) filled on first use.
        self.cache: dict[Any, Any] = {}

    # -- registration (metaclass) ----------------------------------------------------
    def add_field(self, field: ModelField) -> None:
        if field.name in self.by_name:
            raise TypeError(f"{self.name}: duplicate field {field.name!r}")
        self.by_name[field.name] = field
        if field.is_m2m:
            self.m2m.append(field)
            return
        if field.primary_key:
            if self.pk is not None:
                raise TypeError(f"{self.name}: only one primary key is supported")
            self.pk = field
        self.fields.append(field)
        self.by_attname[field.attname] = field

    @property
    def ready(self) -> bool:
        """True once every relation target is resolved."""
        return not self.pending

    def check_ready(self) -> None:
        """Raise ImproperlyConfigured while a relation names a model not defined yet."""
        if self.pending:
            from covet.exceptions import ImproperlyConfigured

            names = ", ".join(
                f"{f.name} -> {getattr(f.relation.target, 'name', f.relation.target)!r}"
                for f in self.pending
                if f.relation is not None
            )
            raise ImproperlyConfigured(
                f"{self.name} has relations to models that are not defined: {names} "
                "(define them in the same module, import the class, or use 'module.Model')"
            )

    # -- derived schema ----------------------------------------------------------------
    @property
    def columns(self) -> list[str]:
        return [f.column for f in self.fields]

    @property
    def column_specs(self) -> list[ColumnSpec]:
        return [f.column_spec() for f in self.fields]

    @property
    def unique_together(self) -> list[tuple[str, ...]]:
        return [
            tuple(self.get_field(n).column for n in group) for group in self.unique_together_names
        ]

    @property
    def indexes(self) -> list[IndexSpec]:
        out = [IndexSpec(self.table, (f.column,)) for f in self.fields if f.index and not f.unique]
        for f in self.fields:
            # Foreign keys are indexed (PostgreSQL and SQLite do not do it on their own).
            if f.relation is not None and not f.unique and not f.index:
                out.append(IndexSpec(self.table, (f.column,)))
        out.extend(
            IndexSpec(self.table, tuple(self.get_field(n).column for n in names))
            for names in self.index_names
        )
        return out

    def get_field(self, name: str) -> ModelField:
        """The field called ``name`` (or whose attname is ``name``; ``pk`` is the primary key)."""
        if name == "pk":
            return self.pk
        f = self.by_name.get(name) or self.by_attname.get(name)
        if f is None:
            raise LookupError(f"{self.name} has no field {name!r}")
        return f

    def get_reverse(self, name: str) -> ReverseRelation | None:
        for rel in self.related_objects:
            if rel.name == name:
                return rel
        return None

    def __repr__(self) -> str:
        return f"<Options {self.name} table={self.table!r}>"


def _snake(name: str) -> str:
    out: list[str] = []
    for i, ch in enumerate(name):
        if (
            ch.isupper()
            and i
            and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower()))
        ):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)
