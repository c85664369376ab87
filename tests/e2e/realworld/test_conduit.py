"""The RealWorld "Conduit" example: a TestClient walk through the API, then the official
Postman collection run by newman against the app under uvicorn.

The newman run needs ``npx`` (Node.js); it is skipped when ``npx`` is missing, and fails
instead under ``CI=true``.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from covet.testing import TestClient
from support.servers import serve, server_available

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[3]
# The official collection (MIT, https://github.com/gothinkster/realworld; LICENSE.realworld).
COLLECTION = Path(__file__).with_name("Conduit.postman_collection.json")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="module")
def conduit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The example's modules, bound to a fresh SQLite file."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    assert "examples.realworld.models" not in sys.modules, "imported before its database was set"
    database = tmp_path_factory.mktemp("conduit") / "conduit.db"
    os.environ["CONDUIT_DATABASE_URL"] = f"sqlite:///{database}"
    try:
        app_module = importlib.import_module("examples.realworld.app")
    finally:
        del os.environ["CONDUIT_DATABASE_URL"]
    yield app_module
    # Let other tests' lifespans stop connecting this example's database.
    importlib.import_module("examples.realworld.models").db.unregister()


@pytest.fixture(scope="module")
def client(conduit: ModuleType) -> Iterator[TestClient]:
    with TestClient(conduit.app) as test_client:
        yield test_client


def register(client: TestClient, name: str) -> dict[str, str]:
    body = {"user": {"username": name, "email": f"{name}@example.com", "password": "s3cret!"}}
    response = client.post("/api/users", json=body)
    assert response.status_code == 201, response.text
    user = response.json()["user"]
    assert user["username"] == name and user["email"] == f"{name}@example.com"
    assert user["bio"] is None and user["image"] is None
    return {"Authorization": f"Token {user['token']}"}


def errors(response: Any) -> list[str]:
    body = response.json()
    assert set(body) == {"errors"}, body
    return list(body["errors"]["body"])


def test_users_login_and_profile_update(client: TestClient) -> None:
    jake = register(client, "jake")
    login = client.post(
        "/api/users/login", json={"user": {"email": "JAKE@example.com", "password": "s3cret!"}}
    )
    assert login.status_code == 200
    assert login.json()["user"]["username"] == "jake"
    me = client.get(
        "/api/user", headers={"Authorization": f"Token {login.json()['user']['token']}"}
    )
    assert me.json()["user"]["email"] == "jake@example.com"

    updated = client.put(
        "/api/user", headers=jake, json={"user": {"bio": "I like to skateboard", "password": "new"}}
    )
    assert updated.status_code == 200
    assert updated.json()["user"]["bio"] == "I like to skateboard"
    old = client.post(
        "/api/users/login", json={"user": {"email": "jake@example.com", "password": "s3cret!"}}
    )
    assert old.status_code == 401 and errors(old) == ["email or password is invalid"]
    new = client.post(
        "/api/users/login", json={"user": {"email": "jake@example.com", "password": "new"}}
    )
    assert new.status_code == 200


def test_bad_requests_use_the_conduit_error_shape(client: TestClient) -> None:
    register(client, "taken")
    missing = client.post("/api/users", json={"user": {"username": "x"}})
    assert missing.status_code == 422
    assert errors(missing) == ["user.email: Field required", "user.password: Field required"]
    duplicate = client.post(
        "/api/users",
        json={"user": {"username": "taken", "email": "other@example.com", "password": "pw"}},
    )
    assert duplicate.status_code == 422
    assert errors(duplicate) == ["user.username: has already been taken"]
    unknown = client.post(
        "/api/users/login", json={"user": {"email": "nobody@example.com", "password": "pw"}}
    )
    assert unknown.status_code == 401
    assert client.get("/api/user").status_code == 401
    for header in (
        "Token",
        "Token not.a.jwt",
        "Bearer",
        "Basic dXNlcjpwdw==",
        "Token " + "a" * 20000,
    ):
        response = client.get("/api/user", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.headers["www-authenticate"] == "Token"
    security = importlib.import_module("examples.realworld.security")
    expired = security.jwt.encode(
        {"sub": "1", "iss": security.ISSUER, "exp": 1_000_000_000}, security.SECRET_KEY
    )
    response = client.get("/api/user", headers={"Authorization": f"Token {expired}"})
    assert response.status_code == 401 and errors(response) == ["Token has expired"]
    forged = security.jwt.encode({"sub": "1", "iss": security.ISSUER}, "another key")
    assert client.get("/api/user", headers={"Authorization": f"Token {forged}"}).status_code == 401
    ghost = security.jwt.encode({"sub": "999999", "iss": security.ISSUER}, security.SECRET_KEY)
    response = client.get("/api/articles", headers={"Authorization": f"Token {ghost}"})
    assert response.status_code == 401  # a bad token is refused even where login is optional
    assert client.get("/api/profiles/nobody").status_code == 404
    assert client.get("/api/articles?limit=0").status_code == 422
    assert client.get("/api/articles?limit=101").status_code == 422


def test_articles_feed_favorites_comments_and_tags(client: TestClient) -> None:
    author = register(client, "author")
    reader = register(client, "reader")
    created = client.post(
        "/api/articles",
        headers=author,
        json={
            "article": {
                "title": "How to train your dragon",
                "description": "Ever wonder how?",
                "body": "Very carefully.",
                "tagList": ["training", "dragons", "training"],
            }
        },
    )
    assert created.status_code == 201, created.text
    article = created.json()["article"]
    slug = article["slug"]
    assert slug == "how-to-train-your-dragon"
    assert article["tagList"] == ["dragons", "training"]
    assert article["author"] == {
        "username": "author",
        "bio": None,
        "image": None,
        "following": False,
    }
    assert article["createdAt"].endswith("Z") and "." in article["createdAt"]

    again = client.post(
        "/api/articles",
        headers=author,
        json={"article": {"title": "How to train your dragon", "description": "d", "body": "b"}},
    )
    assert again.json()["article"]["slug"].startswith("how-to-train-your-dragon-")

    # the reader's feed fills once they follow the author
    assert client.get("/api/articles/feed", headers=reader).json() == {
        "articles": [],
        "articlesCount": 0,
    }
    followed = client.post("/api/profiles/author/follow", headers=reader)
    assert followed.json()["profile"]["following"] is True
    feed = client.get("/api/articles/feed?limit=1", headers=reader).json()
    assert feed["articlesCount"] == 2 and len(feed["articles"]) == 1
    assert feed["articles"][0]["author"]["following"] is True
    assert "body" not in feed["articles"][0]
    second = client.get("/api/articles/feed?limit=1&offset=1", headers=reader).json()
    assert second["articles"][0]["slug"] == slug  # newest first

    favorited = client.post(f"/api/articles/{slug}/favorite", headers=reader).json()["article"]
    assert favorited["favorited"] is True and favorited["favoritesCount"] == 1
    client.post(f"/api/articles/{slug}/favorite", headers=reader)  # idempotent
    by_reader = client.get("/api/articles?favorited=reader").json()
    assert [a["slug"] for a in by_reader["articles"]] == [slug]
    assert by_reader["articles"][0]["favoritesCount"] == 1
    assert by_reader["articles"][0]["favorited"] is False  # anonymous request
    assert client.get("/api/articles?tag=dragons&author=author").json()["articlesCount"] == 1
    assert client.get("/api/articles?author=reader").json()["articlesCount"] == 0
    unfavorited = client.delete(f"/api/articles/{slug}/favorite", headers=reader).json()["article"]
    assert unfavorited["favorited"] is False and unfavorited["favoritesCount"] == 0

    # only the author edits; a new title gives a new slug
    assert (
        client.put(
            f"/api/articles/{slug}", headers=reader, json={"article": {"body": "x"}}
        ).status_code
        == 403
    )
    edited = client.put(
        f"/api/articles/{slug}", headers=author, json={"article": {"title": "Dragons 101"}}
    ).json()["article"]
    assert edited["slug"] == "dragons-101" and edited["body"] == "Very carefully."
    slug = edited["slug"]

    comment = client.post(
        f"/api/articles/{slug}/comments", headers=reader, json={"comment": {"body": "Thanks!"}}
    )
    assert comment.status_code == 200
    comment_id = comment.json()["comment"]["id"]
    listed = client.get(f"/api/articles/{slug}/comments", headers=author).json()["comments"]
    assert [(c["id"], c["body"], c["author"]["username"]) for c in listed] == [
        (comment_id, "Thanks!", "reader")
    ]
    assert (
        client.delete(f"/api/articles/{slug}/comments/{comment_id}", headers=author).status_code
        == 403
    )
    assert (
        client.delete(f"/api/articles/{slug}/comments/{comment_id}", headers=reader).status_code
        == 200
    )
    assert client.get(f"/api/articles/{slug}/comments").json() == {"comments": []}

    assert client.get("/api/tags").json()["tags"][:2] == ["dragons", "training"]
    assert client.delete(f"/api/articles/{slug}", headers=author).status_code == 200
    assert client.get(f"/api/articles/{slug}").status_code == 404
    unfollowed = client.delete("/api/profiles/author/follow", headers=reader).json()["profile"]
    assert unfollowed["following"] is False


def test_openapi_document_is_valid(client: TestClient) -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    document = client.get("/openapi.json").json()
    validator.validate(document)
    assert {"/api/users", "/api/articles/{slug}/favorite", "/api/tags"} <= set(document["paths"])
    assert document["components"]["securitySchemes"]["Token"] == {
        "type": "apiKey",
        "name": "Authorization",
        "in": "header",
        "description": 'A JWT from login or registration, sent as "Token <jwt>".',
    }


def test_cors_preflight(client: TestClient) -> None:
    response = client.options(
        "/api/articles",
        headers={
            "Origin": "https://conduit.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "https://conduit.example")


def _newman() -> list[str]:
    """``newman`` when installed (CI installs it), else ``npx --yes newman``."""
    newman = shutil.which("newman")
    if newman is not None:
        return [newman]
    npx = shutil.which("npx")
    if npx is None:
        if IN_CI:
            pytest.fail("CI=true and neither newman nor npx is installed", pytrace=False)
        pytest.skip("neither newman nor npx is installed")
    return [npx, "--yes", "newman"]


@pytest.mark.parametrize("server", ["uvicorn", "builtin"])
def test_postman_collection_with_newman(server: str, tmp_path: Path) -> None:
    if not server_available(server):
        pytest.skip(f"{server} is not installed")
    newman = _newman()
    env = {"CONDUIT_DATABASE_URL": f"sqlite:///{tmp_path / 'conduit.db'}", "CONDUIT_SECRET": "e2e"}
    report = tmp_path / "newman.json"
    with serve("examples.realworld.app:app", server=server, env=env) as base:
        result = subprocess.run(
            [
                *newman, "run", str(COLLECTION),
                "--global-var", f"APIURL={base}/api",
                "--global-var", "USERNAME=newman",
                "--global-var", "EMAIL=newman@example.com",
                "--global-var", "PASSWORD=newman-password",
                "--reporters", "cli,json", "--reporter-json-export", str(report),
                "--timeout-request", "10000",
            ],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    output = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, output
    stats = json.loads(report.read_text())["run"]["stats"]
    assert stats["assertions"]["failed"] == 0, output
    assert stats["assertions"]["total"] >= 300, stats
    assert stats["requests"]["failed"] == 0, output


def test_a_page_of_articles_costs_a_fixed_number_of_queries(client: TestClient) -> None:
    models = importlib.import_module("examples.realworld.models")

    writer = register(client, "prolific")
    fan = register(client, "fan")
    client.post("/api/profiles/prolific/follow", headers=fan)
    for n in range(6):
        body = {
            "article": {
                "title": f"Part {n}",
                "description": "d",
                "body": "b",
                "tagList": [f"t{n}", "series"],
            }
        }
        slug = client.post("/api/articles", headers=writer, json=body).json()["article"]["slug"]
        client.post(f"/api/articles/{slug}/favorite", headers=fan)

    statements: list[str] = []
    # the app serves requests on the client's own loop thread: a listener sees them all
    listener = models.db.add_query_listener(lambda event: statements.append(event.sql))

    def queries(limit: int) -> int:
        statements.clear()
        page = client.get(f"/api/articles?author=prolific&limit={limit}", headers=fan).json()
        assert len(page["articles"]) == limit
        assert all(a["favorited"] and a["author"]["following"] for a in page["articles"])
        return len(statements)

    try:
        one, six = queries(1), queries(6)
    finally:
        models.db.remove_query_listener(listener)
    assert one == six, statements
    assert 3 <= six <= 8, statements


def test_sign_up_race_is_a_422_not_a_500(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = importlib.import_module("examples.realworld.users")
    register(client, "racer")

    async def nothing_taken(*args: Any, **kwargs: Any) -> None:
        return None  # as if the other sign-up committed just after the check

    monkeypatch.setattr(users, "ensure_free", nothing_taken)
    body = {"user": {"username": "racer2", "email": "racer@example.com", "password": "pw"}}
    response = client.post("/api/users", json=body)
    assert response.status_code == 422
    assert errors(response) == ["user.email: has already been taken"]
    other = register(client, "other-racer")
    renamed = client.put("/api/user", headers=other, json={"user": {"username": "racer"}})
    assert renamed.status_code == 422
    assert errors(renamed) == ["user.username: has already been taken"]
