"""The public surface of ``covet`` is explicit, sorted and importable."""

from __future__ import annotations

import importlib

import pytest

import covet

PUBLIC_MODULES = [
    "covet", "covet.responses", "covet.middleware", "covet.testing", "covet.routing",
    "covet.exceptions", "covet.status", "covet.background", "covet.concurrency",
]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_resolves(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=str.casefold) or exported == sorted(exported)
    assert len(set(exported)) == len(exported)
    for attr in exported:
        assert getattr(module, attr) is not None, f"{name}.{attr}"


def test_top_level_exports_everything_public() -> None:

    for name in covet.__all__:
        assert getattr(covet, name) is not None
    assert set(covet.__all__) == set(covet._EXPORTS)


def test_design_md_imports_work() -> None:
    from covet import Covet, Depends, HTTPException, Request, Response, Router  # noqa: F401
    from covet.middleware import CORSMiddleware, GZipMiddleware, SessionMiddleware  # noqa: F401
    from covet.responses import (  # noqa: F401
        FileResponse,
        HTMLResponse,
        JSONResponse,
        RedirectResponse,
        StreamingResponse,
    )
    from covet.staticfiles import StaticFiles  # noqa: F401
    from covet.testing import TestClient  # noqa: F401


@pytest.mark.parametrize(
    "name",
    [
        "covet.auth", "covet.cache", "covet.db", "covet.db.sql", "covet.handlers", "covet.http",
        "covet.monitoring", "covet.openapi", "covet.orm", "covet.orm.migrations", "covet.ratelimit",
        "covet.security", "covet.sessions", "covet.staticfiles", "covet.templates",
        "covet.websockets",
    ],
)  # fmt: skip
def test_every_name_in_all_exists(name: str) -> None:
    """``from <package> import *`` works: ``__all__`` names nothing that is missing."""
    namespace: dict[str, object] = {}
    exec(f"from {name} import *", namespace)
    assert set(importlib.import_module(name).__all__) <= set(namespace)
