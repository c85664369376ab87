"""PostgreSQL over asyncpg (imported on first connect; ``pip install 'covetpy[postgres]'``).

asyncpg caches prepared statements per connection, with the parameter and result types
of the schema they were prepared against. After an ``ALTER`` changes a column's type:

* ``reset_schema_cache()`` drops the cache (the migration executor calls it on every
  pooled connection of its Database);
* a statement whose result types changed fails with "cached statement plan is invalid";
  asyncpg re-prepares and retries it once outside a transaction, and drops its cache
  (the transaction is aborted, the next one works);
* a value that the cached parameter types cannot encode (a 64-bit id for a column that
  was 32-bit) fails in the client before anything is sent: the statement is re-prepared
  and run once more (inside a transaction too), so other processes recover by themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from typing import Any

from covet.db.drivers.base import DriverConnection, Params
from covet.db.exceptions import (
    ConnectionLost,
    DatabaseError,
    DataError,
    InterfaceError,
    OperationalError,
    TransactionError,
    error_class_for_sqlstate,
)
from covet.exceptions import MissingDependency

__all__ = ("PostgreSQLConnection", "connect_postgresql")


def _asyncpg() -> Any:
    try:
        import asyncpg
    except ImportError:
        raise MissingDependency("asyncpg", "postgres") from None
    return asyncpg


def _rowcount(status: str) -> int:
    # "INSERT 0 3", "UPDATE 2", "DELETE 0", "SELECT 5", "CREATE TABLE"
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


class PostgreSQLConnection(DriverConnection):
    """An ``asyncpg.Connection``."""

    cancel_safe = False  # a cancelled query may still be winding down server-side
    iterate_needs_transaction = True

    def __init__(self, conn: Any) -> None:
        super().__init__()
        self._conn = conn
        self._asyncpg = _asyncpg()

    @property
    def raw(self) -> Any:
        """The underlying ``asyncpg.Connection``."""
        return self._conn

    async def execute(self, sql: str, params: Params) -> int:
        try:
            if params:
                return _rowcount(await self._conn.execute(sql, *params))
            return _rowcount(await self._conn.execute(sql))
        except Exception as exc:
            return _rowcount(await self._retry(exc, self._conn.execute, sql, params))

    async def execute_many(self, sql: str, seq_of_params: Sequence[Sequence[Any]]) -> int:
        try:
            await self._conn.executemany(sql, seq_of_params)
        except Exception as exc:
            raise self._translate_or_raise(exc) from exc
        return -1

    async def fetch_all(self, sql: str, params: Params) -> list[Any]:
        try:
            return await self._conn.fetch(sql, *(params or ()))
        except Exception as exc:
            return await self._retry(exc, self._conn.fetch, sql, params)

    async def fetch_one(self, sql: str, params: Params) -> Any | None:
        try:
            return await self._conn.fetchrow(sql, *(params or ()))
        except Exception as exc:
            return await self._retry(exc, self._conn.fetchrow, sql, params)

    async def insert(self, sql: str, params: Params) -> Any:
        try:
            return await self._conn.fetchval(sql, *(params or ()))
        except Exception as exc:
            return await self._retry(exc, self._conn.fetchval, sql, params)

    async def iterate(self, sql: str, params: Params, chunk_size: int) -> AsyncGenerator[Any, None]:
        # A server-side cursor lives inside a transaction: open one if none is active.
        own_tx = not self._conn.is_in_transaction()
        try:
            if own_tx:
                await self._conn.execute("BEGIN")
            cursor = self._conn.cursor(sql, *(params or ()), prefetch=chunk_size)
            async for record in cursor:
                yield record
            if own_tx:
                await self._conn.execute("COMMIT")
                own_tx = False
        except Exception as exc:
            raise self._translate_or_raise(exc) from exc
        finally:
            if own_tx and not self._conn.is_closed() and self._conn.is_in_transaction():
                try:
                    await self._conn.execute("ROLLBACK")
                except Exception:
                    self.broken = True

    async def commit(self) -> None:
        try:
            status = await self._conn.execute("COMMIT")
        except Exception as exc:
            raise self._translate_or_raise(exc) from exc
        if status == "ROLLBACK":
            raise TransactionError(
                "the transaction was rolled back, not committed: a statement in it failed "
                "(use a nested transaction to recover from an error inside a transaction)",
                sqlstate="25P02",
            )

    async def ping(self) -> None:
        try:
            await self._conn.execute("SELECT 1")
        except Exception as exc:
            raise self._translate_or_raise(exc) from exc

    def is_closed(self) -> bool:
        return bool(self._conn.is_closed())

    async def close(self) -> None:
        try:
            await self._conn.close(timeout=5)
        except Exception:
            self._conn.terminate()

    def terminate(self) -> None:
        self._conn.terminate()

    async def _retry(self, exc: Exception, method: Any, sql: str, params: Params) -> Any:
        """Run ``method`` once more after a stale cached statement, else raise ``exc``.

        asyncpg raises its ``DataError`` without a server severity when it cannot encode
        an argument with the statement's parameter types: nothing reached the server, and
        the types may be those of a column before an ``ALTER`` (from another process).
        """
        apg = self._asyncpg
        stale = (
            params
            and type(exc) is apg.exceptions.DataError
            and getattr(exc, "severity", None) is None
            and not self._conn.is_closed()
        )
        if not stale:
            raise self._translate_or_raise(exc) from exc
        await self.reset_schema_cache()
        try:
            return await method(sql, *(params or ()))
        except Exception as again:
            raise self._translate_or_raise(again) from again

    async def reset_schema_cache(self) -> None:
        if not self._conn.is_closed():
            await self._conn.reload_schema_state()

    def _translate_or_raise(self, exc: Exception) -> BaseException:
        err = self.translate(exc)
        return exc if err is None else err

    def translate(self, exc: BaseException) -> DatabaseError | None:
        apg = self._asyncpg
        if isinstance(exc, apg.PostgresError):
            sqlstate = getattr(exc, "sqlstate", None)
            cls = error_class_for_sqlstate(sqlstate)
            if cls is ConnectionLost:
                self.broken = True
            message = getattr(exc, "message", None) or str(exc)
            detail = getattr(exc, "detail", None)
            if detail:
                message = f"{message} ({detail})"
            return cls(
                message,
                sqlstate=sqlstate,
                constraint=getattr(exc, "constraint_name", None),
                table=getattr(exc, "table_name", None),
            )
        if isinstance(exc, (apg.ConnectionDoesNotExistError, ConnectionError, OSError, EOFError)):
            self.broken = True
            return ConnectionLost(f"connection to PostgreSQL lost: {exc}")
        if isinstance(exc, apg.InterfaceError):
            if self._conn.is_closed() or "closed" in str(exc).lower():
                self.broken = True
                return ConnectionLost(f"connection to PostgreSQL lost: {exc}")
            return InterfaceError(str(exc))
        if isinstance(exc, (apg.exceptions.DataError, TypeError, OverflowError)):
            return DataError(f"invalid query argument: {exc}")
        return None

    async def server_version(self) -> tuple[tuple[int, ...], dict[str, Any]]:
        v = self._conn.get_server_version()
        return (v.major, v.minor), {}


async def connect_postgresql(
    *,
    host: str | None,
    port: int | None,
    user: str | None,
    password: str | None,
    database: str,
    options: dict[str, Any],
    connect_timeout: float,
) -> PostgreSQLConnection:
    """Open an asyncpg connection (``sslmode``, ``application_name`` and others from ``options``)."""
    apg = _asyncpg()
    kwargs: dict[str, Any] = {}
    server_settings: dict[str, str] = {}
    for key, value in options.items():
        if key == "sslmode":
            kwargs["ssl"] = value
        elif key in ("application_name", "search_path", "timezone", "statement_timeout"):
            server_settings[key] = str(value)
        elif key in ("command_timeout", "statement_cache_size", "max_cached_statement_lifetime"):
            kwargs[key] = float(value) if key == "command_timeout" else int(value)
        elif key == "ssl":
            kwargs["ssl"] = value
        elif key == "server_settings" and isinstance(value, dict):
            server_settings.update(value)
        else:
            raise InterfaceError(f"unsupported PostgreSQL option {key!r}")
    if server_settings:
        kwargs["server_settings"] = server_settings
    try:
        conn = await apg.connect(
            host=host or "localhost",
            port=port or 5432,
            user=user,
            password=password,
            database=database or None,
            timeout=connect_timeout,
            **kwargs,
        )
    except apg.PostgresError as exc:
        sqlstate = getattr(exc, "sqlstate", None)
        cls = error_class_for_sqlstate(sqlstate)
        if cls is DatabaseError or cls is ConnectionLost:
            cls = OperationalError
        raise cls(f"cannot connect to PostgreSQL: {exc}", sqlstate=sqlstate) from None
    except (OSError, asyncio.TimeoutError, apg.InterfaceError) as exc:
        raise OperationalError(
            f"cannot connect to PostgreSQL at {host}:{port or 5432}: {exc}"
        ) from None
    return PostgreSQLConnection(conn)
