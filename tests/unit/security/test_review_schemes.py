"""Security review of the auth schemes: hostile headers and realms never cause a 500."""

from __future__ import annotations

import base64
import secrets

import pytest

from covet import Covet, Depends
from covet.security import HTTPBasic, HTTPBasicCredentials, HTTPBearer, OAuth2PasswordBearer
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


def _app() -> Covet:
    app = Covet()
    basic = HTTPBasic(realm="admin")

    @app.get("/basic")
    async def basic_route(creds: HTTPBasicCredentials = Depends(basic)) -> dict[str, str]:
        # the comparison the docstrings recommend: bytes, constant time
        user_ok = secrets.compare_digest(creds.username.encode(), b"root")
        pass_ok = secrets.compare_digest(creds.password.encode(), "pä:ss".encode())
        return {"ok": str(user_ok and pass_ok)}

    @app.get("/bearer")
    async def bearer_route(creds: object = Depends(HTTPBearer())) -> dict[str, str]:
        return {"token": creds.credentials}  # type: ignore[attr-defined]

    @app.get("/oauth2")
    async def oauth2_route(token: str = Depends(OAuth2PasswordBearer("/token"))) -> dict[str, str]:
        return {"token": token}

    return app


def _basic(raw: bytes, scheme: str = "Basic") -> str:
    return f"{scheme} {base64.b64encode(raw).decode()}"


HOSTILE = [
    "", " ", "Basic", "Basic ", "Basic !!!", "Basic ====", "Basic YQ", "Basic \u00ff\u00fe",
    _basic(b"nocolon"), _basic(b"\xff\xfe:x"), "Bearer", "Bearer ", "Bearer a b", "Bearer\ttoken",
    "Negotiate abc", "\u00e9\u00e9 x", "Basic " + "A" * 10_000,
]


@pytest.mark.parametrize("value", HOSTILE, ids=[repr(v)[:24] for v in HOSTILE])
@pytest.mark.parametrize("path", ["/basic", "/bearer", "/oauth2"])
def test_malformed_authorization_is_401_never_500(path: str, value: str) -> None:
    r = TestClient(_app()).get(path, headers={"authorization": value})
    assert r.status_code == 401, (path, value, r.text)
    assert r.headers["www-authenticate"] == ('Basic realm="admin"' if path == "/basic" else "Bearer")


def test_basic_non_ascii_credentials_and_colons_in_the_password() -> None:
    c = TestClient(_app())
    ok = c.get("/basic", headers={"authorization": _basic("root:pä:ss".encode(), scheme="bAsIc")})
    assert ok.json() == {"ok": "True"}
    wrong = c.get("/basic", headers={"authorization": _basic("röot:x".encode())})
    assert wrong.json() == {"ok": "False"}
