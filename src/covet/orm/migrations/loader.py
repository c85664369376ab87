"""Load migration files from a directory, in dependency order, with checksums."""

from __future__ import annotations

import hashlib
import heapq
import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from covet.orm.migrations.operations import Operation
from covet.orm.migrations.state import MigrationError, ProjectState

__all__ = ("Migration", "ancestors", "descendants", "leaves", "load_migrations", "replay")

_FILE = re.compile(r"^(\d{4})_[A-Za-z0-9_]+\.py$")


@dataclass
class Migration:
    """One migration file: ``dependencies`` and ``operations`` from the module."""

    name: str
    path: Path
    dependencies: list[str]
    operations: list[Operation]
    checksum: str

    @property
    def number(self) -> int:
        return int(self.name[:4])


def checksum(path: Path) -> str:
    """sha256 of the file with line endings normalised."""
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def _import(path: Path) -> Any:
    module_name = f"covet_migration_{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise MigrationError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise MigrationError(f"{path.name} failed to import: {type(exc).__name__}: {exc}") from exc
    finally:
        sys.modules.pop(module_name, None)
    return module


def load_migrations(directory: Path, *, branches: bool = False) -> list[Migration]:
    """Every ``NNNN_name.py`` in ``directory``, each after its dependencies.

    The order is the smallest topological order by name: among the migrations whose
    dependencies have all come, the one with the smallest name comes next (the same on
    every machine). A history with more than one leaf (branches not merged yet) is an
    error unless ``branches`` is true.
    """
    if not directory.is_dir():
        return []
    found: dict[str, Migration] = {}
    for path in sorted(directory.iterdir()):
        if not _FILE.match(path.name):
            continue
        module = _import(path)
        operations = getattr(module, "operations", None)
        dependencies = getattr(module, "dependencies", [])
        if not isinstance(operations, list) or not all(
            isinstance(o, Operation) for o in operations
        ):
            raise MigrationError(
                f"{path.name}: `operations` must be a list of migration operations"
            )
        if not isinstance(dependencies, list) or not all(isinstance(d, str) for d in dependencies):
            raise MigrationError(f"{path.name}: `dependencies` must be a list of migration names")
        name = path.stem
        found[name] = Migration(name, path, list(dependencies), operations, checksum(path))
    _check_graph(found)
    ordered = _topological(found)
    if not branches:
        ends = leaves(ordered)
        if len(ends) > 1:
            raise MigrationError(
                f"conflicting migrations {[m.name for m in ends]}: the history has branched "
                "(more than one migration has no successor); run `covet db makemigrations "
                "--merge` to write a migration that merges them"
            )
    return ordered


def _check_graph(found: dict[str, Migration]) -> None:
    """Raise on a dependency that does not exist or a cycle."""
    done: set[str] = set()

    def visit(m: Migration, stack: tuple[str, ...]) -> None:
        if m.name in done:
            return
        if m.name in stack:
            raise MigrationError(
                f"circular migration dependencies: {' -> '.join((*stack, m.name))}"
            )
        for dep in m.dependencies:
            if dep not in found:
                raise MigrationError(f"{m.name} depends on {dep!r}, which does not exist")
            visit(found[dep], (*stack, m.name))
        done.add(m.name)

    for m in sorted(found.values(), key=lambda m: m.name):
        visit(m, ())


def _topological(found: dict[str, Migration]) -> list[Migration]:
    """Kahn's algorithm taking the smallest name first (the graph has no cycle)."""
    waiting = {name: len(set(m.dependencies)) for name, m in found.items()}
    children: dict[str, list[str]] = {name: [] for name in found}
    for m in found.values():
        for dep in set(m.dependencies):
            children[dep].append(m.name)
    ready = [name for name, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    ordered: list[Migration] = []
    while ready:
        name = heapq.heappop(ready)
        ordered.append(found[name])
        for child in children[name]:
            waiting[child] -= 1
            if waiting[child] == 0:
                heapq.heappush(ready, child)
    return ordered


def leaves(migrations: list[Migration]) -> list[Migration]:
    """The migrations nothing depends on (one, unless the history has branched), in order."""
    used = {d for m in migrations for d in m.dependencies}
    return [m for m in migrations if m.name not in used]


def ancestors(migrations: list[Migration], name: str) -> set[str]:
    """``name`` and every migration it depends on, directly or not."""
    by_name = {m.name: m for m in migrations}
    out: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current not in out:
            out.add(current)
            todo.extend(by_name[current].dependencies)
    return out


def descendants(migrations: list[Migration], name: str) -> set[str]:
    """The migrations that depend on ``name``, directly or not (``name`` excluded)."""
    out: set[str] = set()
    for m in migrations:  # topological order: dependencies come first
        if any(d == name or d in out for d in m.dependencies):
            out.add(m.name)
    return out


def replay(migrations: list[Migration], state: ProjectState | None = None) -> ProjectState:
    """The state after applying ``migrations`` in order (no database)."""
    state = state.clone() if state is not None else ProjectState()
    for m in migrations:
        for op in m.operations:
            try:
                op.state_forwards(state)
            except MigrationError as exc:
                raise MigrationError(f"{m.name}: {exc}") from None
    return state
