"""The examples/blog app end to end on SQLite (through the TestClient)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from covet.testing import TestClient

APP = Path(__file__).resolve().parents[3] / "examples" / "blog" / "app.py"


@pytest.fixture
def blog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.setenv("BLOG_DATABASE_URL", f"sqlite:///{tmp_path / 'blog.db'}")
    spec = importlib.util.spec_from_file_location("covet_example_blog", APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    try:
        yield module
    finally:
        module.db.unregister()
        sys.modules.pop(spec.name, None)


def test_blog_flow(blog: ModuleType) -> None:
    with TestClient(blog.app) as client:
        r = client.post("/authors", json={"email": "ann@x.io", "name": "Ann"})
        assert r.status_code == 201, r.text
        ann = r.json()["id"]
        assert client.post("/authors", json={"email": "bad"}).status_code == 422
        r = client.post(
            "/posts?tags=py,web", json={"author_id": ann, "title": "Hello ORM", "body": "..."}
        )
        assert r.status_code == 201, r.text
        post = r.json()["id"]
        assert client.post("/posts", json={"author_id": 999, "title": "x"}).status_code == 404
        r = client.get(f"/posts/{post}")
        assert r.status_code == 200
        data = r.json()
        assert data["author"]["name"] == "Ann" and sorted(t["name"] for t in data["tags"]) == [
            "py",
            "web",
        ]
        assert client.get("/posts/12345").status_code == 404
        listed = client.get("/posts", params={"tag": "py", "q": "orm"}).json()
        assert [p["title"] for p in listed] == ["Hello ORM"] and listed[0]["views"] == 1
        assert client.get("/authors").json() == [{"id": ann, "name": "Ann", "n_posts": 1}]
