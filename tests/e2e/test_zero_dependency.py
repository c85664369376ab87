"""A bare install works: a fresh venv, ``pip install --no-deps .``, the hello example served.

No optional extra may be importable in that venv, so this proves the core runs on the
standard library alone.
"""

from __future__ import annotations

import subprocess
import textwrap
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    t0 = time.perf_counter()
    import covet
    from covet import Covet
    import_ms = (time.perf_counter() - t0) * 1000
    sys.path.insert(0, os.path.join(sys.argv[1], "examples", "hello"))
    os.environ["HELLO_DATABASE_URL"] = "sqlite:///" + os.path.join(sys.argv[2], "hello.db")
    import app as hello
    from covet.testing import TestClient
    with TestClient(hello.app) as client:
        assert client.get("/", params={"name": "bare"}).json()["message"] == "Hello, bare!"
        created = client.post("/notes", json={"title": "first", "body": "from a bare install"})
        assert created.status_code == 201, created.text
        assert client.get(f"/notes/{created.json()['id']}").json()["title"] == "first"
        assert client.get("/stats").json() == {"count": 1}
        assert client.get("/openapi.json").json()["info"]["title"] == "Hello CovetPy"
        with client.websocket_connect("/ws/echo") as ws:
            ws.send_text("ping")
            assert ws.receive_text() == "ping"
    extras = ["orjson", "uvloop", "httptools", "msgspec", "pydantic", "jinja2", "asyncpg",
              "asyncmy", "aiomysql", "redis", "uvicorn", "granian", "cryptography", "argon2",
              "bcrypt", "prometheus_client", "brotli", "httpx", "websockets", "h11"]
    leaked = [m for m in extras if m in sys.modules]
    assert not leaked, leaked
    print(f"OK import_ms={import_ms:.1f}")
    """
)


@pytest.mark.e2e
@pytest.mark.slow
def test_bare_install_serves_the_hello_example(tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # exactly what a user runs; the build backend comes from PyPI in an isolated env
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    for extra in ("orjson", "pydantic", "uvloop", "httptools"):
        found = subprocess.run([str(python), "-c", f"import {extra}"], capture_output=True)
        assert found.returncode != 0, f"{extra} should not be installed in the bare venv"
    out = subprocess.run(
        [str(python), "-c", SCRIPT, str(ROOT), str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("OK"), out.stdout
