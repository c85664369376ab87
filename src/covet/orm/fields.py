"""Model fields: ``Field(...)`` options, type annotations resolved to column kinds.

A field is declared with an annotation and, optionally, ``Field(...)``::

    id: int = Field(primary_key=True)
    email: str = Field(max_length=255, unique=True)
    name: str | None = None                   # nullable, default None
    author: ForeignKey[User] = Field(on_delete="cascade", related_name="posts")

``Field(...)`` builds a :class:`ModelField` (what ``Model._meta.fields`` holds). Type
checkers see it as returning ``Any``, as pydantic's and SQLModel's ``Field`` do, so
``email: str = Field(...)`` type-checks as a ``str`` attribute. The metaclass calls
:meth:`ModelField.bind` with the resolved annotation; after that the field knows its
``name``, ``column``, ``kind`` and nullability.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import types
import typing
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from covet._typing import returns_any
from covet.db.dialects.schema import NO_DEFAULT, ON_DELETE_ACTIONS, ColumnSpec, ForeignKeySpec

if TYPE_CHECKING:
    from covet.orm.base import Model

__all__ = ("JSON", "MISSING", "Field", "ModelField", "RelationSpec")


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


class JSON:
    """Annotation marker for a JSON column holding any JSON value (``data: JSON``)."""


_SCALAR_KINDS: tuple[tuple[type, str], ...] = (
    (bool, "bool"),
    (int, "int"),
    (float, "float"),
    (decimal.Decimal, "decimal"),
    (dt.datetime, "datetime"),
    (dt.date, "date"),
    (dt.time, "time"),
    (uuid.UUID, "uuid"),
    (bytes, "bytes"),
    (str, "str"),
)
_INT_KINDS = frozenset({"int", "bigint", "smallint"})


class RelationSpec:
    """Relation details of a field: ``kind`` is "fk", "o2o" or "m2m"."""

    __slots__ = ("kind", "nullable", "target")

    def __init__(self, kind: str, target: Any, nullable: bool = False) -> None:
        self.kind = kind
        self.target = target  # a Model class, or a str name resolved later
        self.nullable = nullable

    def __or__(self, other: Any) -> RelationSpec:
        if other is None or other is type(None):
            return RelationSpec(self.kind, self.target, nullable=True)
        return NotImplemented

    __ror__ = __or__

    def __repr__(self) -> str:
        return f"RelationSpec({self.kind!r}, {self.target!r}, nullable={self.nullable})"


class ModelField:
    """One model field (a column, or a many-to-many relation that owns no column).

    Options: ``primary_key``, ``auto`` (auto increment; default for an int primary key),
    ``unique``, ``index``, ``nullable`` (default: from ``X | None``), ``default``,
    ``default_factory``, ``max_length``, ``db_column``, ``choices``, ``max_digits``,
    ``decimal_places``, ``json`` (store as JSON), ``big`` (64-bit int; auto-increment
    primary keys are 64-bit unless ``big=False``), ``min_length``,
    ``ge``/``le`` (bounds checked on validation), ``description``. Relations also take
    ``on_delete`` ("cascade", "set_null", "restrict", "protect", "do_nothing"),
    ``related_name``, ``through`` (m2m) and ``db_constraint``.
    """

    __slots__ = (
        "auto",
        "big",
        "choices",
        "column",
        "db_column",
        "db_constraint",
        "decimal_places",
        "default",
        "default_factory",
        "description",
        "enum_type",
        "explicit_nullable",
        "ge",
        "index",
        "json",
        "kind",
        "le",
        "max_digits",
        "max_length",
        "min_length",
        "model",
        "name",
        "nullable",
        "on_delete",
        "primary_key",
        "python_type",
        "related_model",
        "related_name",
        "relation",
        "through",
        "through_fields",
        "unique",
    )

    def __init__(
        self,
        default: Any = MISSING,
        *,
        default_factory: Callable[[], Any] | None = None,
        primary_key: bool = False,
        auto: bool | None = None,
        unique: bool = False,
        index: bool = False,
        nullable: bool | None = None,
        max_length: int | None = None,
        min_length: int | None = None,
        db_column: str | None = None,
        choices: Any = None,
        max_digits: int | None = None,
        decimal_places: int | None = None,
        json: bool = False,
        big: bool | None = None,
        ge: Any = None,
        le: Any = None,
        on_delete: str = "cascade",
        related_name: str | None = None,
        through: Any = None,
        db_constraint: bool = True,
        description: str | None = None,
    ) -> None:
        if default is not MISSING and default_factory is not None:
            raise TypeError("give either default or default_factory, not both")
        if on_delete not in ON_DELETE_ACTIONS:
            raise ValueError(
                f"on_delete must be one of {sorted(ON_DELETE_ACTIONS)}, not {on_delete!r}"
            )
        if max_length is not None and (not isinstance(max_length, int) or max_length <= 0):
            raise ValueError(f"max_length must be a positive int, not {max_length!r}")
        self.default = default
        self.default_factory = default_factory
        self.primary_key = primary_key
        self.auto = auto
        self.unique = unique
        self.index = index
        self.explicit_nullable = nullable
        self.nullable = bool(nullable)
        self.max_length = max_length
        self.min_length = min_length
        self.db_column = db_column
        self.choices = choices
        self.max_digits = max_digits
        self.decimal_places = decimal_places
        self.json = json
        self.big = big
        self.ge = ge
        self.le = le
        self.on_delete = on_delete
        self.related_name = related_name
        self.through = through
        self.through_fields: tuple[str, str] = ("", "")
        self.db_constraint = db_constraint
        self.description = description
        self.name = ""
        self.column = ""
        self.kind = ""
        self.python_type: Any = None
        self.enum_type: type[enum.Enum] | None = None
        self.relation: RelationSpec | None = None
        self.related_model: type[Model] | None = None
        self.model: type[Model] | None = None

    def __repr__(self) -> str:
        owner = self.model.__name__ if self.model is not None else "?"
        return f"<ModelField {owner}.{self.name} kind={self.kind!r}>"

    # -- binding -----------------------------------------------------------------------
    def bind(self, model: type[Model], name: str, annotation: Any) -> None:
        """Resolve the annotation into kind/nullability; called once by the metaclass."""
        self.model = model
        self.name = name
        if name.startswith("_") or "__" in name:
            raise TypeError(
                f"{model.__name__}.{name}: field names cannot start with '_' or contain '__'"
            )
        inner, optional = _unwrap_optional(annotation)
        if isinstance(inner, RelationSpec):
            self.relation = inner
            optional = optional or inner.nullable
            if inner.kind == "m2m":
                self.kind = "m2m"
                self.column = ""
                self.nullable = False
                return
            self.column = self.db_column or f"{name}_id"
            if self.on_delete == "set_null":
                optional = True
        else:
            self.column = self.db_column or name
            self.python_type = inner
            self.kind = self._kind_for(inner, model, name)
        if self.explicit_nullable is not None:
            self.nullable = self.explicit_nullable
        else:
            # ``x: T = None`` declares a nullable field just like ``x: T | None = None``.
            self.nullable = optional or (self.default is None and not self.primary_key)
        if self.primary_key:
            self.nullable = False
            if self.auto is None:
                self.auto = self.kind in _INT_KINDS
            if self.auto and self.kind == "int" and self.big is None:
                # auto-increment keys are 64-bit unless big=False asks for INTEGER
                self.kind = "bigint"
        elif self.auto:
            raise TypeError(f"{model.__name__}.{name}: auto=True is only for primary keys")
        if self.auto and self.kind not in _INT_KINDS:
            raise TypeError(f"{model.__name__}.{name}: auto increment needs an int field")
        if self.nullable and self.default is MISSING and self.default_factory is None:
            self.default = None

    def _kind_for(self, tp: Any, model: type[Model], name: str) -> str:
        if self.json or tp is JSON or tp is Any:
            return "json"
        origin = typing.get_origin(tp)
        if origin in (dict, list) or tp in (dict, list):
            return "json"
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            self.enum_type = tp
            if self.max_length is None:
                self.max_length = max((len(str(m.value)) for m in tp), default=1)
                self.max_length = max(self.max_length, 32)
            return "enum"
        if typing.get_origin(tp) is typing.Literal:
            self.choices = self.choices or list(typing.get_args(tp))
            tp = type(typing.get_args(tp)[0])
            self.python_type = tp
            if tp is str and self.max_length is None:
                self.max_length = max(len(str(c)) for c in self.choices)
        for py, kind in _SCALAR_KINDS:
            if tp is py:
                if kind == "str" and self.max_length is None:
                    return "text"
                if kind == "int" and self.big:
                    return "bigint"
                return kind
        raise TypeError(f"{model.__name__}.{name}: unsupported field type {tp!r}")

    def resolve_relation(self, target: type[Model]) -> None:
        """Fix the related model (and, for FK/o2o, the column kind from its primary key)."""
        self.related_model = target
        if self.kind != "m2m":
            pk = target._meta.pk
            self.kind = "bigint" if pk.kind == "bigint" else pk.kind
            self.python_type = pk.python_type
            self.max_length = pk.max_length
            if self.relation is not None and self.relation.kind == "o2o":
                self.unique = True

    # -- properties used by the ORM and migrations ------------------------------------
    @property
    def attname(self) -> str:
        """The instance attribute holding the column value (``author_id`` for an FK)."""
        return self.column if self.relation is not None and self.kind != "m2m" else self.name

    @property
    def is_relation(self) -> bool:
        return self.relation is not None

    @property
    def is_m2m(self) -> bool:
        return self.kind == "m2m"

    @property
    def concrete(self) -> bool:
        """True when the field owns a column."""
        return self.kind != "m2m"

    @property
    def has_default(self) -> bool:
        return self.default is not MISSING or self.default_factory is not None

    def get_default(self) -> Any:
        if self.default_factory is not None:
            return self.default_factory()
        return None if self.default is MISSING else self.default

    @property
    def required(self) -> bool:
        """True when a value must be given on create (no default, not nullable, not auto)."""
        return not (self.has_default or self.nullable or self.auto)

    def column_spec(self) -> ColumnSpec:
        """This field as a ``covet.db`` column description (used by create_all and migrations)."""
        references = None
        if self.relation is not None and self.related_model is not None and self.db_constraint:
            target = self.related_model._meta
            references = ForeignKeySpec(target.table, target.pk.column, on_delete=self.on_delete)
        static_default = (
            self.default
            if self.default is not MISSING
            and self.default is not None
            and not callable(self.default)
            else NO_DEFAULT
        )
        if isinstance(static_default, (dict, list)):
            static_default = NO_DEFAULT
        return ColumnSpec(
            name=self.column,
            kind=self.kind,
            primary_key=self.primary_key,
            auto_increment=bool(self.auto),
            nullable=self.nullable,
            unique=self.unique and not self.primary_key,
            default=static_default,
            max_length=self.max_length if self.kind in ("str", "enum") else None,
            max_digits=self.max_digits,
            decimal_places=self.decimal_places,
            big=self.kind == "bigint",
            references=references,
        )



#: declares a field's options; type checkers see it as returning Any (see the docstring)
Field = returns_any(ModelField)


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """``X | None`` -> (X, True); other unions are rejected."""
    if isinstance(annotation, RelationSpec):
        return annotation, annotation.nullable
    origin = typing.get_origin(annotation)
    if origin is typing.Union or (hasattr(types, "UnionType") and origin is types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) != len(typing.get_args(annotation))
        if len(args) != 1:
            raise TypeError(f"unsupported union annotation {annotation!r}")
        return args[0], optional
    return annotation, False
