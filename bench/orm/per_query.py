"""Per-query CPU cost on ONE held connection: raw asyncpg vs covet.db vs the covet ORM.

Isolates the ORM's own overhead from pool behaviour (``tfb.py`` measures whole
requests, where asyncpg's Pool.acquire dominates the raw single-query numbers).

    python bench/orm/per_query.py [--n 5000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from collections.abc import Awaitable, Callable

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "src"))

import tfb

from covet.db import Database

DB = "covet_bench_perquery"


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    import asyncpg

    admin = await asyncpg.connect(tfb.PG_ADMIN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{DB}"')
    url = tfb.PG_ADMIN.rsplit("/", 1)[0] + "/" + DB
    db = Database(url, min_size=1, max_size=1)
    try:
        await db.connect()
        await tfb.seed(db)
        raw = await asyncpg.connect(url)
        sql = 'SELECT "world"."id", "world"."randomnumber" FROM "world" WHERE "world"."id" = $1'
        n = args.n

        async def t_raw() -> None:
            for _ in range(n):
                r = await raw.fetchrow(sql, random.randint(1, 10000))
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
            ("raw asyncpg", t_raw),
            ("covet.db fetch_one", t_db),
            ("covet ORM get(id=)", t_orm),
        ]
        for _ in range(args.rounds):
            for name, fn in tests:
                c = time.process_time()
                await fn()
                us = (time.process_time() - c) / n * 1e6
                best[name] = min(best.get(name, us), us)
        base = best["raw asyncpg"]
        print("| path | CPU µs/query | vs raw |\n|---|---:|---:|")
        for name, us in best.items():
            print(f"| {name} | {us:.1f} | {us / base:.2f}x |")
        await raw.close()
    finally:
        await db.disconnect()
        await admin.execute(f'DROP DATABASE IF EXISTS "{DB}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
