"""The hello example works as its README promises."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from covet.testing import TestClient

HELLO = Path(__file__).resolve().parents[2] / "examples" / "hello" / "app.py"


@pytest.fixture
def hello(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HELLO_DATABASE_URL", f"sqlite:///{tmp_path / 'hello.db'}")
    spec = importlib.util.spec_from_file_location("hello_example", HELLO)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["hello_example"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    yield module
    module.db.unregister() if hasattr(module.db, "unregister") else None
    sys.modules.pop("hello_example", None)


def test_notes_crud_session_and_cache(hello) -> None:  # type: ignore[no-untyped-def]
    with TestClient(hello.app) as client:
        assert client.get("/").json() == {"message": "Hello, world!", "visits": 1}
        assert client.get("/", params={"name": "Ada"}).json() == {"message": "Hello, Ada!", "visits": 2}
        assert client.get("/stats").json() == {"count": 0}
        created = client.post("/notes", json={"title": "first", "body": "hello"})
        assert created.status_code == 201
        note = created.json()
        assert note["title"] == "first" and isinstance(note["id"], int)
        assert client.get("/stats").json() == {"count": 1}  # the tag invalidation worked
        assert client.get("/notes").json()[0]["id"] == note["id"]
        assert client.get(f"/notes/{note['id']}").json()["body"] == "hello"
        assert client.delete(f"/notes/{note['id']}").status_code == 204
        assert client.get(f"/notes/{note['id']}").status_code == 404
        assert client.delete(f"/notes/{note['id']}").status_code == 404


def test_bad_input(hello) -> None:  # type: ignore[no-untyped-def]
    with TestClient(hello.app) as client:
        r = client.post("/notes", json={"body": "no title"})
        assert r.status_code == 422
        assert r.json()["details"][0]["field"] == "body.title"
        assert client.get("/notes", params={"limit": "many"}).status_code == 422
        assert client.get("/notes/abc").status_code == 404


def test_docs_and_websocket(hello) -> None:  # type: ignore[no-untyped-def]
    with TestClient(hello.app) as client:
        schema = client.get("/openapi.json").json()
        assert "/notes/{note_id}" in schema["paths"]
        assert client.get("/docs").status_code == 200
        with client.websocket_connect("/ws/echo") as ws:
            ws.send_text("ping")
            assert ws.receive_text() == "ping"
