"""MySQL / MariaDB over asyncmy, or aiomysql when asyncmy is missing (or asked for).

Connections run in autocommit mode; ``Database`` opens transactions with explicit
``START TRANSACTION``. Parameters always travel as a tuple, so the driver always
applies ``%`` formatting and a literal percent sign is written ``%%``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import operator
import uuid
from collections.abc import AsyncGenerator, Sequence
from typing import Any

from covet.db.drivers.base import DriverConnection, Params, parse_version
from covet.db.exceptions import (
    ConnectionLost,
    DatabaseError,
    DataError,
    InterfaceError,
    OperationalError,
    error_class_for_mysql_errno,
)
from covet.db.record import Record, column_index
from covet.exceptions import MissingDependency

__all__ = ("MySQLConnection", "connect_mysql", "load_mysql_driver")

_UTC = dt.timezone.utc
#: rows *matched* by UPDATE count as affected, as on PostgreSQL and SQLite
_CLIENT_FOUND_ROWS = 2
#: distinct column lists whose ``{name: index}`` map a connection keeps
_INDEX_CACHE_SIZE = 256
_first = operator.itemgetter(0)


class _Driver:
    """The pieces of asyncmy or aiomysql that we use."""

    def __init__(self, name: str, module: Any, errors: Any, sscursor: type) -> None:
        self.name = name
        self.module = module
        self.errors = errors
        self.sscursor = sscursor


def load_mysql_driver(preferred: str | None = None) -> _Driver:
    """asyncmy if installed (or ``preferred``), else aiomysql; MissingDependency if neither."""
    order = [preferred] if preferred else ["asyncmy", "aiomysql"]
    for name in order:
        try:
            if name == "asyncmy":
                import asyncmy
                import asyncmy.cursors
                import asyncmy.errors

                return _Driver("asyncmy", asyncmy, asyncmy.errors, asyncmy.cursors.SSCursor)
            if name == "aiomysql":
                import aiomysql
                import pymysql.err

                return _Driver("aiomysql", aiomysql, pymysql.err, aiomysql.SSCursor)
        except ImportError:
            continue
    raise MissingDependency(preferred or "asyncmy", "mysql")


def _adapt_value(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(_UTC).replace(tzinfo=None)
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


_NEEDS_ADAPTING = (dt.datetime, uuid.UUID)


def _adapt(params: Params) -> Sequence[Any]:
    """The parameters as the driver takes them (a list or tuple, never None, so ``%``
    formatting always applies); aware datetimes to naive UTC, UUIDs to text."""
    if not params:
        return ()
    for v in params:
        if isinstance(v, _NEEDS_ADAPTING):
            return tuple(_adapt_value(v) for v in params)
    return params if type(params) in (list, tuple) else tuple(params)


class MySQLConnection(DriverConnection):
    """An asyncmy (or aiomysql) connection."""

    streams_exclusively = True
    cancel_safe = False

    def __init__(self, conn: Any, driver: _Driver) -> None:
        super().__init__()
        self._conn = conn
        self._driver = driver
        self._cur: Any = None
        self._indexes: dict[tuple[str, ...], dict[str, int]] = {}

    @property
    def raw(self) -> Any:
        """The underlying driver connection."""
        return self._conn

    @property
    def thread_id(self) -> int:
        """The server's id for this connection (what ``KILL`` takes)."""
        return int(self._conn.thread_id())

    async def _new_cursor(self) -> Any:
        cur = self._conn.cursor()
        if not hasattr(cur, "execute"):  # aiomysql returns an awaitable context manager
            cur = await cur
        self._cur = cur
        return cur

    def _index(self, description: Any) -> dict[str, int]:
        names = tuple(map(_first, description))
        index = self._indexes.get(names)
        if index is None:
            if len(self._indexes) >= _INDEX_CACHE_SIZE:
                self._indexes.clear()
            index = self._indexes[names] = column_index(names)
        return index

    # One buffered cursor serves every statement of the connection: its ``execute``
    # drains any pending result set first, and rows come back as tuples (no copies).
    # It is dropped after an error so a half-read state never carries over.

    async def execute(self, sql: str, params: Params) -> int:
        cur = self._cur
        if cur is None or cur.connection is None:
            cur = await self._new_cursor()
        try:
            rowcount = await cur.execute(sql, _adapt(params))
        except Exception as exc:
            self._cur = None
            raise self._translate_or_raise(exc) from exc
        return int(cur.rowcount if cur.rowcount is not None else rowcount)

    async def execute_many(self, sql: str, seq_of_params: Sequence[Sequence[Any]]) -> int:
        cur = self._cur
        if cur is None or cur.connection is None:
            cur = await self._new_cursor()
        try:
            await cur.executemany(sql, [_adapt(p) for p in seq_of_params])
        except Exception as exc:
            self._cur = None
            raise self._translate_or_raise(exc) from exc
        return int(cur.rowcount) if cur.rowcount is not None else -1

    async def fetch_rows(self, sql: str, params: Params) -> Sequence[Any]:
        cur = self._cur
        if cur is None or cur.connection is None:
            cur = await self._new_cursor()
        try:
            await cur.execute(sql, _adapt(params))
            if cur.description is None:
                return ()
            rows: Sequence[Any] = await cur.fetchall()
            return rows
        except Exception as exc:
            self._cur = None
            raise self._translate_or_raise(exc) from exc

    # fetch_all/fetch_one read the column names off the cursor fetch_rows just used

    async def fetch_all(self, sql: str, params: Params) -> list[Any]:
        rows = await self.fetch_rows(sql, params)
        if not rows:
            return []
        index = self._index(self._cur.description)
        return [Record(row, index) for row in rows]

    async def fetch_one(self, sql: str, params: Params) -> Any | None:
        rows = await self.fetch_rows(sql, params)
        if not rows:
            return None
        return Record(rows[0], self._index(self._cur.description))

    async def insert(self, sql: str, params: Params) -> Any:
        cur = self._cur
        if cur is None or cur.connection is None:
            cur = await self._new_cursor()
        try:
            await cur.execute(sql, _adapt(params))
            if cur.description is not None:  # INSERT ... RETURNING
                rows = await cur.fetchall()
                return rows[0][0] if rows else None
            return cur.lastrowid
        except Exception as exc:
            self._cur = None
            raise self._translate_or_raise(exc) from exc

    async def iterate(self, sql: str, params: Params, chunk_size: int) -> AsyncGenerator[Any, None]:
        cur = self._conn.cursor(self._driver.sscursor)
        if not hasattr(cur, "execute"):  # aiomysql returns an awaitable context manager
            cur = await cur
        try:
            await cur.execute(sql, _adapt(params))
            if cur.description is None:
                return
            index = column_index([d[0] for d in cur.description])
            while True:
                rows = await cur.fetchmany(chunk_size)
                if not rows:
                    return
                for row in rows:
                    yield Record(tuple(row), index)
        except Exception as exc:
            raise self._translate_or_raise(exc) from exc
        finally:
            try:
                await cur.close()  # drains the rest of an unbuffered result
            except Exception:
                self.broken = True

    async def ping(self) -> None:
        try:
            await self._conn.ping(reconnect=False)
        except Exception as exc:
            self.broken = True
            raise ConnectionLost(f"connection to MySQL lost: {exc}") from exc

    def is_closed(self) -> bool:
        if self._driver.name == "asyncmy":
            return not self._conn.connected
        return bool(self._conn.closed)

    async def close(self) -> None:
        try:
            await self._conn.ensure_closed()
        except Exception:
            self._conn.close()

    def terminate(self) -> None:
        self._conn.close()

    def _translate_or_raise(self, exc: Exception) -> BaseException:
        err = self.translate(exc)
        return exc if err is None else err

    def translate(self, exc: BaseException) -> DatabaseError | None:
        errors = self._driver.errors
        if isinstance(exc, errors.MySQLError):
            errno = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
            message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
            cls = error_class_for_mysql_errno(errno)
            if cls is DatabaseError:
                if isinstance(exc, errors.IntegrityError):
                    cls = error_class_for_mysql_errno(1022)
                elif isinstance(exc, errors.DataError):
                    cls = DataError
                elif isinstance(exc, errors.InterfaceError):
                    cls = ConnectionLost if self.is_closed() else InterfaceError
                elif isinstance(exc, errors.OperationalError):
                    cls = OperationalError
            if issubclass(cls, ConnectionLost):
                self.broken = True
            return cls(message, errno=errno)
        if isinstance(exc, (ConnectionError, OSError, EOFError)):
            self.broken = True
            return ConnectionLost(f"connection to MySQL lost: {exc}")
        if isinstance(exc, (TypeError, ValueError)):
            return DataError(f"invalid query argument: {exc}")
        return None

    async def server_version(self) -> tuple[tuple[int, ...], dict[str, Any]]:
        info = str(self._conn.get_server_info())
        is_mariadb = "mariadb" in info.lower()
        if is_mariadb and info.startswith("5.5.5-"):
            info = info[len("5.5.5-") :]
        return parse_version(info), {"is_mariadb": is_mariadb}


def _read_timeout(value: Any, driver: str) -> float:
    """Seconds to wait for the server's answer before the connection is given up."""
    if driver != "asyncmy":
        raise InterfaceError("the MySQL option read_timeout needs the asyncmy driver")
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise InterfaceError(f"read_timeout must be a number of seconds, not {value!r}") from None
    if not seconds > 0:
        raise InterfaceError(f"read_timeout must be positive, not {value!r}")
    return seconds


async def connect_mysql(
    *,
    host: str | None,
    port: int | None,
    user: str | None,
    password: str | None,
    database: str,
    options: dict[str, Any],
    connect_timeout: float,
    driver: str | None = None,
) -> MySQLConnection:
    """Open a connection (utf8mb4, autocommit, UTC session time zone, FOUND_ROWS)."""
    drv = load_mysql_driver(driver)
    kwargs: dict[str, Any] = {}
    for key, value in options.items():
        if key in ("charset", "sql_mode", "init_command", "program_name"):
            kwargs[key] = value
        elif key == "ssl":
            kwargs["ssl"] = value
        elif key == "read_timeout":
            kwargs[key] = _read_timeout(value, drv.name)
        else:
            raise InterfaceError(f"unsupported MySQL option {key!r}")
    kwargs.setdefault("charset", "utf8mb4")
    kwargs.setdefault("init_command", "SET time_zone = '+00:00'")
    db_kw = "database" if drv.name == "asyncmy" else "db"
    try:
        # the driver's own timeout covers the TCP connect only, not the handshake
        conn = await asyncio.wait_for(
            drv.module.connect(
                host=host or "127.0.0.1",
                port=port or 3306,
                user=user or "root",
                password=password or "",
                autocommit=True,
                connect_timeout=connect_timeout,
                client_flag=_CLIENT_FOUND_ROWS,
                **{db_kw: database or None},
                **kwargs,
            ),
            connect_timeout,
        )
    except drv.errors.MySQLError as exc:
        errno = exc.args[0] if exc.args and isinstance(exc.args[0], int) else None
        cls = error_class_for_mysql_errno(errno)
        if cls is DatabaseError or issubclass(cls, ConnectionLost):
            cls = OperationalError
        message = exc.args[1] if len(exc.args) > 1 else exc
        raise cls(f"cannot connect to MySQL: {message}", errno=errno) from None
    except (OSError, asyncio.TimeoutError) as exc:
        raise OperationalError(f"cannot connect to MySQL at {host}:{port or 3306}: {exc}") from None
    return MySQLConnection(conn, drv)
