"""The layering rule of DESIGN.md / docs/architecture.md, checked on the source.

Imports point downward only; ``covet.server`` and ``covet.db`` never import each other;
no optional extra is imported at module level anywhere in ``covet``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "covet"

LAYERS: dict[str, int] = {
    "covet._types": 0, "covet._typing": 0, "covet._redis": 0, "covet._sentinel": 0,
    "covet._lazy": 0,
    "covet.exceptions": 0, "covet.status": 0, "covet._json": 0,
    "covet.concurrency": 0, "covet.background": 0,
    "covet.http": 1, "covet.routing": 1, "covet.websockets": 1,
    "covet.server": 2, "covet.db": 2,
    "covet.handlers": 3, "covet.openapi": 3, "covet.security": 3, "covet.errors": 3,
    "covet.responses": 3,
    "covet.middleware": 4, "covet.sessions": 4, "covet.csrf": 4, "covet.ratelimit": 4,
    "covet.cache": 4, "covet.staticfiles": 4, "covet.templates": 4, "covet.orm": 4,
    "covet.app": 5, "covet": 5, "covet.monitoring": 5,
    "covet.testing": 6, "covet.cli": 6,
}
# packages in one layer that must stay independent of each other
SIBLINGS_APART = [("covet.server", "covet.db")]

EXTRAS = {
    "orjson", "uvloop", "httptools", "msgspec", "pydantic", "pydantic_core", "jinja2", "asyncpg",
    "asyncmy", "aiomysql", "pymysql", "redis", "uvicorn", "granian", "hypercorn", "cryptography",
    "argon2", "bcrypt", "prometheus_client", "brotli", "watchfiles", "h11", "httpx", "websockets",
    "sqlalchemy", "tortoise", "multipart",
}


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(name: str) -> tuple[str, int]:
    best = ""
    for prefix in LAYERS:
        if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > len(best):
            best = prefix
    if not best:
        raise AssertionError(f"{name} has no layer: add it to LAYERS in {__file__}")
    return best, LAYERS[best]


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(tree: ast.AST, module: str, *, top_level_only: bool) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, depth: int) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            if isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    parts = module.split(".")
                    package = parts if _is_package(module) else parts[:-1]
                    package = package[: len(package) - (child.level - 1)]
                    name = ".".join(package + ([child.module] if child.module else []))
                else:
                    name = child.module or ""
                if name == "covet":  # from covet import _json -> the submodule covet._json
                    found.extend((f"covet.{alias.name}", child.lineno) for alias in child.names)
                else:
                    found.append((name, child.lineno))
            nested = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if top_level_only and nested:
                continue
            visit(child, depth + 1)

    visit(tree, 0)
    return found


def _is_package(module: str) -> bool:
    return (SRC.parent / Path(*module.split(".")) / "__init__.py").exists()


SOURCES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: module_name(p))
def test_imports_point_downward(path: Path) -> None:
    module = module_name(path)
    own_pkg, own_layer = layer_of(module)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    problems = []
    for name, line in imports(tree, module, top_level_only=False):
        if name != "covet" and not name.startswith("covet."):
            continue
        if name == "covet" and module.startswith("covet.") and own_layer < LAYERS["covet"]:
            problems.append(f"line {line}: imports the top-level package 'covet' from below it (import the submodule)")
            continue
        pkg, layer = layer_of(name)
        if pkg == own_pkg:
            continue
        if layer > own_layer:
            problems.append(f"line {line}: {module} (layer {own_layer}) imports {name} (layer {layer})")
        for a, b in SIBLINGS_APART:
            if {own_pkg, pkg} == {a, b}:
                problems.append(f"line {line}: {own_pkg} must not import {pkg}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: module_name(p))
def test_no_optional_extra_at_module_level(path: Path) -> None:
    module = module_name(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [
        f"line {line}: {name}"
        for name, line in imports(tree, module, top_level_only=True)
        if name.split(".")[0] in EXTRAS
    ]
    assert not bad, f"{module} imports optional extras at module level: {bad}"


def test_importing_covet_loads_no_extra() -> None:
    code = (
        "import sys, covet, covet.app, covet.testing, covet.responses, covet.middleware, covet.routing\n"
        "import covet.monitoring.health, covet.monitoring.metrics\n"
        "from covet import Covet\n"
        f"extras = {sorted(EXTRAS)!r}\n"
        "loaded = sorted(m for m in extras if m in sys.modules)\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"importing covet loaded optional extras: {out.stdout}"
