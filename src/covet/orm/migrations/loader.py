"""Load migration files from a directory, in dependency order, with checksums."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from covet.orm.migrations.operations import Operation
from covet.orm.migrations.state import MigrationError, ProjectState

__all__ = ("Migration", "load_migrations", "replay")

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


def load_migrations(directory: Path) -> list[Migration]:
    """Every ``NNNN_name.py`` in ``directory``, each after its dependencies."""
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
    ordered: list[Migration] = []
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
        ordered.append(m)

    for m in sorted(found.values(), key=lambda m: m.name):
        visit(m, ())
    leaves = set(found) - {d for m in found.values() for d in m.dependencies}
    if len(leaves) > 1:
        raise MigrationError(
            f"conflicting migrations {sorted(leaves)}: more than one has no successor; "
            "make one depend on the other"
        )
    return ordered


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
