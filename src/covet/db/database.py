"""``Database``: the URL, the pools (primary and replicas), routing and the registry.

Routing: writes and ``execute`` go to the primary; ``fetch_*`` and ``iterate`` of a
``SELECT`` go to the replicas in turn (the primary when there are none). Inside a
transaction or ``db.connection()`` everything uses the held connection. ``using=
"primary"`` (or ``"replica"``) overrides the choice.

Failure policy: a query whose connection dies raises ``ConnectionLost`` and the
connection is discarded; the pool opens a fresh one on the next acquire. A ``SELECT``
run outside a transaction and held connection is retried once on a fresh connection
first (reading twice is harmless); writes are never retried, since the server may have
applied them before the connection died.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncGenerator, AsyncIterator, Coroutine, Sequence
from contextlib import AbstractContextManager, aclosing, asynccontextmanager
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any

from covet.db.connection import Connection, Transaction
from covet.db.dialects import Dialect, get_dialect
from covet.db.drivers import open_connection
from covet.db.drivers.base import DriverConnection, Params
from covet.db.events import QueryEvent, QueryListener, QueryObservers
from covet.db.exceptions import ConnectionLost, DatabaseError, InterfaceError
from covet.db.pool import Pool
from covet.db.url import DatabaseURL, mask_password, scrub
from covet.exceptions import ImproperlyConfigured

_running_loop = asyncio.get_running_loop

__all__ = ("Database", "get_database", "registered_databases")

_READ_PREFIXES = ("SELECT", "SHOW", "EXPLAIN", "VALUES", "PRAGMA")

_registry: dict[str, Database] = {}


def get_database(alias: str | None = None) -> Database:
    """The Database registered as ``alias``; without one, the default database.

    The default is the one registered as ``"default"`` (the alias of the first Database
    created without one), else the first one still registered. A Database created with
    an alias already in use replaces the earlier one; ``unregister()`` removes one.
    """
    if alias is None:
        if not _registry:
            raise ImproperlyConfigured(
                "no database is configured: create covet.db.Database(url) first"
            )
        default = _registry.get("default")
        return default if default is not None else next(iter(_registry.values()))
    try:
        return _registry[alias]
    except KeyError:
        raise ImproperlyConfigured(
            f"no database registered as {alias!r}; known: {sorted(_registry)}"
        ) from None


_schema_managers: dict[str, Any] = {}


def register_schema_manager(create_all: Any, drop_all: Any) -> None:
    """Called by ``covet.orm`` on import: the db layer never imports the ORM itself."""
    _schema_managers.update(create_all=create_all, drop_all=drop_all)


def _schema_manager(name: str) -> Any:
    try:
        return _schema_managers[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"Database.{name}() creates the tables of covet.orm models: define (import) your models first"
        ) from None


def _unused_alias() -> str:
    """``"default"`` for the first Database created without an alias, then ``"db2"``,
    ``"db3"``...: a later Database never takes the models' default by accident."""
    if "default" not in _registry:
        return "default"
    n = 2
    while f"db{n}" in _registry:
        n += 1
    return f"db{n}"


def registered_databases() -> dict[str, Database]:
    """A copy of the alias -> Database registry."""
    return dict(_registry)


_read_statements: dict[str, bool] = {}


def _is_read(sql: str) -> bool:
    """Whether ``sql`` only reads (cached per statement text: the ORM reuses its SQL)."""
    known = _read_statements.get(sql)
    if known is None:
        if len(_read_statements) >= 4096:
            _read_statements.clear()
        known = _read_statements[sql] = sql.lstrip()[:7].upper().startswith(_READ_PREFIXES)
    return known


class Database:
    """An async database with a connection pool (and optional read replicas).

    ``Database("sqlite:///app.db")``, ``Database("postgresql://u:p@host/db",
    max_size=20)``, ``Database("mysql://root@127.0.0.1/app", replicas=[url2])``.
    Use ``async with db:`` or ``connect()`` / ``disconnect()`` (the app's lifespan does
    it); a query before ``connect()`` connects on demand.
    """

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        acquire_timeout: float = 30.0,
        recycle: float | None = None,
        idle_ping: float = 30.0,
        connect_timeout: float = 10.0,
        replicas: Sequence[str] = (),
        alias: str | None = None,
        force_rollback: bool = False,
        **driver_options: Any,
    ) -> None:
        self.url = DatabaseURL.parse(url)
        options: dict[str, Any] = {
            "min_size": min_size,
            "max_size": max_size,
            "acquire_timeout": acquire_timeout,
            "recycle": recycle,
            "idle_ping": idle_ping,
        }
        options.update(self.url.pool_options())
        Pool.validate_options(**options)
        if self.url.is_memory:
            if replicas:
                raise InterfaceError("an in-memory SQLite database cannot have replicas")
            options["min_size"] = options["max_size"] = 1  # one shared connection
        self._pool_options = options
        self.replica_urls = [DatabaseURL.parse(r) for r in replicas]
        for r in self.replica_urls:
            if r.dialect != self.url.dialect:
                raise InterfaceError(
                    f"replica {r} is {r.dialect}, but the primary is {self.url.dialect}"
                )
        self.alias = alias if alias is not None else _unused_alias()
        self.force_rollback = force_rollback
        self.connect_timeout = connect_timeout
        self.driver_options = driver_options
        self.dialect: Dialect = get_dialect(self.url.dialect)
        if self.url.is_mariadb_scheme:
            self.dialect.configure(self.dialect.server_version, is_mariadb=True)
        self._secrets = tuple({s for u in (self.url, *self.replica_urls) for s in u.secrets()})
        self._bound: ContextVar[Connection | None] = ContextVar(
            f"covet_db_{self.alias}_{id(self)}", default=None
        )
        self._primary: Pool | None = None
        self._replicas: list[Pool] = []
        self._round_robin = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connect_lock: asyncio.Lock | None = None
        self._force_conn: Connection | None = None
        self._configured = False
        self._observers = QueryObservers(self.alias)
        self._register()

    def _register(self) -> None:
        _registry.pop(self.alias, None)
        _registry[self.alias] = self

    def unregister(self) -> None:
        """Remove this Database from the registry (when it is the one registered)."""
        if _registry.get(self.alias) is self:
            del _registry[self.alias]

    def __repr__(self) -> str:
        state = (
            "connected" if getattr(self, "_primary", None) and self.is_connected else "disconnected"
        )
        return f"<Database {self.alias!r} {mask_password(str(self.url))} {state}>"

    # -- lifecycle --------------------------------------------------------------

    @property
    def is_connected(self) -> bool:
        return self._primary is not None and not self._primary.closed

    @property
    def primary_pool(self) -> Pool:
        """The primary's pool (InterfaceError before connecting)."""
        if self._primary is None:
            raise InterfaceError(f"database {self.alias!r} is not connected")
        return self._primary

    @property
    def replica_pools(self) -> list[Pool]:
        return list(self._replicas)

    def _make_pool(self, url: DatabaseURL, label: str) -> Pool:
        async def connect() -> DriverConnection:
            try:
                conn = await open_connection(
                    url, connect_timeout=self.connect_timeout, **self.driver_options
                )
            except DatabaseError as exc:
                raise self._scrub(exc) from None
            if not self._configured:
                version, info = await conn.server_version()
                self.dialect.configure(version, **info)
                self._configured = True
            return conn

        opts = self._pool_options
        return Pool(
            connect,
            min_size=opts["min_size"],
            max_size=opts["max_size"],
            acquire_timeout=opts["acquire_timeout"],
            recycle=opts["recycle"],
            idle_ping=opts["idle_ping"],
            label=f"{self.alias}:{label}",
        )

    async def connect(self) -> None:
        """Open the pools (``min_size`` connections each); no-op when connected."""
        loop = asyncio.get_running_loop()
        if self.is_connected and self._loop is loop:
            return
        if self._loop is not None and self._loop is not loop:
            self._abandon()  # connected under an event loop that is gone (tests)
        if self._connect_lock is None or self._loop is not loop:
            self._connect_lock = asyncio.Lock()
            self._loop = loop
        async with self._connect_lock:
            if self.is_connected:
                return
            primary = self._make_pool(self.url, "primary")
            replicas = [self._make_pool(u, f"replica{i}") for i, u in enumerate(self.replica_urls)]
            try:
                await primary.open()
                for pool in replicas:
                    await pool.open()
            except BaseException:
                primary.terminate()
                for pool in replicas:
                    pool.terminate()
                raise
            self._primary, self._replicas = primary, replicas
            if self.force_rollback:
                raw = await primary.acquire()
                conn = Connection(self, raw, primary)
                try:
                    for stmt in self.dialect.begin_sql():
                        await conn.execute(stmt)
                except BaseException:
                    conn._discard()
                    raise
                conn._tx_depth = 1
                self._force_conn = conn

    async def disconnect(self) -> None:
        """Close the pools (rolling back everything when ``force_rollback``)."""
        if self._primary is None:
            return
        if self._loop is not asyncio.get_running_loop():
            self._abandon()  # the pools belong to a loop that is gone: close without I/O
            return
        if self._force_conn is not None:
            conn, self._force_conn = self._force_conn, None
            await conn.release()  # rolls back the open transaction
        primary, replicas = self._primary, self._replicas
        self._primary, self._replicas = None, []
        await primary.close()
        for pool in replicas:
            await pool.close()

    def _abandon(self) -> None:
        if self._primary is not None:
            self._primary.terminate()
        for pool in self._replicas:
            pool.terminate()
        self._primary, self._replicas, self._force_conn = None, [], None

    async def create_all(self) -> None:
        """Create the tables of every model bound to this database (needs ``covet.orm``).

        For tests and quick starts; real applications use migrations.
        """
        await _schema_manager("create_all")(self)

    async def drop_all(self) -> None:
        """Drop the tables of every model bound to this database, dependents first."""
        await _schema_manager("drop_all")(self)

    async def __aenter__(self) -> Database:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.disconnect()

    async def _ready(self) -> None:
        if self._primary is None or self._loop is not asyncio.get_running_loop():
            await self.connect()

    # -- binding and routing ------------------------------------------------------

    def _bound_connection(self) -> Connection | None:
        conn = self._bound.get()
        if conn is not None and not conn.released:
            return conn
        return self._force_conn

    def _bind(self, conn: Connection) -> Token[Connection | None]:
        return self._bound.set(conn)

    def _unbind(self, token: Token[Connection | None]) -> None:
        try:
            self._bound.reset(token)
        except ValueError:  # finished from another context: clear this one
            self._bound.set(None)

    def _pool_for(self, using: str | None, read: bool) -> Pool:
        primary = self._primary
        assert primary is not None
        if using is None:
            if read and self._replicas:
                return self._replicas[next(self._round_robin) % len(self._replicas)]
            return primary
        if using in ("primary", "default"):
            return primary
        if using == "replica":
            if not self._replicas:
                return primary
            return self._replicas[next(self._round_robin) % len(self._replicas)]
        raise ValueError(f"using must be 'primary' or 'replica', not {using!r}")

    async def _hold_connection(self, using: str | None) -> Connection:
        await self._ready()
        pool = self._pool_for(using, read=False)
        raw = await pool.acquire()
        return Connection(self, raw, pool)

    def _scrub(self, exc: DatabaseError) -> DatabaseError:
        if self._secrets and any(s in exc.message for s in self._secrets):
            exc.message = scrub(exc.message, self._secrets)
            exc.args = (exc.message,)
        return exc

    def _run(
        self,
        method: str,
        sql: str,
        params: Any,
        using: str | None,
        read: bool,
        observed: bool = False,
    ) -> Coroutine[Any, Any, Any]:
        """The coroutine running one statement: on the bound connection, else pooled.

        A plain function, not a coroutine: on the hot path it saves a frame that every
        resumption of the statement would pass through. Callers convert the result.
        """
        conn = self._bound.get()
        if conn is None or conn._released:
            conn = self._force_conn
        if conn is not None:
            return conn._call(method, sql, params)
        if self._observers.listeners and not observed:
            return self._observers.observe(
                self._run(method, sql, params, using, read, True), method, sql, params
            )
        return self._run_pooled(method, sql, params, using, read)

    async def _run_pooled(
        self, method: str, sql: str, params: Any, using: str | None, read: bool
    ) -> Any:
        pool = self._primary
        if pool is None or self._loop is not _running_loop():
            await self.connect()
            pool = self._primary
        route_read = read and _is_read(sql)
        if using is not None or (route_read and self._replicas):
            pool = self._pool_for(using, route_read)
        assert pool is not None
        attempts = 2 if route_read else 1
        while True:
            attempts -= 1
            raw = await pool.acquire()
            try:
                result = await getattr(raw, method)(sql, params)
            except ConnectionLost as exc:
                pool.release(raw, discard=True)
                pool.note_failure()
                if attempts > 0:
                    continue
                raise self._scrub(exc) from exc.__cause__
            except DatabaseError as exc:
                pool.release(raw, discard=raw.broken)
                raise self._scrub(exc) from exc.__cause__
            except BaseException:
                # cancelled mid-protocol: keep the connection only if the driver says so
                pool.release(raw, discard=not raw.cancel_safe)
                raise
            pool.release(raw)
            return result

    # -- queries ------------------------------------------------------------------

    async def execute(self, sql: str, params: Params = None, *, using: str | None = None) -> int:
        """Run one statement on the primary; the number of rows affected."""
        return int(await self._run("execute", sql, params, using, read=False))

    async def execute_many(
        self, sql: str, seq_of_params: Sequence[Sequence[Any]], *, using: str | None = None
    ) -> int:
        """Run one statement once per parameter set (rows affected; -1 if unknown)."""
        if not seq_of_params:
            return 0
        return int(await self._run("execute_many", sql, seq_of_params, using, read=False))

    async def fetch_all(
        self, sql: str, params: Params = None, *, using: str | None = None
    ) -> list[Any]:
        """Every row as ``Record``s (by position and by column name)."""
        return await self._run("fetch_all", sql, params, using, read=True)

    async def fetch_rows(
        self, sql: str, params: Params = None, *, using: str | None = None
    ) -> Sequence[Any]:
        """Every row as a positional sequence (``r[0]``, iteration; no access by name):
        cheaper than ``fetch_all`` on SQLite and MySQL, where it skips the ``Record``s."""
        return await self._run("fetch_rows", sql, params, using, read=True)

    async def fetch_one(
        self, sql: str, params: Params = None, *, using: str | None = None
    ) -> Any | None:
        """The first row, or None."""
        return await self._run("fetch_one", sql, params, using, read=True)

    async def fetch_val(
        self, sql: str, params: Params = None, *, column: int | str = 0, using: str | None = None
    ) -> Any:
        """One value from the first row (None when there is no row)."""
        row = await self._run("fetch_one", sql, params, using, read=True)
        return None if row is None else row[column]

    async def insert_returning_id(self, sql: str, params: Params = None, *, pk: str = "id") -> Any:
        """Run an INSERT; the generated key (``RETURNING pk`` where supported, else lastrowid)."""
        if self.dialect.supports_returning and " RETURNING " not in sql.upper():
            sql = sql + self.dialect.returning_clause([pk])
        return await self._run("insert", sql, params, None, read=False)

    async def insert_returning(
        self, sql: str, params: Params, returning: Sequence[str]
    ) -> Any | None:
        """Run an INSERT with ``RETURNING returning`` (needs ``dialect.supports_returning``)."""
        conn = self._bound_connection()
        if conn is not None:
            return await conn.insert_returning(sql, params, returning)
        async with self.connection() as held:
            return await held.insert_returning(sql, params, returning)

    async def iterate(
        self,
        sql: str,
        params: Params = None,
        *,
        chunk_size: int = 500,
        using: str | None = None,
    ) -> AsyncGenerator[Any, None]:
        """Stream rows in chunks: a server-side cursor on PostgreSQL (in a transaction),
        an unbuffered cursor on MySQL, ``fetchmany`` on SQLite.

        Break out early through ``contextlib.aclosing(db.iterate(...))`` to free the
        connection at once.
        """
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
        conn = self._bound_connection()
        if conn is not None:
            async with aclosing(conn.iterate(sql, params, chunk_size=chunk_size)) as rows:
                async for row in rows:
                    yield row
            return
        await self._ready()
        pool = self._pool_for(using, _is_read(sql))
        raw = await pool.acquire()
        held = Connection(self, raw, pool)
        # A one-connection pool (in-memory SQLite) could not serve a query made in the
        # loop body while the stream holds its connection: share the connection instead.
        token = self._bind(held) if pool.max_size == 1 else None
        discard = True
        try:
            async with aclosing(held.iterate(sql, params, chunk_size=chunk_size)) as rows:
                async for row in rows:
                    yield row
            discard = raw.broken
        except (DatabaseError, GeneratorExit):
            discard = raw.broken
            raise
        finally:
            if token is not None:
                self._unbind(token)
            if discard:
                held._discard()
            else:
                await held.release()

    async def reset_schema_caches(self) -> None:
        """Make every pooled connection forget what its driver cached about the schema.

        asyncpg keeps prepared statements per connection, with the parameter and result
        types of the schema they were prepared against: after DDL run in this process
        (migrations call this for you) they would keep old types or fail with "cached
        statement plan is invalid" inside a transaction. Other drivers cache nothing
        stale. Connections of other processes are out of reach: see docs/migrations.md.
        """
        for pool in (self._primary, *self._replicas):
            if pool is None:
                continue
            for conn in pool.connections():
                await conn.reset_schema_cache()

    # -- watching statements ----------------------------------------------------

    def add_query_listener(self, listener: QueryListener) -> QueryListener:
        """Call ``listener(event)`` after every statement this database runs (see
        ``covet.db.QueryEvent``); returns it, so it also works as a decorator.

        Listeners run synchronously in the querying task: keep them cheap (log, count,
        hand off to a queue). One that raises is logged and ignored.
        """
        self._observers.add(listener)
        return listener

    def remove_query_listener(self, listener: QueryListener) -> None:
        """Stop calling ``listener`` (ValueError when it was not added)."""
        self._observers.remove(listener)

    def capture_queries(self) -> AbstractContextManager[list[QueryEvent]]:
        """``with db.capture_queries() as queries:`` collects the statements run in this
        task (and the tasks it starts) during the block, e.g. to assert a query count."""
        return self._observers.capture()

    # -- transactions and held connections --------------------------------------

    def transaction(self, *, isolation: str | None = None, using: str | None = None) -> Transaction:
        """``async with db.transaction():`` (nested: a savepoint). ``isolation`` is one of
        ``read_uncommitted``, ``read_committed``, ``repeatable_read``, ``serializable``."""
        return Transaction(self, isolation=isolation, using=using)

    @asynccontextmanager
    async def connection(self, *, using: str | None = None) -> AsyncIterator[Connection]:
        """Hold one connection for the block; queries through this Database in the task use it."""
        current = self._bound_connection()
        if current is not None:
            yield current
            return
        conn = await self._hold_connection(using)
        token = self._bind(conn)
        try:
            yield conn
        except BaseException:
            self._unbind(token)
            if conn.driver_connection.broken:
                conn._discard()
            else:
                await conn.release()
            raise
        self._unbind(token)
        await conn.release()
