"""Swagger UI and ReDoc render the shop's operations in headless Chromium, from LOCAL assets.

Needs ``chromium`` (apt-get install -y chromium) and the assets fetched by
``scripts/fetch-docs-assets.sh DIR`` (DIR from ``$COVET_DOCS_ASSETS``, default
/tmp/covet-docs-assets). Skipped locally when either is missing; a failure under CI=true.
The machine has no route to the CDN, so a rendered page proves the local assets work.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from shop_server import ShopServer, start_shop, stop

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ASSETS = os.environ.get("COVET_DOCS_ASSETS", "/tmp/covet-docs-assets")
OPERATIONS = [
    "operations-products-list_products",
    "operations-products-get_product",
    "operations-products-upload_image",
    "operations-customers-sign_up",
    "operations-customers-login",
    "operations-orders-place_order",
    "operations-orders-set_order_status",
    "operations-meta-health",
]


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    _missing("chromium is not installed (apt-get install -y chromium)")
    raise AssertionError("unreachable")


@pytest.fixture
def docs_server(free_port: int, tmp_path: Path) -> Iterator[ShopServer]:
    bundle = Path(ASSETS, "node_modules", "swagger-ui-dist", "swagger-ui-bundle.js")
    if not bundle.is_file():
        _missing(f"no docs assets in {ASSETS} (run scripts/fetch-docs-assets.sh {ASSETS})")
    server = start_shop(free_port, tmp_path / "uvicorn.log", docs_assets=ASSETS)
    try:
        yield server
    finally:
        stop(server.process)


def _chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--virtual-time-budget=8000",
        *args,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=90)


def test_swagger_ui_renders_operations_from_local_assets(
    chromium: str, docs_server: ShopServer, tmp_path: Path
) -> None:
    page = httpx.get(f"{docs_server.base_url}/docs").text
    assert "/docs/assets/swagger-ui-bundle.js" in page and "cdn.jsdelivr" not in page
    asset = httpx.get(f"{docs_server.base_url}/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and asset.headers["content-type"].startswith("text/javascript")

    result = _chromium(
        chromium, tmp_path / "profile-dom", "--dump-dom", f"{docs_server.base_url}/docs"
    )
    dom = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    missing = [op for op in OPERATIONS if f'id="{op}"' not in dom]
    assert not missing, f"not rendered: {missing}\n{dom[:3000]}"
    assert "/products/{product_id}/image" in dom
    assert "Covet Shop" in dom

    screenshot = tmp_path / "swagger-ui.png"
    result = _chromium(
        chromium,
        tmp_path / "profile-shot",
        "--window-size=1280,1800",
        "--hide-scrollbars",
        f"--screenshot={screenshot}",
        f"{docs_server.base_url}/docs",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    data = screenshot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert (width, height) == (1280, 1800)
    assert len(data) > 50_000, "a blank page compresses far smaller than a rendered one"
    keep = os.environ.get("COVET_DOCS_SCREENSHOT")
    if keep:
        shutil.copyfile(screenshot, keep)


def test_redoc_renders_operations_from_local_assets(
    chromium: str, docs_server: ShopServer, tmp_path: Path
) -> None:
    page = httpx.get(f"{docs_server.base_url}/redoc").text
    assert "/docs/assets/redoc.standalone.js" in page
    result = _chromium(
        chromium, tmp_path / "profile", "--dump-dom", f"{docs_server.base_url}/redoc"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    for text in (
        "Search the catalogue",
        "Reserve the stock and create a pending order",
        "customerToken",
    ):
        assert text in result.stdout, text
