"""Run an ASGI app under a real server in a subprocess for end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVERS = ("builtin", "uvicorn", "hypercorn", "granian")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_available(server: str) -> bool:
    """Whether ``server`` can run here."""
    import importlib.util

    if server == "builtin":
        return importlib.util.find_spec("covet.cli.main") is not None
    if server == "granian":
        return _granian() is not None
    return importlib.util.find_spec(server) is not None


def _granian() -> str | None:
    local = Path(sys.executable).parent / "granian"
    return shutil.which("granian") or (str(local) if local.exists() else None)


def command(server: str, app: str, port: int, extra: Sequence[str] = ()) -> list[str]:
    """The command line that serves ``app`` ("module:attr") on 127.0.0.1:``port``."""
    if server == "builtin":
        cmd = [sys.executable, "-m", "covet.cli.main", "run", app, "--host", "127.0.0.1", "--port", str(port),
               "--server", "builtin", "--log-level", "warning"]
    elif server == "uvicorn":
        cmd = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
               "--log-level", "warning", "--lifespan", "on"]
    elif server == "hypercorn":
        cmd = [sys.executable, "-m", "hypercorn", app, "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    elif server == "granian":
        cmd = [_granian() or "granian", "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port),
               "--workers", "1", "--no-access-log", app]
    else:
        raise ValueError(f"unknown server {server!r}")
    return [*cmd, *extra]


@contextlib.contextmanager
def serve(
    app: str,
    *,
    server: str = "uvicorn",
    cwd: str | Path | None = None,
    pythonpath: Sequence[str | Path] = (),
    env: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = 20.0,
) -> Iterator[str]:
    """Serve ``app`` in a subprocess; yield ``http://127.0.0.1:PORT`` once it accepts connections.

    The process is terminated (then killed) on exit; if it dies during start-up the test
    fails with its output.
    """
    port = free_port()
    paths = [str(p) for p in pythonpath] + [str(ROOT), str(ROOT / "src")]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    full_env = {**os.environ, **(env or {}), "PYTHONPATH": os.pathsep.join(paths)}
    proc = subprocess.Popen(command(server, app, port, extra_args), cwd=cwd or ROOT, env=full_env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                raise AssertionError(f"{server} serving {app} exited with {proc.returncode}:\n{out[-3000:]}")
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{server} serving {app} did not listen on {port} within {timeout}s") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout:
            proc.stdout.close()
