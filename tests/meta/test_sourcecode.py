"""Lint and type checks run as tests, so CI enforces them (ruff, and mypy on src/covet)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tool(module: str) -> list[str]:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install -e '.[test]')")
    return [sys.executable, "-m", module]


def test_ruff_is_clean() -> None:
    cmd = _tool("ruff")
    out = subprocess.run([*cmd, "check", "--output-format", "concise", "src", "tests", "bench", "examples"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-5000:] + out.stderr[-2000:]


@pytest.mark.slow
def test_mypy_is_clean() -> None:
    cmd = _tool("mypy")
    out = subprocess.run([*cmd], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-5000:] + out.stderr[-2000:]


def test_no_stray_files_in_the_package() -> None:
    """Only source and data files ship in src/covet (no editor or build leftovers)."""
    allowed = {".py", ".typed", ".html", ".tmpl", ".css", ".js", ".lua", ".txt", ".md", ""}
    stray = [
        str(p.relative_to(ROOT)) for p in (ROOT / "src" / "covet").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in allowed
    ]
    assert not stray, stray


def test_shell_scripts_are_executable() -> None:
    for script in [ROOT / ".ci" / "run", *(ROOT / "scripts").glob("*.sh")]:
        assert script.stat().st_mode & 0o111, f"{script} is not executable"
    assert shutil.which("bash")
