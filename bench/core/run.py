#!/usr/bin/env python
"""In-process benchmark: CovetPy beside raw ASGI and the peer frameworks, in one run.

Uses the shared harness (../shared/bench/inproc.py: CPU time per call, uvloop, each app
verified against the endpoint contract first) for every app, pinned to CPU 0, then prints
a markdown table of microseconds per call and the ratio to raw ASGI.

    python bench/core/run.py                      # all apps installed
    python bench/core/run.py --apps raw_asgi,covet_app,falcon_app --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHARED = Path(os.environ.get("COVET_SHARED_BENCH", HERE.parents[2] / "shared" / "bench"))
PEERS = ["raw_asgi", "covet_app", "covet_msgspec_app", "blacksheep_app", "falcon_app", "starlette_app", "litestar_app", "fastapi_app"]
ENDPOINTS = ["plaintext", "json", "user", "search", "post_item", "route1000"]


def app_path(name: str) -> Path:
    return HERE / f"{name}.py" if (HERE / f"{name}.py").exists() else SHARED / "apps" / f"{name}.py"


def run_one(name: str, repeat: int, n: int) -> dict | None:
    cmd = [sys.executable, str(SHARED / "inproc.py"), str(app_path(name)), "--json",
           "--repeat", str(repeat), "--n", str(n)]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=SHARED)
    if proc.returncode != 0:
        print(f"!! {name} failed: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--apps", default=",".join(PEERS))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--n", type=int, default=20000)
    args = ap.parse_args()
    results = {}
    for name in args.apps.split(","):
        res = run_one(name, args.repeat, args.n)
        if res is None:
            continue
        if res["errors"]:
            print(f"!! {name} contract errors: {res['errors']}", file=sys.stderr)
        results[name] = res
        print(f"{name}: " + ", ".join(f"{k} {v['us_per_call']:.2f}" for k, v in res["endpoints"].items()),
              file=sys.stderr)
    raw = results.get("raw_asgi")
    print("\nCPU µs per call (median of repeats); in brackets: ratio to raw ASGI\n")
    print("| app | " + " | ".join(ENDPOINTS) + " |")
    print("|---|" + "---:|" * len(ENDPOINTS))
    for name, res in results.items():
        cells = []
        for ep in ENDPOINTS:
            us = res["endpoints"][ep]["us_per_call"]
            ratio = us / raw["endpoints"][ep]["us_per_call"] if raw else float("nan")
            cells.append(f"{us:.2f} ({ratio:.1f}x)")
        print(f"| {name} | " + " | ".join(cells) + " |")
    peers = [n for n in results if not n.startswith(("raw_asgi", "covet"))]
    for ours_name in [n for n in results if n.startswith("covet")]:
        if not peers:
            break
        print(f"\n{ours_name} vs the fastest peer per endpoint:\n")
        for ep in ENDPOINTS:
            best = min(peers, key=lambda n: results[n]["endpoints"][ep]["us_per_call"])
            ours = results[ours_name]["endpoints"][ep]["us_per_call"]
            theirs = results[best]["endpoints"][ep]["us_per_call"]
            verdict = "ahead" if ours < theirs else "behind"
            print(f"- {ep}: {ours:.2f} µs vs {best} {theirs:.2f} µs -> {verdict} ({theirs / ours:.2f}x)")


if __name__ == "__main__":
    main()
