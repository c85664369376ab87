#!/usr/bin/env python
"""HTTP benchmark: CovetPy, raw ASGI and peers under uvicorn (uvloop + httptools), wrk as client.

Server pinned to CPU 0, wrk to CPU 1. Per app and endpoint: a short wrk warm-up, then
``wrk -t1 -c64 -d<duration>s``; reported: requests/s and the server's CPU seconds per
10k requests (read from /proc, less sensitive to a shared machine than req/s).

    python bench/core/http_load.py --apps raw_asgi,covet_app,blacksheep_app --duration 5
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("COVET_SHARED_BENCH", HERE.parents[2] / "shared" / "bench"))
ENDPOINTS = {
    "plaintext": "/plaintext",
    "json": "/json",
    "user": "/users/42",
    "search": "/search?q=abc&limit=10",
    "post_item": "/items",
    "route1000": "/r999/items/5",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_app(name: str, duration: int) -> dict[str, tuple[float, float]]:
    app_dir = HERE if (HERE / f"{name}.py").exists() else SHARED / "apps"
    port = free_port()
    cmd = ["taskset", "-c", "0", sys.executable, "-m", "uvicorn", f"{name}:app", "--app-dir", str(app_dir),
           "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "httptools",
           "--no-access-log", "--log-level", "warning"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        results = {}
        for ep, path in ENDPOINTS.items():
            url = f"http://127.0.0.1:{port}{path}"
            script = ["-s", str(SHARED / "post.lua")] if ep == "post_item" else []
            wrk = ["taskset", "-c", "1", "wrk", "-t1", "-c64", *script]
            subprocess.run([*wrk, "-d1s", url], capture_output=True)
            before = cpu_seconds(proc.pid)
            out = subprocess.run([*wrk, f"-d{duration}s", url], capture_output=True, text=True).stdout
            used = cpu_seconds(proc.pid) - before
            m = re.search(r"Requests/sec:\s+([\d.]+)", out)
            rps = float(m.group(1)) if m else 0.0
            total = rps * duration
            results[ep] = (rps, used / total * 10_000 if total else float("nan"))
        return results
    finally:
        proc.terminate()
        proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--apps", default="raw_asgi,covet_app,blacksheep_app,falcon_app,starlette_app")
    ap.add_argument("--duration", type=int, default=5)
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is required: apt-get install -y wrk")
    table = {name: run_app(name, args.duration) for name in args.apps.split(",")}
    print("\nuvicorn (uvloop + httptools), wrk -t1 -c64: req/s and server CPU s per 10k requests\n")
    print("| app | " + " | ".join(ENDPOINTS) + " |")
    print("|---|" + "---:|" * len(ENDPOINTS))
    for name, res in table.items():
        print(f"| {name} | " + " | ".join(f"{rps:,.0f} / {cpu:.2f}" for rps, cpu in res.values()) + " |")


if __name__ == "__main__":
    main()
