"""Fixtures serving the shop example under uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from shop_server import ShopServer, start_shop, stop


@pytest.fixture
def shop_server(free_port: int, tmp_path: Path) -> Iterator[ShopServer]:
    server = start_shop(free_port, tmp_path / "uvicorn.log")
    try:
        yield server
    finally:
        stop(server.process)
