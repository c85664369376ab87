"""TechEmpower-style ORM benchmark: single query, 20 queries, 20 updates, fortunes.

Runs in one process, without HTTP: each "request" is a coroutine doing exactly what the
TFB handler does (random ids 1..10000, one SELECT per row, updates with a new random
number per row, fortunes fetched + one added + sorted in Python + escaped HTML), and
N requests run concurrently with ``asyncio.gather`` (``--concurrency``). For each
contender we report the CPU time of this process per request (``time.process_time``;
the database server's CPU is not included) and requests per second (wall clock).

    python bench/orm/tfb.py --backend postgres      # raw asyncpg, covet ORM, SQLAlchemy 2, Tortoise
    python bench/orm/tfb.py --backend mysql         # raw asyncmy, ...
    python bench/orm/tfb.py --backend sqlite        # raw sqlite3 on a thread, ...
    python bench/orm/tfb.py --backend mysql --pin   # this process and the server on separate CPUs

Contenders run in interleaved rounds; the table gives medians and the median of the
per-round ratios to the raw driver (bench/orm/README.md explains the method).

SQLAlchemy and Tortoise are bench-only dependencies (``pip install sqlalchemy
tortoise-orm``); contenders whose package is missing are skipped. Each run creates a
scratch database (``covet_bench_tfb``) and drops it afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import html
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "src"))

from covet.db import Database
from covet.orm import Field, Model

PG_ADMIN = os.environ.get("COVET_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
MY_ADMIN = os.environ.get("COVET_BENCH_MYSQL", "mysql://root@127.0.0.1:3306/test")
DBNAME = "covet_bench_tfb"
FORTUNES = [
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. — Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    '<script>alert("This should not be displayed in a browser alert box.");</script>',
    "フレームワークのベンチマーク",
]
EXTRA = "Additional fortune added at request time."
Handler = Callable[[], Awaitable[str]]


def rid() -> int:
    return random.randint(1, 10000)


def render_fortunes(rows: list[tuple[int, str]]) -> str:
    rows.append((0, EXTRA))
    rows.sort(key=lambda r: r[1])
    body = "".join(f"<tr><td>{i}</td><td>{html.escape(m)}</td></tr>" for i, m in rows)
    return (
        "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
        f"<tr><th>id</th><th>message</th></tr>{body}</table></body></html>"
    )


# -- covet ORM models --------------------------------------------------------------------


class World(Model):
    id: int = Field(primary_key=True, auto=False)
    randomnumber: int = 0

    class Meta:
        table = "world"


class Fortune(Model):
    id: int = Field(primary_key=True, auto=False)
    message: str = Field(max_length=2048)

    class Meta:
        table = "fortune"


def covet_handlers(database: Database) -> dict[str, Handler]:
    """The ORM handlers; multi-query requests hold one connection, like the raw ones."""

    async def db() -> str:
        w = await World.objects.get(id=rid())
        return json.dumps({"id": w.id, "randomNumber": w.randomnumber})

    async def queries() -> str:
        out = []
        async with database.connection():
            for _ in range(20):
                w = await World.objects.get(id=rid())
                out.append({"id": w.id, "randomNumber": w.randomnumber})
        return json.dumps(out)

    async def updates() -> str:
        worlds = []
        async with database.connection():
            for i in random.sample(range(1, 10001), 20):
                w = await World.objects.get(id=i)
                w.randomnumber = rid()
                worlds.append(w)
            await World.objects.bulk_update(worlds, ["randomnumber"])
        return json.dumps([{"id": w.id, "randomNumber": w.randomnumber} for w in worlds])

    async def fortunes() -> str:
        return render_fortunes([(f.id, f.message) for f in await Fortune.objects.all()])

    return {"db": db, "queries": queries, "updates": updates, "fortunes": fortunes}


# -- raw drivers ---------------------------------------------------------------------------


class RawConn:
    """What a raw handler needs: ``fetchrow``, ``fetch``, ``executemany`` on one connection."""

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        raise NotImplementedError

    async def fetch(self, sql: str) -> Any:
        raise NotImplementedError

    async def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError


def raw_handlers(acquire: Callable[[], Any], ph: Callable[[int], str]) -> dict[str, Handler]:
    """TFB handlers on a raw driver: one connection acquired per request (the usual raw style)."""
    sel = f"SELECT id, randomnumber FROM world WHERE id = {ph(1)}"
    upd = f"UPDATE world SET randomnumber = {ph(1)} WHERE id = {ph(2)}"

    async def db() -> str:
        async with acquire() as c:
            r = await c.fetchrow(sel, rid())
        return json.dumps({"id": r[0], "randomNumber": r[1]})

    async def queries() -> str:
        out = []
        async with acquire() as c:
            for _ in range(20):
                r = await c.fetchrow(sel, rid())
                out.append({"id": r[0], "randomNumber": r[1]})
        return json.dumps(out)

    async def updates() -> str:
        out = []
        async with acquire() as c:
            for i in random.sample(range(1, 10001), 20):
                r = await c.fetchrow(sel, i)
                out.append({"id": r[0], "randomNumber": rid()})
            await c.executemany(
                upd, sorted(((w["randomNumber"], w["id"]) for w in out), key=lambda r: r[1])
            )
        return json.dumps(out)

    async def fortunes() -> str:
        async with acquire() as c:
            rows = await c.fetch("SELECT id, message FROM fortune")
        return render_fortunes([(r[0], r[1]) for r in rows])

    return {"db": db, "queries": queries, "updates": updates, "fortunes": fortunes}


async def asyncpg_contender(
    url: str, size: int
) -> tuple[dict[str, Handler], Callable[[], Awaitable[None]]]:
    import asyncpg

    pool = await asyncpg.create_pool(url, min_size=size, max_size=size)
    return raw_handlers(pool.acquire, lambda i: f"${i}"), pool.close


async def asyncmy_contender(
    parts: Any, size: int
) -> tuple[dict[str, Handler], Callable[[], Awaitable[None]]]:
    import contextlib

    import asyncmy

    pool = await asyncmy.create_pool(
        host=parts.hostname,
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
        db=DBNAME,
        minsize=size,
        maxsize=size,
        autocommit=True,
    )

    class Conn(RawConn):
        def __init__(self, cur: Any) -> None:
            self.cur = cur

        async def fetchrow(self, sql: str, *args: Any) -> Any:
            await self.cur.execute(sql, args)
            return await self.cur.fetchone()

        async def fetch(self, sql: str) -> Any:
            await self.cur.execute(sql)
            return await self.cur.fetchall()

        async def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
            await self.cur.executemany(sql, rows)

    @contextlib.asynccontextmanager
    async def acquire() -> Any:
        async with pool.acquire() as c, c.cursor() as cur:
            yield Conn(cur)

    async def close() -> None:
        pool.close()
        await pool.wait_closed()

    return raw_handlers(acquire, lambda i: "%s"), close


async def sqlite_contender(path: str) -> tuple[dict[str, Handler], Callable[[], Awaitable[None]]]:
    import contextlib
    import sqlite3
    from concurrent.futures import ThreadPoolExecutor

    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    pool = ThreadPoolExecutor(1)
    loop = asyncio.get_running_loop()

    class Conn(RawConn):
        async def fetchrow(self, sql: str, *args: Any) -> Any:
            return await loop.run_in_executor(pool, lambda: conn.execute(sql, args).fetchone())

        async def fetch(self, sql: str) -> Any:
            return await loop.run_in_executor(pool, lambda: conn.execute(sql).fetchall())

        async def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
            def run() -> None:
                conn.execute("BEGIN")
                conn.executemany(sql, rows)
                conn.execute("COMMIT")

            await loop.run_in_executor(pool, run)

    shared = Conn()

    @contextlib.asynccontextmanager
    async def acquire() -> Any:
        yield shared

    async def close() -> None:
        pool.shutdown()
        conn.close()

    return raw_handlers(acquire, lambda i: "?"), close


async def sqlalchemy_contender(
    url: str, size: int
) -> tuple[dict[str, Handler], Callable[[], Awaitable[None]]]:
    from sqlalchemy import select
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from tfb_sqlalchemy_models import SAFortune, SAWorld

    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("mysql://", "mysql+asyncmy://"),
        ("sqlite:///", "sqlite+aiosqlite:///"),
    ):
        if url.startswith(plain):
            url = driver + url[len(plain) :]
    if url.startswith("sqlite"):
        engine = create_async_engine(url)
    else:
        engine = create_async_engine(url, pool_size=size, max_overflow=0)
    Session = async_sessionmaker(engine, expire_on_commit=False)

    async def db() -> str:
        async with Session() as s:
            w = (await s.execute(select(SAWorld).where(SAWorld.id == rid()))).scalar_one()
            return json.dumps({"id": w.id, "randomNumber": w.randomnumber})

    async def queries() -> str:
        async with Session() as s:
            out = []
            for _ in range(20):
                w = (await s.execute(select(SAWorld).where(SAWorld.id == rid()))).scalar_one()
                out.append({"id": w.id, "randomNumber": w.randomnumber})
            return json.dumps(out)

    async def updates() -> str:
        async with Session() as s, s.begin():
            s.autoflush = False  # flush once, in primary-key order (no deadlocks)
            worlds = []
            for i in random.sample(range(1, 10001), 20):
                w = (await s.execute(select(SAWorld).where(SAWorld.id == i))).scalar_one()
                w.randomnumber = rid()
                worlds.append(w)
        return json.dumps([{"id": w.id, "randomNumber": w.randomnumber} for w in worlds])

    async def fortunes() -> str:
        async with Session() as s:
            rows = (await s.execute(select(SAFortune))).scalars().all()
            return render_fortunes([(f.id, f.message) for f in rows])

    return {"db": db, "queries": queries, "updates": updates, "fortunes": fortunes}, engine.dispose


async def tortoise_contender(
    url: str, size: int
) -> tuple[dict[str, Handler], Callable[[], Awaitable[None]]]:
    import tfb_tortoise_models as tm
    from tortoise import Tortoise

    if url.startswith("sqlite"):
        db_url = url
    else:
        db_url = url.replace("postgresql://", "asyncpg://") + f"?minsize={size}&maxsize={size}"
    await Tortoise.init(
        db_url=db_url,
        modules={"models": ["tfb_tortoise_models"]},
    )

    async def db() -> str:
        w = await tm.TWorld.get(id=rid())
        return json.dumps({"id": w.id, "randomNumber": w.randomnumber})

    async def queries() -> str:
        out = []
        for _ in range(20):
            w = await tm.TWorld.get(id=rid())
            out.append({"id": w.id, "randomNumber": w.randomnumber})
        return json.dumps(out)

    async def updates() -> str:
        worlds = []
        for i in random.sample(range(1, 10001), 20):
            w = await tm.TWorld.get(id=i)
            w.randomnumber = rid()
            worlds.append(w)
        await tm.TWorld.bulk_update(worlds, fields=["randomnumber"])
        return json.dumps([{"id": w.id, "randomNumber": w.randomnumber} for w in worlds])

    async def fortunes() -> str:
        return render_fortunes([(f.id, f.message) for f in await tm.TFortune.all()])

    return {
        "db": db,
        "queries": queries,
        "updates": updates,
        "fortunes": fortunes,
    }, Tortoise.close_connections


# -- setup -----------------------------------------------------------------------------------


async def seed(db: Database) -> None:
    from covet.orm import create_all, drop_all

    await drop_all(db, [World, Fortune])
    await create_all(db, [World, Fortune])
    rng = random.Random(7)
    await World.objects.bulk_create(
        [World(id=i, randomnumber=rng.randint(1, 10000)) for i in range(1, 10001)]
    )
    await Fortune.objects.bulk_create([Fortune(id=i, message=m) for i, m in enumerate(FORTUNES, 1)])


async def run_one(handler: Handler, requests: int, concurrency: int) -> tuple[float, float]:
    for _ in range(min(50, requests)):
        await handler()
    # The contenders share this process: move what exists so far (every contender's
    # long-lived objects: pools, caches, identity maps) out of the collector's reach, so
    # one ORM's heap does not slow the garbage collections of the next one's requests.
    gc.collect()
    gc.freeze()
    done = 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    while done < requests:
        n = min(concurrency, requests - done)
        await asyncio.gather(*(handler() for _ in range(n)))
        done += n
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    return cpu / requests * 1e6, requests / wall


REQUESTS = {"db": 1000, "queries": 100, "updates": 60, "fortunes": 1000}


async def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--backend", choices=["postgres", "mysql", "sqlite"], default="postgres")
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--pool", type=int, default=16)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the request counts")
    ap.add_argument("--rounds", type=int, default=10, help="interleaved rounds (medians)")
    ap.add_argument("--only", default="", help="comma-separated contender names")
    ap.add_argument(
        "--pin",
        action="store_true",
        help="run this process on CPU 0 and the database server on the other CPUs "
        "(needs the right to set their affinity; restored at exit)",
    )
    args = ap.parse_args()
    restore = pin_cpus(args.backend) if args.pin else (lambda: None)
    try:
        await run(args)
    finally:
        restore()


SERVERS = {"postgres": "postgres", "mysql": "mariadbd", "sqlite": None}


def pin_cpus(backend: str) -> Callable[[], None]:
    """This process on CPU 0, the database server's processes on the others: the two
    stop taking turns on one core, which is most of this machine's run-to-run noise."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        print("# --pin: one CPU only, nothing pinned", file=sys.stderr)
        return lambda: None
    saved: dict[int, set[int]] = {0: set(cpus)}
    name = SERVERS[backend]
    pids = [int(p) for p in os.popen(f"pgrep -x {name}").read().split()] if name else []
    for pid in pids:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                saved[int(task)] = os.sched_getaffinity(int(task))
                os.sched_setaffinity(int(task), set(cpus[1:]))
            except OSError:  # gone, or not ours to move
                saved.pop(int(task), None)
    os.sched_setaffinity(0, {cpus[0]})
    print(f"# --pin: this process on CPU {cpus[0]}, {len(saved) - 1} server threads on {cpus[1:]}",
          file=sys.stderr)  # fmt: skip

    def restore() -> None:
        for pid, mask in saved.items():
            try:
                os.sched_setaffinity(pid, mask)
            except OSError:
                pass

    return restore


async def run(args: argparse.Namespace) -> None:
    from urllib.parse import urlsplit, urlunsplit

    tmpdir = None
    if args.backend == "postgres":
        import asyncpg

        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{DBNAME}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DBNAME}"')
        p = urlsplit(PG_ADMIN)
        url = urlunsplit((p.scheme, p.netloc, "/" + DBNAME, "", ""))
    elif args.backend == "mysql":
        import pymysql

        p = urlsplit(MY_ADMIN)
        conn = pymysql.connect(
            host=p.hostname,
            port=p.port or 3306,
            user=p.username or "root",
            password=p.password or "",
        )
        with conn.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{DBNAME}`")
            cur.execute(
                f"CREATE DATABASE `{DBNAME}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
            )
        conn.close()
        url = urlunsplit((p.scheme, p.netloc, "/" + DBNAME, "", ""))
    else:
        tmpdir = tempfile.mkdtemp()
        url = f"sqlite:///{tmpdir}/tfb.db"
    covet_db = Database(url, min_size=args.pool, max_size=args.pool)
    try:
        await covet_db.connect()
        await seed(covet_db)
        contenders: dict[
            str, Callable[[], Awaitable[tuple[dict[str, Handler], Callable[[], Awaitable[None]]]]]
        ] = {}
        if args.backend == "postgres":
            contenders["raw asyncpg"] = lambda: asyncpg_contender(url, args.pool)
        elif args.backend == "mysql":
            contenders["raw asyncmy"] = lambda: asyncmy_contender(urlsplit(url), args.pool)
        else:
            contenders["raw sqlite3 (thread)"] = lambda: sqlite_contender(url[len("sqlite:///") :])

        async def covet_c() -> tuple[dict[str, Handler], Callable[[], Awaitable[None]]]:
            async def noop() -> None:
                return None

            return covet_handlers(covet_db), noop

        contenders["covet ORM"] = covet_c
        if True:  # the other ORMs on every backend (SQLite: through aiosqlite)
            try:
                import sqlalchemy  # noqa: F401

                sys.path.insert(0, os.path.dirname(__file__))
                contenders["SQLAlchemy 2 ORM"] = lambda: sqlalchemy_contender(url, args.pool)
            except ImportError:
                print("# sqlalchemy not installed: skipped", file=sys.stderr)
            try:
                import tortoise  # noqa: F401

                sys.path.insert(0, os.path.dirname(__file__))
                contenders["Tortoise ORM"] = lambda: tortoise_contender(url, args.pool)
            except ImportError:
                print("# tortoise-orm not installed: skipped", file=sys.stderr)
        if args.only:
            wanted = {w.strip() for w in args.only.split(",")}
            contenders = {k: v for k, v in contenders.items() if k in wanted}
        # per test and contender: the (CPU µs/req, req/s) of every round
        samples: dict[str, dict[str, list[tuple[float, float]]]] = {}
        opened: dict[str, dict[str, Handler]] = {}
        closers: list[Callable[[], Awaitable[None]]] = []
        try:
            for name, make in contenders.items():
                handlers, close = await make()
                opened[name] = handlers
                closers.append(close)
            names = list(opened)
            for test in REQUESTS:
                n = max(20, int(REQUESTS[test] * args.scale))
                per = samples[test] = {name: [] for name in names}
                # each round runs every contender once, in a rotating order, so a slow
                # spell of this shared machine hits them all rather than one
                for r in range(args.rounds):
                    for name in names[r % len(names) :] + names[: r % len(names)]:
                        per[name].append(await run_one(opened[name][test], n, args.concurrency))
                for name in names:
                    cpu = statistics.median(c for c, _ in per[name])
                    rps = statistics.median(q for _, q in per[name])
                    print(
                        f"# {name:22s} {test:9s} {cpu:9.1f} us CPU/req {rps:9.0f} req/s",
                        file=sys.stderr,
                    )
        finally:
            for close in closers:
                await close()
        base = next(iter(contenders))
        print(
            f"\n{args.backend}: concurrency {args.concurrency}, pool {args.pool}, "
            f"{args.rounds} interleaved rounds: medians; 'vs raw' is the median of the "
            "per-round ratios\n"
        )
        print("| test | contender | CPU µs/req | req/s | CPU vs raw | req/s vs raw |")
        print("|---|---|---:|---:|---:|---:|")
        for test, per in samples.items():
            raw = per[base]
            for name, runs in per.items():
                cpu = statistics.median(c for c, _ in runs)
                rps = statistics.median(q for _, q in runs)
                cpu_ratio = statistics.median(
                    c / rc for (c, _), (rc, _) in zip(runs, raw, strict=True)
                )
                rps_ratio = statistics.median(
                    q / rq for (_, q), (_, rq) in zip(runs, raw, strict=True)
                )
                print(
                    f"| {test} | {name} | {cpu:.0f} | {rps:.0f} | {cpu_ratio:.2f}x "
                    f"| {rps_ratio * 100:.0f}% |"
                )
    finally:
        await covet_db.disconnect()
        if args.backend == "postgres":
            await admin.execute(f'DROP DATABASE IF EXISTS "{DBNAME}" WITH (FORCE)')
            await admin.close()
        elif args.backend == "mysql":
            conn = pymysql.connect(
                host=p.hostname,
                port=p.port or 3306,
                user=p.username or "root",
                password=p.password or "",
            )
            with conn.cursor() as cur:
                cur.execute(f"DROP DATABASE IF EXISTS `{DBNAME}`")
            conn.close()
        elif tmpdir:
            import shutil

            shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
