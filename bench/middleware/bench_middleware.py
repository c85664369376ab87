#!/usr/bin/env python
"""Overhead of a typical middleware stack on a JSON endpoint: Covet vs Starlette vs Litestar.

In-process (no server, no sockets), modelled on ``shared/bench/inproc.py``: each app is
called directly as an ASGI callable in a tight loop; the cost is process CPU time per
call, so other processes on a shared machine do not inflate it. The request carries an
allowed ``Origin``, ``Accept-Encoding: gzip, br`` and a valid session cookie (minted
by ``GET /login`` on the same app), so every middleware does its real work; the JSON
body (27 bytes) stays under GZip's ``minimum_size``, as it would in production.

Usage: python bench/middleware/bench_middleware.py [--frameworks covet,starlette,litestar]
       [--repeat 5] [--min-time 0.3] [--loop asyncio|uvloop] [--json]
       [--breakdown | --each [--only TEXT]]
Needs ``starlette``, ``itsdangerous`` and ``litestar`` for the peers (a ``bench`` extra).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from apps import BUILDERS, ORIGIN

BASE_HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"user-agent", b"inproc-bench"),
    (b"accept", b"*/*"),
]


def scope_for(path: str, headers: list[tuple[bytes, bytes]], state: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": state,
    }


async def lifespan(app: Any) -> tuple[dict[str, Any], Any]:
    """Run the app's start-up; returns its state and a coroutine function to shut down."""
    state: dict[str, Any] = {}
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": state}
    task = asyncio.ensure_future(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    await asyncio.wait_for(outbox.get(), 10)

    async def shutdown() -> None:
        await inbox.put({"type": "lifespan.shutdown"})
        try:
            await asyncio.wait_for(outbox.get(), 5)
        finally:
            task.cancel()

    return state, shutdown


async def call(app: Any, scope: dict[str, Any]) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    out: dict[str, Any] = {"status": 0, "headers": [], "body": b""}
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
            out["headers"] = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    fresh = dict(scope)
    fresh["state"] = dict(scope["state"])  # per-request copy, as a server does
    await app(fresh, receive, send)
    return out["status"], out["headers"], out["body"]


async def _discard(message: dict[str, Any]) -> None:
    return None


async def run_loop(app: Any, scope: dict[str, Any], n: int) -> float:
    request = {"type": "http.request", "body": b"", "more_body": False}
    disconnect = {"type": "http.disconnect"}
    state = scope["state"]
    c0 = time.process_time()
    for _ in range(n):
        first = [True]

        async def receive(first: list[bool] = first) -> dict[str, Any]:
            if first[0]:
                first[0] = False
                return dict(request)
            return disconnect

        s = dict(scope)
        s["headers"] = list(scope["headers"])
        s["state"] = dict(state)
        await app(s, receive, _discard)
    return time.process_time() - c0


async def measure(app: Any, scope: dict[str, Any], repeat: int, min_time: float) -> float:
    """Median CPU microseconds per call."""
    per = max(await run_loop(app, scope, 500), 1e-6) / 500
    n = max(1000, int(min_time / per))
    runs = [await run_loop(app, scope, n) / n * 1e6 for _ in range(repeat)]
    return statistics.median(runs)


async def bench_framework(name: str, repeat: int, min_time: float) -> dict[str, Any]:
    bare, stack = BUILDERS[name]()
    result: dict[str, Any] = {"framework": name}
    for label, app in (("bare", bare), ("stack", stack)):
        state, shutdown = await lifespan(app)
        headers = list(BASE_HEADERS)
        if label == "stack":
            status, raw, _ = await call(app, scope_for("/login", list(BASE_HEADERS), state))
            cookie = next(v for k, v in raw if k.lower() == b"set-cookie").split(b";", 1)[0]
            headers += [(b"origin", ORIGIN.encode()), (b"accept-encoding", b"gzip, br"), (b"cookie", cookie)]
        scope = scope_for("/json", headers, state)
        status, raw, body = await call(app, scope)
        names = {k.lower() for k, _ in raw}
        assert status == 200 and json.loads(body) == {"message": "Hello, World!"}, (name, label, status, body)
        if label == "stack":
            missing = {b"x-request-id", b"access-control-allow-origin", b"x-frame-options"} - names
            assert not missing, (name, missing)
            result["resends_cookie"] = b"set-cookie" in names  # unmodified session, cookie sent again?
        result[label] = round(await measure(app, scope, repeat, min_time), 2)
        await shutdown()
    result["overhead"] = round(result["stack"] - result["bare"], 2)
    result["overhead_pct"] = round(100 * result["overhead"] / result["bare"], 1)
    return result


async def breakdown(repeat: int, min_time: float) -> list[dict[str, Any]]:
    """Covet only: each middleware of the stack alone on the app, and the stack minus it."""
    from apps import covet_app, covet_stack

    stack = covet_stack()
    cases: list[tuple[str, list[tuple[Any, dict[str, Any]]]]] = [("none", []), ("full stack", stack)]
    for cls, options in stack:
        cases.append((f"only {cls.__name__}", [(cls, options)]))
        cases.append((f"stack without {cls.__name__}", [m for m in stack if m[0] is not cls]))
    rows = []
    for label, middleware in cases:
        app = covet_app(middleware)
        state, shutdown = await lifespan(app)
        headers = [*BASE_HEADERS, (b"origin", ORIGIN.encode()), (b"accept-encoding", b"gzip, br")]
        if any(cls.__name__ == "SessionMiddleware" for cls, _ in middleware):
            _, raw, _ = await call(app, scope_for("/login", list(BASE_HEADERS), state))
            headers.append((b"cookie", next(v for k, v in raw if k.lower() == b"set-cookie").split(b";", 1)[0]))
        rows.append({"case": label, "us": round(await measure(app, scope_for("/json", headers, state), repeat, min_time), 2)})
        await shutdown()
    return rows


async def each(repeat: int, min_time: float, only: str | None) -> list[dict[str, Any]]:
    """Every middleware alone around a raw endpoint: its own CPU µs per request."""
    import each as each_cases

    baselines: dict[Any, float] = {}
    rows = []
    for label, wrap, extra, overrides in each_cases.cases():
        if only and only.lower() not in label.lower():
            continue
        options = dict(overrides)
        inner = options.pop("endpoint", each_cases.endpoint)
        scope = scope_for("/json", [*BASE_HEADERS, *extra], {})
        scope.update(options)
        app = wrap(inner)
        status, _, _ = await call(app, scope)
        assert status == 200, (label, status)
        if inner not in baselines:
            baselines[inner] = await measure(inner, scope, repeat, min_time)
        us = await measure(app, scope, repeat, min_time)
        rows.append({"case": label, "us": round(us, 2), "overhead": round(us - baselines[inner], 2)})
    return rows


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    if args.each:
        return await each(args.repeat, args.min_time, args.only)
    if args.breakdown:
        return await breakdown(args.repeat, args.min_time)
    return [await bench_framework(name, args.repeat, args.min_time) for name in args.frameworks.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frameworks", default="covet,starlette,litestar")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--min-time", type=float, default=0.3, help="seconds of CPU per timed repeat")
    parser.add_argument("--loop", default="asyncio", choices=["asyncio", "uvloop"])
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    parser.add_argument("--breakdown", action="store_true", help="Covet only: cost of each middleware")
    parser.add_argument("--each", action="store_true", help="each middleware alone around a raw endpoint")
    parser.add_argument("--only", help="with --each: only cases whose label contains this text")
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop

        results = uvloop.run(main_async(args))
    else:
        results = asyncio.run(main_async(args))
    if args.json:
        for row in results:
            print(json.dumps(row))
        return
    if args.each:
        print(f"(MemoryBackend.hit alone: {__import__('each').backend_hit_cost():.2f} µs)")
        print("| middleware (request) | µs/call | overhead µs |")
        print("|---|---:|---:|")
        for row in results:
            print(f"| {row['case']} | {row['us']:.2f} | {row['overhead']:.2f} |")
        return
    if args.breakdown:
        print("| Covet app with | µs/call |")
        print("|---|---:|")
        for row in results:
            print(f"| {row['case']} | {row['us']:.2f} |")
        return
    print("| framework | bare µs/call | stack µs/call | overhead µs | overhead % | re-sends session cookie |")
    print("|---|---:|---:|---:|---:|---|")
    for row in results:
        print(
            f"| {row['framework']} | {row['bare']:.2f} | {row['stack']:.2f} | "
            f"{row['overhead']:.2f} | {row['overhead_pct']:.1f} | {'yes' if row['resends_cookie'] else 'no'} |"
        )


if __name__ == "__main__":
    main()
