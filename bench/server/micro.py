"""Server code path without sockets: CPU time per request, builtin vs uvicorn.

    python bench/server/micro.py [--requests 30000]

Each protocol gets an in-memory transport and the same raw ASGI hello app; the same
keep-alive request is fed ``--requests`` times and ``time.process_time()`` is divided
by the count. No syscalls, no client: on a shared machine this is far steadier than
wrk, and it isolates parsing, scope building, task creation and response writing.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import apps

REQUEST = b"GET / HTTP/1.1\r\nHost: localhost:8000\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n"


class MemoryTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: Any) -> None:
        self.writes += 1

    def close(self) -> None:
        pass

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default
        )


def builtin_protocol(parser: str) -> Any:
    from covet.server import Config
    from covet.server.http11 import HTTPProtocol
    from covet.server.state import ServerState

    config = Config(http_parser=parser, access_log=False)  # type: ignore[arg-type]
    return HTTPProtocol(apps.hello, config, ServerState(), asyncio.get_running_loop())


def uvicorn_protocol(http: str) -> Any:
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    config = Config(
        app=apps.hello, http=http, lifespan="off", access_log=False, log_level="warning"
    )
    config.load()
    if http == "httptools":
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as cls
    else:
        from uvicorn.protocols.http.h11_impl import H11Protocol as cls
    return cls(
        config=config, server_state=ServerState(), app_state={}, _loop=asyncio.get_running_loop()
    )


async def measure(factory: Any, arg: str, requests: int) -> float:
    protocol = factory(arg)
    transport = MemoryTransport()
    protocol.connection_made(transport)
    for _ in range(1000):  # warm-up
        protocol.data_received(REQUEST)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
    start = time.process_time()
    for _ in range(requests):
        protocol.data_received(REQUEST)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
    elapsed = time.process_time() - start
    assert transport.writes >= requests, "responses were not written"
    protocol.connection_lost(None)
    return elapsed / requests * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=30000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import uvloop

    cases = [
        ("builtin (httptools)", builtin_protocol, "httptools"),
        ("builtin (pure Python)", builtin_protocol, "python"),
        ("uvicorn (httptools)", uvicorn_protocol, "httptools"),
        ("uvicorn (h11)", uvicorn_protocol, "h11"),
    ]
    results: dict[str, list[float]] = {name: [] for name, _, _ in cases}
    for _ in range(args.rounds):
        for name, factory, arg in cases:
            results[name].append(uvloop.run(measure(factory, arg, args.requests)))
    print(f"uvloop, {args.requests} keep-alive requests, best of {args.rounds} rounds\n")
    print("| server code path | CPU µs/request |\n|---|---:|")
    for name, values in results.items():
        print(f"| {name} | {min(values):.1f} |")


if __name__ == "__main__":
    main()
