"""scripts/fetch-docs-assets.sh: argument checking and the no-op when assets are present.

The download itself needs the npm registry; CI runs it for real before the browser tests.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from covet.openapi.docs import REDOC_VERSION, SWAGGER_UI_VERSION

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "fetch-docs-assets.sh"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=30)


def test_usage_errors() -> None:
    assert run().returncode == 2
    assert "usage" in run("a", "b").stderr


def test_versions_match_the_pinned_cdn_releases() -> None:
    text = SCRIPT.read_text()
    assert f"SWAGGER_UI_VERSION:-{SWAGGER_UI_VERSION}" in text
    assert f"REDOC_VERSION:-{REDOC_VERSION}" in text


def test_present_assets_are_kept(tmp_path: Path) -> None:
    if shutil.which("npm") is None:
        pytest.skip("the script checks for npm first")
    for package, version, file in (
        ("swagger-ui-dist", SWAGGER_UI_VERSION, "swagger-ui-bundle.js"),
        ("redoc", REDOC_VERSION, "bundles/redoc.standalone.js"),
    ):
        root = tmp_path / "node_modules" / package
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        (root / file).write_text("/* asset */")
        (root / "package.json").write_text(
            json.dumps({"name": package, "version": version}, indent=2)
        )
    result = run(str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("already in") == 2
