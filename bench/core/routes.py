#!/usr/bin/env python
"""Route resolution cost and memory as the route count grows.

Prints, for 100 / 1,000 / 10,000 parametrised routes (``/r{i}/items/{id:int}``, plus a
mix of static and nested templates): CPU µs per resolution of the first, middle and last
route, and the memory the compiled table and its Route records take per 1,000 routes.
"""

from __future__ import annotations

import gc
import random
import time
import tracemalloc

from covet.routing import Route, RouteTable


async def endpoint(id: int) -> dict:
    return {"id": id}


def build(n: int) -> list[Route]:
    routes: list[Route] = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            routes.append(Route(f"/r{i}/items/{{id:int}}", endpoint, name=f"r{i}"))
        elif kind == 1:
            routes.append(Route(f"/api/v{i}/users/{{user}}/posts/{{id:int}}", endpoint, name=f"p{i}"))
        elif kind == 2:
            routes.append(Route(f"/static/page{i}", endpoint, name=f"s{i}"))
        else:
            routes.append(Route(f"/shop/{{shop:slug}}/c{i}/{{id:int}}", endpoint, name=f"c{i}"))
    return routes


def sample_path(i: int) -> str:
    kind = i % 4
    return [f"/r{i}/items/5", f"/api/v{i}/users/bob/posts/7", f"/static/page{i}", f"/shop/acme/c{i}/9"][kind]


def per_call(table: RouteTable, path: str, n: int = 100_000) -> float:
    match = table.http.match
    start = time.process_time()
    for _ in range(n):
        match(path)
    return (time.process_time() - start) / n * 1e6


def main() -> None:
    print("| routes | first µs | middle µs | last µs | random µs | table+routes KiB per 1000 routes |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n in (100, 1_000, 10_000):
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        routes = build(n)
        table = RouteTable(routes)
        used = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        assert table.http.match(sample_path(n - 1)) is not None
        first, middle, last = (per_call(table, sample_path(i)) for i in (0, n // 2, n - 1))
        paths = [sample_path(random.randrange(n)) for _ in range(1000)]
        match = table.http.match
        start = time.process_time()
        for _ in range(100):
            for p in paths:
                match(p)
        rnd = (time.process_time() - start) / 100_000 * 1e6
        print(f"| {n:,} | {first:.2f} | {middle:.2f} | {last:.2f} | {rnd:.2f} | {used / 1024 / (n / 1000):,.0f} |")


if __name__ == "__main__":
    main()
