"""Security review of the auth schemes: hostile headers and realms never cause a 500."""

from __future__ import annotations

import pytest

from covet import Covet, Depends
from covet.security import HTTPBasic, HTTPBasicCredentials
from covet.testing import TestClient


@pytest.mark.parametrize("realm", ["日本", "a\x00b", "tab\there", "del\x7f", "back\\slash", 'q"uote', "a\r\nb"])
def test_realm_that_cannot_be_a_header_is_refused_at_construction(realm: str) -> None:
    """A realm outside Latin-1 or with control characters was accepted, then every 401
    failed to encode its WWW-Authenticate header: a 500 instead of the login prompt."""
    with pytest.raises(ValueError, match="realm must be Latin-1"):
        HTTPBasic(realm=realm)


def test_latin1_realm_is_sent() -> None:
    app = Covet()
    basic = HTTPBasic(realm="Zoë's admin")

    @app.get("/")
    async def index(creds: HTTPBasicCredentials = Depends(basic)) -> dict[str, str]:
        return {"user": creds.username}

    r = TestClient(app).get("/")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].encode("latin-1") == 'Basic realm="Zoë\'s admin"'.encode("latin-1")
