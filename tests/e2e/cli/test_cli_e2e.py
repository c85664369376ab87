"""The ``covet`` script as a user runs it: new project, run (each server), reload."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

COVET = [sys.executable, "-m", "covet.cli"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("cli")
    result = subprocess.run(
        [*COVET, "new", "demo-app"], cwd=base, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "Created project demo-app" in result.stdout
    return base / "demo-app"


def test_generated_project_passes_its_own_tests(project: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    # The skeleton needs no pytest plugin; skipping entry-point discovery saves seconds.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_routes_of_generated_project(project: Path) -> None:
    result = subprocess.run(
        [*COVET, "routes", "demo_app.main:app"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "/items/{item_id:int}" in result.stdout and "\x1b[" not in result.stdout


@pytest.fixture
def start(project: Path) -> Iterator[object]:
    processes: list[subprocess.Popen[bytes]] = []

    def launch(*args: str, port: int) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [*COVET, "run", "demo_app.main:app", "--port", str(port), *args],
            cwd=project,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        return process

    yield launch
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(url: str, timeout: float = 20.0, expect: str | None = None) -> httpx.Response:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            response = httpx.get(url, timeout=1)
            if expect is None or expect in response.text:
                return response
            last = response.text
        except httpx.TransportError as exc:
            last = exc
        time.sleep(0.1)
    raise AssertionError(f"{url} not ready: {last}")


@pytest.mark.parametrize("server", ["builtin", "uvicorn", "granian"])
def test_run_with_each_server(start: object, free_port: int, server: str) -> None:
    process = start("--server", server, "--no-access-log", port=free_port)  # type: ignore[operator]
    response = wait_for(f"http://127.0.0.1:{free_port}/")
    assert response.json() == {"message": "Hello from Demo App"}
    assert response.headers["server"] == ("covet" if server == "builtin" else server)
    process.send_signal(signal.SIGTERM)
    assert process.wait(15) in (0, -signal.SIGTERM)


def test_run_builtin_with_workers(start: object, free_port: int) -> None:
    start("--server", "builtin", "--workers", "2", port=free_port)  # type: ignore[operator]
    assert wait_for(f"http://127.0.0.1:{free_port}/").status_code == 200


def test_reload_restarts_on_change(start: object, free_port: int, project: Path) -> None:
    main_py = project / "demo_app" / "main.py"
    original = main_py.read_text()
    try:
        start("--server", "builtin", "--reload", port=free_port)  # type: ignore[operator]
        wait_for(f"http://127.0.0.1:{free_port}/", expect="Hello from")
        main_py.write_text(original.replace("Hello from", "Reloaded"))
        future = time.time() + 2
        os.utime(main_py, (future, future))
        assert "Reloaded" in wait_for(f"http://127.0.0.1:{free_port}/", expect="Reloaded").text
    finally:
        main_py.write_text(original)
