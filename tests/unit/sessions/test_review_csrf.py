"""Security review of CSRFMiddleware: exemption resolution, login rotation, hostile input."""

from __future__ import annotations

from sess_helpers import SECRET

from covet import Covet
from covet.csrf import CSRFMiddleware, csrf_exempt
from covet.testing import TestClient


def test_static_route_does_not_borrow_exemption_of_parametrised_route() -> None:
    """``POST /items/new`` is a protected handler even though ``POST /items/{id}`` is
    exempt: the router sends it to the static route, so the token must be checked."""
    app = Covet()
    app.add_middleware(CSRFMiddleware, secret_key=SECRET)

    @app.post("/items/new")
    async def create() -> dict[str, bool]:
        return {"created": True}

    @app.post("/items/{item_id}")
    @csrf_exempt
    async def hook(item_id: str) -> dict[str, str]:
        return {"hook": item_id}

    c = TestClient(app)
    r = c.post("/items/new")
    assert r.status_code == 403
    assert r.json()["error"].startswith("CSRF token missing")
    assert c.post("/items/abc").json() == {"hook": "abc"}
