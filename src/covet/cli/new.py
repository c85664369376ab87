"""``covet new NAME``: a project skeleton that runs and passes its own tests."""

from __future__ import annotations

import argparse
import keyword
import re
import sys
from pathlib import Path
from typing import Any

from .output import style_for

__all__ = ("create_project", "register")

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")

MAIN = '''"""{title}: the application."""

from __future__ import annotations

from dataclasses import dataclass

from covet import Covet, HTTPException

app = Covet(title="{title}", version="0.1.0")


@dataclass
class ItemIn:
    name: str
    price: float


@dataclass
class ItemOut:
    id: int
    name: str
    price: float


ITEMS: dict[int, ItemOut] = {{}}


@app.get("/")
async def index() -> dict[str, str]:
    return {{"message": "Hello from {title}"}}


@app.post("/items", status_code=201)
async def create_item(item: ItemIn) -> ItemOut:
    created = ItemOut(id=len(ITEMS) + 1, name=item.name, price=item.price)
    ITEMS[created.id] = created
    return created


@app.get("/items/{{item_id:int}}")
async def get_item(item_id: int) -> ItemOut:
    if item_id not in ITEMS:
        raise HTTPException(404, "Item not found")
    return ITEMS[item_id]
'''

TEST = '''"""Tests for {title}: run with ``pytest``."""

from __future__ import annotations

from covet.testing import TestClient

from {package}.main import app


def test_index() -> None:
    with TestClient(app) as client:
        response = client.get("/")
    assert response.status_code == 200
    assert response.json() == {{"message": "Hello from {title}"}}


def test_create_and_get_item() -> None:
    with TestClient(app) as client:
        created = client.post("/items", json={{"name": "Widget", "price": 9.5}})
        assert created.status_code == 201
        item_id = created.json()["id"]
        fetched = client.get(f"/items/{{item_id}}")
        assert fetched.json() == {{"id": item_id, "name": "Widget", "price": 9.5}}
        assert client.get("/items/999").status_code == 404


def test_invalid_item_is_422() -> None:
    with TestClient(app) as client:
        response = client.post("/items", json={{"name": "Widget", "price": "free"}})
    assert response.status_code == 422
'''

PYPROJECT = """[project]
name = "{name}"
version = "0.1.0"
description = "{title}, built with CovetPy"
requires-python = ">=3.10"
dependencies = ["covetpy"]

[project.optional-dependencies]
dev = ["pytest>=8"]

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["."]
"""

README = """# {title}

A [CovetPy](https://pypi.org/project/covetpy/) application.

```bash
pip install -e ".[dev]"
covet run {package}.main:app --reload   # http://127.0.0.1:8000, docs at /docs
pytest                                   # run the tests
covet routes {package}.main:app          # list the routes
```
"""

GITIGNORE = "__pycache__/\n*.py[cod]\n.venv/\n.pytest_cache/\n*.db\n"


def package_name(name: str) -> str:
    return name.lower().replace("-", "_")


def create_project(name: str, directory: Path) -> list[Path]:
    """Write the skeleton for ``name`` into ``directory`` (must be absent or empty)."""
    if not _NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a valid project name (letters, digits, '-' and '_').")
    package = package_name(name)
    if keyword.iskeyword(package) or package in sys.stdlib_module_names or package == "covet":
        raise ValueError(f"{name!r} would shadow a Python module; choose another name.")
    if directory.exists() and any(directory.iterdir()):
        raise FileExistsError(f"{directory} already exists and is not empty.")
    title = name.replace("-", " ").replace("_", " ").title()
    files = {
        Path("pyproject.toml"): PYPROJECT.format(name=name, title=title),
        Path("README.md"): README.format(title=title, package=package),
        Path(".gitignore"): GITIGNORE,
        Path(package, "__init__.py"): f'"""{title}."""\n',
        Path(package, "main.py"): MAIN.format(title=title),
        Path("tests", "test_main.py"): TEST.format(title=title, package=package),
    }
    written = []
    for relative, content in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def _new(args: argparse.Namespace) -> int:
    style = style_for()
    directory = Path(args.directory or args.name)
    try:
        written = create_project(args.name, directory)
    except (ValueError, FileExistsError) as exc:
        style_for(sys.stderr).error(str(exc))
        return 1
    style.success(f"Created project {args.name} in {directory}/")
    for path in written:
        style.write("  " + style.paint(str(path.relative_to(directory)), "dim"))
    package = package_name(args.name)
    style.write()
    style.write("Next steps:")
    style.write(f"  cd {directory}")
    style.write("  " + style.paint(f"covet run {package}.main:app --reload", "bold"))
    style.write("  " + style.paint("pytest", "bold"))
    return 0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("new", help="create a new project")
    parser.add_argument("name", help="project name")
    parser.add_argument("--directory", help="where to create it (default: ./NAME)")
    parser.set_defaults(func=_new)
