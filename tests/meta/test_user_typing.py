"""What users' type checkers see: application code and the examples pass ``mypy
--strict`` without ignores, and model/query/relation expressions have precise types."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_sourcecode import ROOT, _tool

SAMPLE = Path(__file__).parent / "typing" / "user_code.py"
_REVEALED = re.compile(r"^.*?:(\d+): note: Revealed type is \"(.*)\"$")
_MODULE_PREFIX = re.compile(r"\b(?:user_code|covet\.orm\.query|datetime|builtins)\.")


def _mypy(*args: str) -> subprocess.CompletedProcess[str]:
    """mypy with the project's settings (pyproject.toml) and ``args``."""
    cmd = [*_tool("mypy"), "--no-incremental", *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)


@pytest.mark.slow
def test_user_code_type_checks_with_precise_types() -> None:
    out = _mypy("--strict", str(SAMPLE))
    lines = out.stdout.splitlines()
    errors = [line for line in lines if ": error:" in line]
    assert not errors, "\n".join(errors)
    source = SAMPLE.read_text().splitlines()
    revealed = {}
    for line in lines:
        m = _REVEALED.match(line)
        if m:
            revealed[int(m.group(1))] = _MODULE_PREFIX.sub("", m.group(2))
    expected = {
        n: text.rsplit("# ", 1)[1].strip()
        for n, text in enumerate(source, 1)
        if "reveal_type(" in text and not text.lstrip().startswith(("#", "from"))
    }
    assert expected and revealed == expected


@pytest.mark.slow
def test_the_examples_type_check_without_ignores() -> None:
    packages = sorted(p.name for p in (ROOT / "examples").iterdir() if (p / "app.py").exists())
    out = _mypy(*(arg for name in packages for arg in ("-p", f"examples.{name}")))
    assert out.returncode == 0, out.stdout[-5000:] + out.stderr[-2000:]
    ignores = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in (ROOT / "examples").rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if "type: ignore" in line
    ]
    assert not ignores, ignores


def test_the_sample_is_not_collected_as_a_test() -> None:
    assert SAMPLE.exists() and not SAMPLE.name.startswith("test_")
    assert sys.version_info >= (3, 10)
