"""API key records in a database table through ``covet.orm`` (SQLite, PostgreSQL, MariaDB).

``APIKeyModel`` is abstract: subclass it in your application (``class APIKey(APIKeyModel):
pass``) so that the table is yours, created by ``create_all`` or your migrations like any
other model, and bound to the database you choose with ``Meta.database``. Importing this
module creates no table.
"""

# No ``from __future__ import annotations`` here: the field annotations below are read again
# in the module of each subclass, where ``datetime`` may not be imported.

import dataclasses
from datetime import datetime, timezone
from typing import Any, Generic, TypeVar

from covet.auth.api_keys import APIKeyRecord, check_changes
from covet.orm import Field, Model

__all__ = ("APIKeyModel", "ORMAPIKeyStore")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class APIKeyModel(Model):
    """The columns of an API key record; ``key_hash`` holds the hash, never the key."""

    key_id: str = Field(max_length=16, unique=True)
    key_hash: str = Field(max_length=64)
    prefix: str = Field(max_length=32)
    principal: str = Field(max_length=255, index=True)
    name: str = Field("", max_length=100)
    scopes: list = Field(default_factory=list)  # JSON array of strings
    created_at: datetime = Field(default_factory=_utcnow)
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    class Meta:
        abstract = True


M = TypeVar("M", bound=APIKeyModel)

_FIELDS = tuple(f.name for f in dataclasses.fields(APIKeyRecord))


def _record(row: APIKeyModel) -> APIKeyRecord:
    values = {name: getattr(row, name) for name in _FIELDS}
    values["scopes"] = tuple(values["scopes"] or ())
    return APIKeyRecord(**values)


def _columns(changes: dict[str, Any]) -> dict[str, Any]:
    check_changes(changes)
    if "scopes" in changes:
        changes = {**changes, "scopes": list(changes["scopes"])}
    return changes


class ORMAPIKeyStore(Generic[M]):
    """An ``APIKeyStore`` over ``model``, your concrete subclass of ``APIKeyModel``."""

    __slots__ = ("model",)

    def __init__(self, model: type[M]) -> None:
        if not (isinstance(model, type) and issubclass(model, APIKeyModel)):
            raise TypeError("model must be a subclass of APIKeyModel")
        if model._meta.abstract:
            raise TypeError("model must be a concrete subclass of APIKeyModel, not abstract")
        self.model = model

    async def add(self, record: APIKeyRecord) -> None:
        values = {name: getattr(record, name) for name in _FIELDS}
        values["scopes"] = list(record.scopes)
        await self.model.objects.create(**values)

    async def get(self, key_id: str) -> APIKeyRecord | None:
        row = await self.model.objects.filter(key_id=key_id).first()
        return None if row is None else _record(row)

    async def update(self, key_id: str, **changes: Any) -> bool:
        if not changes:
            return await self.model.objects.filter(key_id=key_id).exists()
        return await self.model.objects.filter(key_id=key_id).update(**_columns(changes)) > 0

    async def for_principal(self, principal: str) -> list[APIKeyRecord]:
        rows = await self.model.objects.filter(principal=principal).order_by("created_at", "pk")
        return [_record(row) for row in rows]

    async def delete(self, key_id: str) -> bool:
        return await self.model.objects.filter(key_id=key_id).delete() > 0
