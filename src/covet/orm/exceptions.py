"""ORM-specific errors (the database errors live in ``covet.db.exceptions``)."""

from __future__ import annotations

from covet.db.exceptions import IntegrityError
from covet.exceptions import CovetError

__all__ = ("FieldError", "ProtectedError", "RelationNotLoaded")


class FieldError(CovetError, ValueError):
    """A query named a field, lookup or relation the model does not have."""

    error_code = "orm_field_error"


class RelationNotLoaded(CovetError, AttributeError):
    """A relation was read before being loaded.

    The ORM never does I/O on attribute access: use ``select_related``,
    ``prefetch_related`` or ``await obj.fetch_related("name")`` first.
    """

    error_code = "orm_relation_not_loaded"


class ProtectedError(IntegrityError):
    """A delete was refused because rows still reference it with ``on_delete="protect"``."""

    error_code = "orm_protected"
