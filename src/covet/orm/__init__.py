"""CovetPy's async ORM: models that are also schemas, lazy QuerySets, relations.

    from covet.orm import Model, Field, ForeignKey, ManyToMany, Q, F, Count

See ``docs/orm.md``.
"""

from __future__ import annotations

from covet.db.database import register_schema_manager
from covet.orm.base import Model, get_model
from covet.orm.ddl import create_all, drop_all
from covet.orm.exceptions import FieldError, ProtectedError, RelationNotLoaded
from covet.orm.expressions import Avg, Count, F, Max, Min, Q, Sum, Value
from covet.orm.fields import JSON, Field
from covet.orm.manager import Manager
from covet.orm.query import QuerySet
from covet.orm.relations import ForeignKey, ManyToMany, OneToOne
from covet.orm.schema import SchemaObject

register_schema_manager(create_all, drop_all)

__all__ = (
    "JSON",
    "Avg",
    "Count",
    "F",
    "Field",
    "FieldError",
    "ForeignKey",
    "Manager",
    "ManyToMany",
    "Max",
    "Min",
    "Model",
    "OneToOne",
    "ProtectedError",
    "Q",
    "QuerySet",
    "RelationNotLoaded",
    "SchemaObject",
    "Sum",
    "Value",
    "create_all",
    "drop_all",
    "get_model",
)
