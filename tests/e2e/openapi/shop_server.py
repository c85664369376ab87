"""Start and stop the shop example (examples/shop) under uvicorn in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[3]
ADMIN_KEY = "e2e-admin-key"


@dataclass
class ShopServer:
    base_url: str
    admin_key: str
    process: subprocess.Popen[bytes]
    log: Path


def start_shop(port: int, log: Path, docs_assets: str | None = None) -> ShopServer:
    """Start uvicorn with ``examples.shop.app:app`` and wait until it answers."""
    env = {**os.environ, "SHOP_ADMIN_KEY": ADMIN_KEY}
    env.pop("COVET_DOCS_ASSETS", None)
    if docs_assets:
        env["COVET_DOCS_ASSETS"] = docs_assets
    command = [
        sys.executable, "-m", "uvicorn", "examples.shop.app:app",
        "--app-dir", str(REPO), "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                return ShopServer(base_url, ADMIN_KEY, process, log)
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            raise RuntimeError(f"the shop did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
