"""The ``covet`` command in-process: routes, openapi, new, version, output, watcher."""

from __future__ import annotations

import io
import json
import os
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from covet.cli.introspect import iter_routes
from covet.cli.main import build_parser, main
from covet.cli.new import create_project
from covet.cli.output import Style
from covet.cli.reload import PollingWatcher, child_command
from covet.cli.run import SERVER_PREFERENCE, pick_server

APP_SOURCE = """
from covet import Covet, Router

app = Covet(title="CLI test", version="2.0.0")
api = Router(prefix="/api")


@app.get("/")
async def index() -> dict:
    return {"ok": True}


@api.post("/items/{item_id:int}", name="create")
async def create_item(item_id: int) -> dict:
    return {"id": item_id}


@app.websocket("/ws")
async def socket(ws) -> None:
    await ws.accept()


async def raw_app(scope, receive, send):
    pass


app.include_router(api)
app.mount("/raw", raw_app, name="raw")
"""


@pytest.fixture
def app_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    module = f"cliapp_{os.getpid()}_{time.monotonic_ns()}"
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(APP_SOURCE))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COVET_APP", f"{module}:app")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_routes_table(app_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["routes"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["METHOD", "PATH", "NAME", "HANDLER"]
    assert "\x1b[" not in out  # piped: no colours
    rows = [line.split() for line in lines[2:]]
    assert rows[0][:3] == ["GET,HEAD", "/", "index"]
    assert any(r[:3] == ["POST", "/api/items/{item_id:int}", "create"] for r in rows)
    assert any(r[:3] == ["WS", "/ws", "socket"] for r in rows)
    assert any(r[:3] == ["MOUNT", "/raw", "raw"] for r in rows)


def test_routes_json(app_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["routes", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    create = next(r for r in data if r["name"] == "create")
    assert create["methods"] == "POST" and create["handler"].endswith("create_item")


def test_openapi_print_and_write(app_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["openapi"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["info"] == {"title": "CLI test", "version": "2.0.0"}
    assert "/api/items/{item_id}" in schema["paths"]
    assert main(["openapi", "-o", "schema.json", "--indent", "0"]) == 0
    assert json.loads((app_dir / "schema.json").read_text())["openapi"].startswith("3.1")


def test_missing_app_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COVET_APP", raising=False)
    assert main(["routes"]) == 1
    assert "No application given" in capsys.readouterr().err
    assert main(["routes", "nosuchmodule_xyz:app"]) == 1
    assert "Could not import module" in capsys.readouterr().err
    assert main(["routes", "bad-target"]) == 1
    assert "module:attribute" in capsys.readouterr().err


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: covet" in capsys.readouterr().out


def test_db_group_registered() -> None:
    parser = build_parser()
    help_text = parser.format_help()
    for command in ("run", "routes", "openapi", "new", "version", "db"):
        assert command in help_text


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["version"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("covet 0.") and "httptools" in out


def test_style_colours_only_on_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Style(Tty())
    tty.table(("METHOD", "PATH"), [("GET", "/"), ("DELETE", "/x")], colour_column=0)
    assert "\x1b[32m" in tty.stream.getvalue() and "\x1b[31m" in tty.stream.getvalue()
    piped = Style(io.StringIO())
    piped.table(("METHOD", "PATH"), [("GET", "/")], colour_column=0)
    assert "\x1b" not in piped.stream.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    assert not Style(Tty()).colour
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert Style(io.StringIO()).colour


def test_new_project_files(tmp_path: Path) -> None:
    written = create_project("my-blog", tmp_path / "my-blog")
    names = {str(p.relative_to(tmp_path / "my-blog")) for p in written}
    assert names == {
        "pyproject.toml",
        "README.md",
        ".gitignore",
        "my_blog/__init__.py",
        "my_blog/main.py",
        "tests/test_main.py",
    }
    main_py = (tmp_path / "my-blog" / "my_blog" / "main.py").read_text()
    assert "from covet import Covet" in main_py
    assert (
        "from covet.testing import TestClient"
        in (tmp_path / "my-blog" / "tests" / "test_main.py").read_text()
    )
    compile(main_py, "main.py", "exec")


@pytest.mark.parametrize("name", ["1abc", "has space", "json", "class", "covet", "../evil"])
def test_new_rejects_bad_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError):
        create_project(name, tmp_path / "out")


def test_new_refuses_non_empty_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    (target / "file.txt").write_text("keep me")
    assert main(["new", "taken", "--directory", str(target)]) == 1
    assert "not empty" in capsys.readouterr().err
    assert (target / "file.txt").read_text() == "keep me"


def test_pick_server() -> None:
    assert pick_server("builtin") == "builtin"
    assert pick_server("uvicorn") == "uvicorn"
    assert pick_server(None) == SERVER_PREFERENCE[0]  # all three are installed here


def test_polling_watcher_sees_changes(tmp_path: Path) -> None:
    module = tmp_path / "mod.py"
    module.write_text("x = 1\n")
    (tmp_path / "notes.txt").write_text("ignored")
    watcher = PollingWatcher([tmp_path])
    assert watcher.changes() == set()
    os.utime(module, (time.time() + 5, time.time() + 5))
    assert watcher.changes() == {module}
    (tmp_path / "notes.txt").write_text("still ignored")
    assert watcher.changes() == set()
    new = tmp_path / "pkg" / "new.py"
    new.parent.mkdir()
    new.write_text("")
    assert watcher.changes() == {new}
    module.unlink()
    assert watcher.changes() == {module}


def test_child_command_drops_reload() -> None:
    command = child_command(["run", "main:app", "--reload", "--port", "9000"])
    assert command[:3] == [sys.executable, "-m", "covet.cli"]
    assert command[3:] == ["run", "main:app", "--port", "9000"]
    assert child_command(["run", "--workers", "4", "--reload", "x:app", "--workers=2"])[3:] == ["run", "x:app"]


def test_iter_routes_on_plain_objects() -> None:
    class R:
        def __init__(self, path: str, methods: Any, name: str, endpoint: Any) -> None:
            self.path, self.methods, self.name, self.endpoint = path, methods, name, endpoint

    class M:
        endpoint = None

        def __init__(self, path: str, app: Any) -> None:
            self.path, self.app, self.name = path, app, None

    class Sub:
        routes = [R("/inner", frozenset({"PUT"}), "inner", len)]

    rows = list(iter_routes([R("/a", frozenset({"GET", "HEAD"}), "a", len), M("/sub", Sub())]))
    assert rows == [
        ("GET,HEAD", "/a", "a", "builtins.len"),
        ("PUT", "/sub/inner", "inner", "builtins.len"),
    ]


@pytest.mark.parametrize("use_watchfiles", [False, True], ids=["polling", "watchfiles"])
def test_reloader_restarts_child_on_change(tmp_path: Path, use_watchfiles: bool) -> None:
    import threading

    from covet.cli.reload import Reloader

    if use_watchfiles:
        pytest.importorskip("watchfiles")
    module = tmp_path / "mod.py"
    module.write_text("x = 1\n")
    marker = tmp_path / "starts.log"
    child = [
        sys.executable,
        "-c",
        f"open({str(marker)!r}, 'a').write('start\\n'); import time; time.sleep(30)",
    ]
    restarts: list[set[Path]] = []
    reloader = Reloader(
        child, [tmp_path], interval=0.1, use_watchfiles=use_watchfiles, on_restart=restarts.append
    )

    def starts() -> int:
        return marker.read_text().count("start") if marker.exists() else 0

    def driver() -> None:
        deadline = time.monotonic() + 15
        while starts() < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.6)
        module.write_text("x = 2\n")
        future = time.time() + 3
        os.utime(module, (future, future))
        while starts() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        reloader.stop.set()

    thread = threading.Thread(target=driver)
    thread.start()
    assert reloader.run() == 0  # main thread: it installs its signal handlers
    thread.join()
    assert restarts and module.resolve() in {p.resolve() for p in restarts[0]}
    assert starts() == 2
    assert reloader.process is not None and reloader.process.poll() is not None
