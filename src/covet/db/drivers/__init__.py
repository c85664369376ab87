"""Driver glue: one ``DriverConnection`` implementation per backend, opened by URL."""

from __future__ import annotations

from typing import Any

from covet.db.drivers.base import DriverConnection, Params
from covet.db.exceptions import InterfaceError
from covet.db.url import DatabaseURL

__all__ = ("DriverConnection", "Params", "open_connection")


async def open_connection(
    url: DatabaseURL, *, connect_timeout: float = 10.0, **options: Any
) -> DriverConnection:
    """Open one connection for ``url``; driver modules are imported on first use."""
    driver_options = {**url.driver_options(), **options}
    if url.dialect == "sqlite":
        from covet.db.drivers.sqlite import connect_sqlite

        try:
            busy = float(driver_options.pop("busy_timeout", 5.0))
            threads = int(driver_options.pop("threads", 1))
        except ValueError as exc:
            raise InterfaceError(f"invalid SQLite option: {exc}") from None
        if busy < 0 or threads < 1:
            raise InterfaceError(
                "SQLite options: busy_timeout must not be negative and threads must be at "
                f"least 1 (got busy_timeout={busy:g}, threads={threads})"
            )
        driver_options.pop("mode", None)
        driver_options.pop("cache", None)
        if driver_options:
            raise InterfaceError(f"unsupported SQLite option(s) {sorted(driver_options)}")
        return await connect_sqlite(
            url.database, busy_timeout=busy, is_memory=url.is_memory, threads=threads
        )
    if url.dialect == "postgresql":
        from covet.db.drivers.postgresql import connect_postgresql

        return await connect_postgresql(
            host=url.host,
            port=url.port,
            user=url.username,
            password=url.password,
            database=url.database,
            options=driver_options,
            connect_timeout=connect_timeout,
        )
    from covet.db.drivers.mysql import connect_mysql

    return await connect_mysql(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        database=url.database,
        options=driver_options,
        connect_timeout=connect_timeout,
        driver=url.driver,
    )
