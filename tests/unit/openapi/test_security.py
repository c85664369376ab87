"""covet.security: credential extraction, 401 challenges, auto_error=False, scheme objects."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from covet.exceptions import HTTPException
from covet.http import Request
from covet.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
)


def request(headers: dict[str, str] | None = None, query: str = "") -> Request:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "raw_path": b"/",
        "query_string": query.encode("latin-1"),
        "headers": [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()
        ],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        raise AssertionError("security dependencies never send")

    return Request(scope, receive, send)


async def unauthorized(dependency: Any, req: Request) -> HTTPException:
    with pytest.raises(HTTPException) as info:
        await dependency(req)
    assert info.value.status_code == 401
    assert info.value.headers is not None
    return info.value


def basic(value: str) -> str:
    return "Basic " + base64.b64encode(value.encode()).decode()


# --- HTTPBearer -------------------------------------------------------------------------


async def test_bearer_returns_credentials() -> None:
    bearer = HTTPBearer()
    creds = await bearer(request({"Authorization": "Bearer abc.def"}))
    assert creds == HTTPAuthorizationCredentials(scheme="Bearer", credentials="abc.def")
    assert await bearer(request({"Authorization": "bearer  xyz "})) == HTTPAuthorizationCredentials(
        "Bearer", "xyz"
    )


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer ", "Basic abc", "Token x", "Bearer a b"]
)
async def test_bearer_rejects_missing_or_invalid(header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    exc = await unauthorized(HTTPBearer(), request(headers))
    assert exc.headers == {"WWW-Authenticate": "Bearer"}
    assert await HTTPBearer(auto_error=False)(request(headers)) is None


def test_bearer_scheme_object() -> None:
    bearer = HTTPBearer(bearer_format="JWT", description="A JWT from /token")
    assert bearer.security_scheme == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A JWT from /token",
    }
    assert bearer.scheme_name == "HTTPBearer"
    assert bearer.scopes == ()
    assert HTTPBearer(scheme_name="jwt").scheme_name == "jwt"


# --- HTTPBasic --------------------------------------------------------------------------


async def test_basic_decodes_credentials() -> None:
    creds = await HTTPBasic()(request({"Authorization": basic("alice:s3cr:et")}))
    assert creds == HTTPBasicCredentials(username="alice", password="s3cr:et")
    assert "s3cr" not in repr(creds)
    empty = await HTTPBasic()(request({"Authorization": basic("bob:")}))
    assert empty == HTTPBasicCredentials("bob", "")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Basic",
        "Basic !!!notbase64",
        "Basic " + base64.b64encode(b"nocolon").decode(),
        "Bearer x",
        "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
    ],
)
async def test_basic_rejects_missing_or_malformed(header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    exc = await unauthorized(HTTPBasic(realm="shop"), request(headers))
    assert exc.headers == {"WWW-Authenticate": 'Basic realm="shop"'}
    assert (await unauthorized(HTTPBasic(), request(headers))).headers == {
        "WWW-Authenticate": "Basic"
    }
    assert await HTTPBasic(auto_error=False)(request(headers)) is None


def test_basic_realm_cannot_inject_header_syntax() -> None:
    with pytest.raises(ValueError):
        HTTPBasic(realm='x", evil="1')
    with pytest.raises(ValueError):
        HTTPBasic(realm="a\r\nSet-Cookie: x=1")
    assert HTTPBasic().security_scheme == {"type": "http", "scheme": "basic"}


# --- API keys ---------------------------------------------------------------------------


async def test_api_key_header_query_cookie() -> None:
    assert await APIKeyHeader(name="X-API-Key")(request({"x-api-key": " k1 "})) == "k1"
    assert await APIKeyQuery(name="api_key")(request(query="api_key=k2&x=1")) == "k2"
    assert await APIKeyCookie(name="key")(request({"Cookie": "other=1; key=k3"})) == "k3"


@pytest.mark.parametrize(
    ("dependency", "req"),
    [
        (APIKeyHeader(name="X-API-Key"), request()),
        (APIKeyHeader(name="X-API-Key"), request({"X-API-Key": "  "})),
        (APIKeyQuery(name="api_key"), request(query="api_key=")),
        (APIKeyQuery(name="api_key"), request(query="other=1")),
        (APIKeyCookie(name="key"), request({"Cookie": "other=1"})),
    ],
)
async def test_api_key_missing(dependency: Any, req: Request) -> None:
    exc = await unauthorized(dependency, req)
    assert exc.headers == {"WWW-Authenticate": "APIKey"}
    dependency.auto_error = False
    try:
        assert await dependency(req) is None
    finally:
        dependency.auto_error = True


def test_api_key_scheme_objects() -> None:
    assert APIKeyHeader(name="X-API-Key").security_scheme == {
        "type": "apiKey",
        "name": "X-API-Key",
        "in": "header",
    }
    assert APIKeyQuery(name="k").security_scheme["in"] == "query"
    assert APIKeyCookie(name="k", scheme_name="cookieKey").scheme_name == "cookieKey"
    with pytest.raises(ValueError):
        APIKeyHeader(name="")


# --- OAuth2 -----------------------------------------------------------------------------


async def test_oauth2_password_bearer() -> None:
    oauth2 = OAuth2PasswordBearer("/token", scopes={"orders:read": "Read orders"})
    assert await oauth2(request({"Authorization": "Bearer tok"})) == "tok"
    exc = await unauthorized(oauth2, request({"Authorization": "Basic x"}))
    assert exc.headers == {"WWW-Authenticate": "Bearer"}
    assert await OAuth2PasswordBearer("/token", auto_error=False)(request()) is None
    assert oauth2.security_scheme == {
        "type": "oauth2",
        "flows": {"password": {"tokenUrl": "/token", "scopes": {"orders:read": "Read orders"}}},
    }
    with pytest.raises(ValueError):
        OAuth2PasswordBearer("")


def test_through_an_app_401_with_challenge_and_optional_none() -> None:
    import secrets

    from covet import Covet, Depends, HTTPException, Security
    from covet.testing import TestClient

    app = Covet()
    basic_auth = HTTPBasic(realm="admin")
    optional = APIKeyHeader(name="X-Key", auto_error=False)

    async def admin(creds: HTTPBasicCredentials = Security(basic_auth)) -> str:
        ok_user = secrets.compare_digest(creds.username.encode(), b"root")
        ok_pass = secrets.compare_digest(creds.password.encode(), b"pw")
        if not (ok_user and ok_pass):
            raise HTTPException(
                401, "Bad credentials", headers={"WWW-Authenticate": basic_auth.challenge}
            )
        return creds.username

    @app.get("/admin")
    async def admin_page(user: str = Depends(admin)) -> dict[str, str]:
        return {"user": user}

    @app.get("/maybe")
    async def maybe(key: str | None = Depends(optional)) -> dict[str, str | None]:
        return {"key": key}

    with TestClient(app) as client:
        missing = client.get("/admin")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == 'Basic realm="admin"'
        assert missing.json()["error"] == "Not authenticated"
        garbage = client.get("/admin", headers={"Authorization": "Basic %%%"})
        assert (
            garbage.status_code == 401
            and garbage.json()["error"] == "Invalid authentication credentials"
        )
        wrong = client.get("/admin", headers={"Authorization": basic("root:nope")})
        assert (
            wrong.status_code == 401 and wrong.headers["www-authenticate"] == 'Basic realm="admin"'
        )
        ok = client.get("/admin", headers={"Authorization": basic("root:pw")})
        assert ok.status_code == 200 and ok.json() == {"user": "root"}
        assert client.get("/maybe").json() == {"key": None}
        assert client.get("/maybe", headers={"X-Key": "k"}).json() == {"key": "k"}
