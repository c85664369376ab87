"""Server-side sessions in a SQL table through ``covet.db.Database``."""

from __future__ import annotations

import asyncio
import re
import time
from typing import TYPE_CHECKING, Any

from covet import _json
from covet.exceptions import ImproperlyConfigured

from .stores import decode_session

if TYPE_CHECKING:
    from covet.db import Database

__all__ = ("DatabaseStore",)

_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class DatabaseStore:
    """Sessions as rows ``(id, data, expires_at)`` of ``table`` (``covet_sessions``).

    The table is created on first use (``CREATE TABLE IF NOT EXISTS``), with the
    database's own quoting and placeholders; SQLite, PostgreSQL and MySQL/MariaDB work.
    ``expires_at`` is a Unix time in seconds: expired rows are never loaded, and every
    ``purge_every``-th save deletes them (call :meth:`purge` from a job to do it yourself).
    """

    def __init__(self, database: Database, table: str = "covet_sessions", purge_every: int = 1000) -> None:
        if not _TABLE.match(table):
            raise ImproperlyConfigured(f"invalid session table name {table!r}")
        if purge_every < 1:
            raise ImproperlyConfigured("purge_every must be >= 1")
        self.database = database
        self.table = table
        self.purge_every = purge_every
        self._ready = False
        self._lock = asyncio.Lock()
        self._saves = 0
        self._sql: dict[str, str] = {}

    async def _setup(self) -> None:
        if self._ready:
            return
        async with self._lock:
            if self._ready:
                return
            dialect = self.database.dialect
            q = dialect.quote
            p = dialect.param
            table, sid, data, expires = q(self.table), q("id"), q("data"), q("expires_at")
            await self.database.execute(
                f"CREATE TABLE IF NOT EXISTS {table} ("
                f"{sid} {dialect.column_type('str', max_length=128)} NOT NULL PRIMARY KEY, "
                f"{data} {dialect.column_type('text')} NOT NULL, "
                f"{expires} {dialect.column_type('bigint')} NOT NULL)",
                [],
            )
            if getattr(dialect, "upsert_style", "on_conflict") == "on_duplicate_key":
                upsert = (
                    f"INSERT INTO {table} ({sid}, {data}, {expires}) VALUES ({p(1)}, {p(2)}, {p(3)}) "
                    f"ON DUPLICATE KEY UPDATE {data} = VALUES({data}), {expires} = VALUES({expires})"
                )
            else:
                upsert = (
                    f"INSERT INTO {table} ({sid}, {data}, {expires}) VALUES ({p(1)}, {p(2)}, {p(3)}) "
                    f"ON CONFLICT ({sid}) DO UPDATE SET {data} = excluded.{data}, {expires} = excluded.{expires}"
                )
            self._sql = {
                "load": f"SELECT {data} FROM {table} WHERE {sid} = {p(1)} AND {expires} > {p(2)}",
                "save": upsert,
                "update": (
                    f"UPDATE {table} SET {data} = {p(1)}, {expires} = {p(2)} "
                    f"WHERE {sid} = {p(3)} AND {expires} > {p(4)}"
                ),
                "exists": f"SELECT 1 FROM {table} WHERE {sid} = {p(1)} AND {expires} > {p(2)}",
                "delete": f"DELETE FROM {table} WHERE {sid} = {p(1)}",
                "purge": f"DELETE FROM {table} WHERE {expires} <= {p(1)}",
            }
            self._ready = True

    async def load(self, session_id: str) -> dict[str, Any] | None:
        await self._setup()
        return decode_session(await self.database.fetch_val(self._sql["load"], [session_id, int(time.time())]))

    async def save(self, session_id: str, data: dict[str, Any], ttl: int) -> None:
        await self._setup()
        payload = _json.dumps(data).decode("utf-8")
        await self.database.execute(self._sql["save"], [session_id, payload, int(time.time()) + ttl])
        self._saves += 1
        if self._saves % self.purge_every == 0:
            await self.purge()

    async def update(self, session_id: str, data: dict[str, Any], ttl: int) -> bool:
        """Replace a row that still exists and has not expired; ``False`` when it is gone."""
        await self._setup()
        now = int(time.time())
        payload = _json.dumps(data).decode("utf-8")
        changed = await self.database.execute(self._sql["update"], [payload, now + ttl, session_id, now])
        if changed > 0:
            return True
        # MySQL counts changed rows, not matched ones: an identical rewrite reports 0.
        return await self.database.fetch_val(self._sql["exists"], [session_id, now]) is not None

    async def delete(self, session_id: str) -> None:
        await self._setup()
        await self.database.execute(self._sql["delete"], [session_id])

    async def purge(self) -> int:
        """Delete expired rows; returns how many went."""
        await self._setup()
        return int(await self.database.execute(self._sql["purge"], [int(time.time())]))
