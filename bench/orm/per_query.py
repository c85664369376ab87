"""Per-query CPU cost on ONE held connection: the raw driver vs covet.db vs the covet ORM.

Isolates the database layer's and the ORM's own overhead from pool behaviour (``tfb.py``
measures whole requests, where pool acquisition dominates the single-query numbers).

    python bench/orm/per_query.py [--backend postgres|mysql|sqlite] [--n 5000] [--rounds 3]

The raw SQLite baseline is one ``sqlite3`` connection driven through a one-thread
``ThreadPoolExecutor`` (``run_in_executor`` per query), like ``tfb.py``'s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "src"))

import tfb

from covet.db import Database

DB = "covet_bench_perquery"


async def _raw_postgres(url: str, sql: str) -> tuple[Callable[[int], Awaitable[Any]], Any]:
    import asyncpg

    raw = await asyncpg.connect(url)
    return (lambda i: raw.fetchrow(sql, i)), raw.close


async def _raw_mysql(url: str, sql: str) -> tuple[Callable[[int], Awaitable[Any]], Any]:
    import asyncmy

    p = urlsplit(url)
    raw = await asyncmy.connect(
        host=p.hostname, port=p.port or 3306, user=p.username or "root",
        password=p.password or "", database=DB, autocommit=True,
    )  # fmt: skip
    cur = raw.cursor()

    async def fetchrow(i: int) -> Any:
        await cur.execute(sql, (i,))
        return await cur.fetchone()

    async def close() -> None:
        raw.close()

    return fetchrow, close


async def _raw_sqlite(path: str, sql: str) -> tuple[Callable[[int], Awaitable[Any]], Any]:
    import sqlite3
    from concurrent.futures import ThreadPoolExecutor

    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    pool = ThreadPoolExecutor(1)
    loop = asyncio.get_running_loop()

    def one(i: int) -> Any:
        return conn.execute(sql, (i,)).fetchone()

    async def close() -> None:
        pool.shutdown()
        conn.close()

    return (lambda i: loop.run_in_executor(pool, one, i)), close


async def _prepare(backend: str) -> tuple[str, Callable[[], Awaitable[None]]]:
    """The database URL, and how to drop it afterwards."""
    if backend == "postgres":
        import asyncpg

        admin = await asyncpg.connect(tfb.PG_ADMIN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DB}"')

        async def drop_pg() -> None:
            await admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
            await admin.close()

        return tfb.PG_ADMIN.rsplit("/", 1)[0] + "/" + DB, drop_pg
    if backend == "mysql":
        p = urlsplit(tfb.MY_ADMIN)
        admin_db = Database(tfb.MY_ADMIN, max_size=1, alias="perquery-admin")
        await admin_db.connect()
        await admin_db.execute(f"DROP DATABASE IF EXISTS `{DB}`")
        await admin_db.execute(f"CREATE DATABASE `{DB}` CHARACTER SET utf8mb4")

        async def drop_my() -> None:
            await admin_db.execute(f"DROP DATABASE IF EXISTS `{DB}`")
            await admin_db.disconnect()
            admin_db.unregister()

        return urlunsplit((p.scheme, p.netloc, "/" + DB, "", "")), drop_my
    path = os.path.join(tempfile.mkdtemp(), "perquery.db")

    async def drop_file() -> None:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)

    return f"sqlite:///{path}", drop_file


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--backend", choices=["postgres", "mysql", "sqlite"], default="postgres")
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    url, drop = await _prepare(args.backend)
    db = Database(url, min_size=1, max_size=1)
    try:
        await db.connect()
        await tfb.seed(db)
        q = db.dialect.quote
        sql = (
            f"SELECT {q('world')}.{q('id')}, {q('world')}.{q('randomnumber')} "
            f"FROM {q('world')} WHERE {q('world')}.{q('id')} = {db.dialect.placeholder(1)}"
        )
        if args.backend == "postgres":
            fetchrow, close = await _raw_postgres(url, sql)
            raw_name = "raw asyncpg `conn.fetchrow`"
        elif args.backend == "mysql":
            fetchrow, close = await _raw_mysql(url, sql)
            raw_name = "raw asyncmy `cursor.execute` + `fetchone` (one cursor)"
        else:
            fetchrow, close = await _raw_sqlite(url[len("sqlite:///") :], sql)
            raw_name = "raw sqlite3 `run_in_executor` (one thread)"
        n = args.n

        async def t_raw() -> None:
            for _ in range(n):
                r = await fetchrow(random.randint(1, 10000))
                _ = {"id": r[0], "randomNumber": r[1]}

        async def t_db() -> None:
            async with db.connection():
                for _ in range(n):
                    r = await db.fetch_one(sql, [random.randint(1, 10000)])
                    _ = {"id": r[0], "randomNumber": r[1]}

        async def t_orm() -> None:
            async with db.connection():
                for _ in range(n):
                    w = await tfb.World.objects.get(id=random.randint(1, 10000))
                    _ = {"id": w.id, "randomNumber": w.randomnumber}

        best: dict[str, float] = {}
        tests: list[tuple[str, Callable[[], Awaitable[None]]]] = [
            (raw_name, t_raw),
            ("covet.db `fetch_one`", t_db),
            ("covet ORM `World.objects.get(id=...)`", t_orm),
        ]
        for _ in range(args.rounds):
            for name, fn in tests:
                c = time.process_time()
                await fn()
                us = (time.process_time() - c) / n * 1e6
                best[name] = min(best.get(name, us), us)
        base = best[raw_name]
        print(f"{args.backend}: best of {args.rounds}, {n} queries\n")
        print("| path | CPU µs/query | vs raw |\n|---|---:|---:|")
        for name, us in best.items():
            print(f"| {name} | {us:.1f} | {us / base:.2f}x |")
        await close()
    finally:
        await db.disconnect()
        await drop()


if __name__ == "__main__":
    asyncio.run(main())
