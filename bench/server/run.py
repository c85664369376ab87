"""Benchmark the built-in server against uvicorn and granian with wrk over loopback.

    python bench/server/run.py [--duration 5] [--connections 64] [--skip-ws]

Servers run pinned to CPU 0 and wrk to CPU 1 (taskset). The machine may be shared,
so besides req/s the table reports the server's CPU time per request (user+system of
the server process tree during the wrk run), which is much less sensitive to noise.
Also measured: RSS per idle keep-alive connection, and 10,000 idle WebSocket
connections held by one built-in server process (``ulimit -n`` is raised here).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_nofile(limit: int = 65536) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(limit, hard) if hard != resource.RLIM_INFINITY else limit
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, target), hard))


def server_command(server: str, app: str, port: int, keep_alive: float = 5.0) -> list[str]:
    py = sys.executable
    if server == "builtin":
        code = (
            "from covet.server import run; "
            f"run({app!r}, port={port}, access_log=False, app_dir={str(HERE)!r}, "
            f"loop='uvloop', http_parser='httptools', timeout_keep_alive={keep_alive}, ws_ping_interval=None)"
        )
        return [py, "-c", code]
    if server == "builtin-pure":
        code = (
            "from covet.server import run; "
            f"run({app!r}, port={port}, access_log=False, app_dir={str(HERE)!r}, "
            f"loop='asyncio', http_parser='python', timeout_keep_alive={keep_alive})"
        )
        return [py, "-c", code]
    if server == "uvicorn":
        return [
            py,
            "-m",
            "uvicorn",
            app,
            "--port",
            str(port),
            "--http",
            "httptools",
            "--loop",
            "uvloop",
            "--no-access-log",
            "--log-level",
            "warning",
            "--app-dir",
            str(HERE),
            "--timeout-keep-alive",
            str(int(keep_alive)),
        ]
    if server == "granian":
        return [
            py,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-ws",
            "--working-dir",
            str(HERE),
            app,
        ]
    raise ValueError(server)


def start(server: str, app: str, port: int, keep_alive: float = 5.0) -> subprocess.Popen[bytes]:
    command = ["taskset", "-c", "0", *server_command(server, app, port, keep_alive)]
    process = subprocess.Popen(
        command,
        cwd=HERE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=raise_nofile,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as sock:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if sock.recv(100).startswith(b"HTTP/1.1 "):
                    return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(
        f"{server} did not start: {process.stderr.read().decode() if process.stderr else ''}"
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    out, stack = [], [pid]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(children.get(current, []))
    return out


def cpu_seconds(pid: int) -> float:
    total = 0
    for p in tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / CLK_TCK


def rss_bytes(pid: int) -> int:
    total = 0
    for p in tree(pid):
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE
        except OSError:
            continue
    return total


def wrk(port: int, duration: int, connections: int) -> tuple[float, int]:
    out = subprocess.run(
        [
            "taskset",
            "-c",
            "1",
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            f"http://127.0.0.1:{port}/",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    if "Non-2xx" in out or "Socket errors" in out:
        print(f"  warning: wrk reported errors:\n{out}", file=sys.stderr)
    return rps, total


def bench_throughput(
    servers: list[str], apps: list[str], duration: int, connections: int, rounds: int
) -> list[list[str]]:
    """Interleaved rounds (every server once per round); the median round is reported."""
    rows = []
    for app in apps:
        results: dict[str, list[tuple[float, float]]] = {s: [] for s in servers}
        for _ in range(rounds):
            for server in servers:
                port = free_port()
                process = start(server, app, port)
                try:
                    wrk(port, 1, connections)  # warm-up
                    before = cpu_seconds(process.pid)
                    rps, total = wrk(port, duration, connections)
                    cpu = cpu_seconds(process.pid) - before
                finally:
                    stop(process)
                results[server].append((rps, cpu / total * 1e6))
                print(
                    f"  {app:<18} {server:<13} {rps:>10,.0f} req/s  {cpu / total * 1e6:6.1f} µs CPU/request",
                    flush=True,
                )
        for server in servers:
            rps_values = sorted(r for r, _ in results[server])
            cpu_values = sorted(c for _, c in results[server])
            middle = len(rps_values) // 2
            rows.append(
                [
                    app.split(":")[1],
                    server,
                    f"{rps_values[middle]:,.0f}",
                    f"{cpu_values[middle]:.1f}",
                ]
            )
    return rows


async def _open_keepalive(port: int, count: int) -> list[asyncio.StreamWriter]:
    writers = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await reader.readuntil(b"Hello, world!")
        writers.append(writer)
    return writers


async def _open_websockets(port: int, count: int) -> list[asyncio.StreamWriter]:
    writers = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16))
        writer.write(
            b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        writers.append(writer)
    return writers


def bench_idle(server: str, app: str, count: int, opener: str) -> tuple[float, float, float]:
    """RSS before and after opening ``count`` idle connections; bytes per connection."""
    port = free_port()
    process = start(server, app, port, keep_alive=600)
    try:
        time.sleep(0.5)
        before = rss_bytes(process.pid)

        async def hold() -> int:
            open_fn = _open_websockets if opener == "ws" else _open_keepalive
            writers = await open_fn(port, count)
            await asyncio.sleep(1.0)
            after = rss_bytes(process.pid)
            for writer in writers:
                writer.close()
            return after

        after = asyncio.run(hold())
    finally:
        stop(process)
    return before / 2**20, after / 2**20, (after - before) / count


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-ws", action="store_true")
    parser.add_argument("--servers", default="builtin,builtin-pure,uvicorn,granian")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is required: apt-get install -y wrk")
    raise_nofile()
    servers = args.servers.split(",")
    apps = ["apps:hello", "apps:json_app"]
    sys.path.insert(0, str(HERE))
    import apps as app_module

    if app_module.covet_json is not None:
        apps.append("apps:covet_json")
    print(
        f"wrk -t1 -c{args.connections} -d{args.duration}s, median of {args.rounds} interleaved rounds; "
        "server on CPU 0, wrk on CPU 1\n"
    )
    rows = bench_throughput(servers, apps, args.duration, args.connections, args.rounds)
    print("\n| app | server | req/s | server CPU µs/request |\n|---|---|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")

    print(
        "\n| idle connections | server | RSS before (MiB) | RSS after (MiB) | KiB per connection |\n|---|---|---:|---:|---:|"
    )
    for server in ("builtin", "uvicorn"):
        before, after, per = bench_idle(server, "apps:hello", 2000, "http")
        print(
            f"| 2,000 HTTP keep-alive | {server} | {before:.1f} | {after:.1f} | {per / 1024:.1f} |",
            flush=True,
        )
    if not args.skip_ws:
        before, after, per = bench_idle("builtin", "apps:ws_echo", 10_000, "ws")
        print(
            f"| 10,000 WebSocket | builtin | {before:.1f} | {after:.1f} | {per / 1024:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
