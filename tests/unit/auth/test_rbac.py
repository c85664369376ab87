"""covet.auth.rbac: permission syntax and wildcards, role inheritance, handler guards, OpenAPI."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import pytest

from covet import Covet, Depends, HTTPException, Security
from covet.auth.rbac import RBAC, Policy, Role, check_permission, grants
from covet.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from covet.testing import TestClient

# -- permission strings -----------------------------------------------------------------


@pytest.mark.parametrize("permission", ["posts:read", "posts", "a.b-c_d:E9", "posts:comments:delete"])
def test_well_formed_permissions(permission: str) -> None:
    assert check_permission(permission) == permission
    assert check_permission(permission, pattern=True) == permission


@pytest.mark.parametrize("pattern", ["*", "posts:*", "posts:comments:*"])
def test_wildcards_only_in_granted_patterns(pattern: str) -> None:
    assert check_permission(pattern, pattern=True) == pattern
    with pytest.raises(ValueError, match="invalid permission"):
        check_permission(pattern)


@pytest.mark.parametrize(
    "bad",
    ["", ":", "posts:", ":read", "posts::read", "*:read", "posts:*:read", "posts:re*", "po sts",
     "posts:read ", "postés", "posts/read", "**"],
)  # fmt: skip
def test_malformed_permissions(bad: str) -> None:
    with pytest.raises(ValueError):
        check_permission(bad, pattern=True)


def test_permission_must_be_a_string() -> None:
    with pytest.raises(ValueError):
        check_permission(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("granted", "required", "expected"),
    [
        ({"posts:read"}, "posts:read", True),
        ({"posts:read"}, "posts:write", False),
        ({"posts:read"}, "posts", False),
        ({"posts:*"}, "posts:write", True),
        ({"posts:*"}, "posts:comments:delete", True),   # any depth below posts
        ({"posts:*"}, "posts", False),                  # not posts itself
        ({"posts:*"}, "postsx:read", False),            # whole segments only
        ({"posts:comments:*"}, "posts:comments:edit", True),
        ({"posts:comments:*"}, "posts:read", False),
        ({"*"}, "anything:at:all", True),
        ({"*"}, "x", True),
        ({"Posts:read"}, "posts:read", False),          # case-sensitive
        (set(), "posts:read", False),
        (["posts:read", "users:*"], "users:delete", True),  # any collection
    ],
)  # fmt: skip
def test_grants(granted: Iterable[str], required: str, expected: bool) -> None:
    assert grants(frozenset(granted), required) is expected
    assert grants(list(granted), required) is expected


# -- roles and policies -------------------------------------------------------------------


def blog_policy() -> Policy:
    return Policy(
        Role("reader", ["posts:read", "comments:read"]),
        Role("author", ["posts:write"], inherits=["reader"]),
        Role("moderator", ["comments:*"], inherits=["reader"]),
        Role("editor", ["posts:*"], inherits=["author", "moderator"]),  # a diamond over reader
        Role("admin", ["*"], inherits=["editor"]),
        Role("auditor", ["audit:read"]),
    )


def test_inheritance_is_transitive() -> None:
    policy = blog_policy()
    assert policy.expand_roles(["editor"]) == {"editor", "author", "moderator", "reader"}
    assert policy.permissions_for(["author"]) == {"posts:write", "posts:read", "comments:read"}
    assert policy.allows(["editor"], "comments:delete")          # via moderator's comments:*
    assert policy.allows(["editor"], "posts:publish")            # own posts:*
    assert not policy.allows(["author"], "posts:publish")
    assert policy.allows(["admin"], "billing:refund")
    assert policy.allows(["author", "auditor"], "audit:read")   # several roles: the union
    assert policy.has_role(["admin"], "reader")
    assert not policy.has_role(["author"], "moderator")


def test_unknown_held_roles_grant_nothing() -> None:
    policy = blog_policy()
    assert policy.permissions_for(["ghost"]) == frozenset()
    assert not policy.allows(["ghost"], "posts:read")
    assert not policy.has_role(["ghost"], "ghost")


def test_allows_takes_a_concrete_permission() -> None:
    with pytest.raises(ValueError):
        blog_policy().allows(["admin"], "posts:*")


def test_unknown_parent_role() -> None:
    with pytest.raises(ValueError, match=r"role 'a' inherits unknown role\(s\) \['b'\]"):
        Policy(Role("a", inherits=["b"]))


@pytest.mark.parametrize(
    ("roles", "cycle"),
    [
        ([Role("a", inherits=["a"])], "a -> a"),
        ([Role("a", inherits=["b"]), Role("b", inherits=["a"])], "a -> b -> a"),
        ([Role("x"), Role("a", inherits=["x", "b"]), Role("b", inherits=["c"]), Role("c", inherits=["a"])],
         "a -> b -> c -> a"),
    ],
)  # fmt: skip
def test_inheritance_cycles_are_refused(roles: list[Role], cycle: str) -> None:
    with pytest.raises(ValueError, match=f"cycle: {cycle}"):
        Policy(*roles)


def test_role_validation() -> None:
    with pytest.raises(ValueError, match="defined twice"):
        Policy(Role("a"), Role("a"))
    with pytest.raises(ValueError, match="role name"):
        Role("bad name")
    with pytest.raises(TypeError):
        Role("a", "posts:read")  # a string, not a collection
    with pytest.raises(TypeError):
        Role("a", inherits="b")
    with pytest.raises(ValueError):
        Role("a", ["posts:*:read"])
    with pytest.raises(TypeError):
        Policy("admin")  # type: ignore[arg-type]
    assert "posts:read" in repr(Role("r", ["posts:read"]))


# -- handler guards ---------------------------------------------------------------------

bearer = HTTPBearer()
USERS: dict[str, dict[str, Any]] = {
    "t-ada": {"name": "ada", "roles": ["editor"]},
    "t-bob": {"name": "bob", "roles": ["reader"]},
    "t-eve": {"name": "eve", "roles": ["admin"]},
    "t-sam": {"name": "sam", "roles": "author"},  # a single role as a string
}
loads: list[str] = []


async def current_user(credentials: HTTPAuthorizationCredentials = Security(bearer)) -> dict[str, Any]:
    loads.append(credentials.credentials)
    user = USERS.get(credentials.credentials)
    if user is None:
        raise HTTPException(401, "Unknown token", headers={"WWW-Authenticate": "Bearer"})
    return user


def make_app(rbac: RBAC) -> Covet:
    app = Covet()

    @app.post("/posts")
    async def write(user: dict = Depends(rbac.requires("posts:write")),
                    me: dict = Depends(current_user)) -> dict:
        return {"by": user["name"], "same": user is me}

    @app.post("/posts/publish", dependencies=[Depends(rbac.requires("posts:write", "posts:publish"))])
    async def publish() -> dict:
        return {"ok": True}

    @app.get("/admin", dependencies=[Depends(rbac.requires_role("admin"))])
    async def admin() -> dict:
        return {"ok": True}

    @app.get("/staff", dependencies=[Depends(rbac.requires_role("moderator", "author"))])
    async def staff() -> dict:
        return {"ok": True}

    return app  # fmt: skip


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_guard_passes_and_returns_the_user_loaded_once() -> None:
    loads.clear()
    with TestClient(make_app(RBAC(blog_policy(), user=current_user, scheme=bearer))) as client:
        response = client.post("/posts", headers=auth("t-ada"))
        assert response.json() == {"by": "ada", "same": True}
    assert loads == ["t-ada"]  # the guard and the handler share one current_user call


def test_missing_permission_answers_403_in_the_error_format() -> None:
    with TestClient(make_app(RBAC(blog_policy(), user=current_user, scheme=bearer))) as client:
        response = client.post("/posts", headers=auth("t-bob"))
        assert response.status_code == 403
        body = response.json()
        assert set(body) == {"error", "trace_id"} and body["trace_id"]
        assert body["error"] == "Missing permission: posts:write"
        both = client.post("/posts/publish", headers=auth("t-sam")).json()
        assert both["error"] == "Missing permission: posts:publish"   # author lacks only this one
        assert client.post("/posts/publish", headers=auth("t-bob")).json()["error"] == (
            "Missing permission: posts:write, posts:publish")
        assert client.post("/posts/publish", headers=auth("t-ada")).status_code == 200


def test_roles_guard_any_of_with_inheritance() -> None:
    with TestClient(make_app(RBAC(blog_policy(), user=current_user, scheme=bearer))) as client:
        assert client.get("/admin", headers=auth("t-eve")).status_code == 200
        denied = client.get("/admin", headers=auth("t-ada"))
        assert (denied.status_code, denied.json()["error"]) == (403, "Requires role: admin")
        assert client.get("/staff", headers=auth("t-sam")).status_code == 200   # author
        assert client.get("/staff", headers=auth("t-ada")).status_code == 200   # editor inherits both
        assert client.get("/staff", headers=auth("t-eve")).status_code == 200   # admin > editor
        assert client.get("/staff", headers=auth("t-bob")).json()["error"] == "Requires role: moderator or author"


def test_unauthenticated_requests_get_the_user_dependency_401() -> None:
    with TestClient(make_app(RBAC(blog_policy(), user=current_user, scheme=bearer))) as client:
        missing = client.post("/posts")
        assert (missing.status_code, missing.json()["error"]) == (401, "Not authenticated")
        assert missing.headers["www-authenticate"] == "Bearer"
        assert client.post("/posts", headers=auth("nope")).json()["error"] == "Unknown token"


def test_a_user_dependency_returning_none_is_answered_401() -> None:
    optional = HTTPBearer(auto_error=False)

    async def maybe_user(credentials: Any = Security(optional)) -> dict[str, Any] | None:
        return None if credentials is None else USERS.get(credentials.credentials)

    app = make_app(RBAC(blog_policy(), user=maybe_user, scheme=optional))
    with TestClient(app) as client:
        response = client.get("/admin")
        assert (response.status_code, response.json()["error"]) == (401, "Not authenticated")
        assert response.headers["www-authenticate"] == "Bearer"
        assert client.get("/admin", headers=auth("t-eve")).status_code == 200
    no_scheme = make_app(RBAC(blog_policy(), user=maybe_user))
    with TestClient(no_scheme) as client:
        assert "www-authenticate" not in client.get("/admin").headers


def test_roles_getter_may_be_async_and_objects_work() -> None:
    class User:
        def __init__(self, name: str) -> None:
            self.name = name

    grants_by_name = {"ada": ["admin"], "bob": []}

    async def roles_of(user: User) -> list[str]:
        return grants_by_name[user.name]

    async def current(name: str = "bob") -> Any:  # a local class: not resolvable
        return User(name)

    rbac = RBAC(blog_policy(), user=current, roles=roles_of)
    app = Covet()

    @app.get("/x", dependencies=[Depends(rbac.requires("anything:goes"))])
    async def x() -> dict:
        return {}

    with TestClient(app) as client:
        assert client.get("/x?name=ada").status_code == 200
        assert client.get("/x?name=bob").status_code == 403


def test_default_roles_getter_reads_attributes_and_keys() -> None:
    class WithRoles:
        roles = ("admin",)

    class Without:
        pass

    rbac = RBAC(blog_policy(), user=current_user)
    assert asyncio.run(rbac.roles_of(WithRoles())) == {"admin"}
    assert asyncio.run(rbac.roles_of(Without())) == frozenset()
    assert asyncio.run(rbac.roles_of({"roles": None})) == frozenset()


def test_dependency_overrides_replace_the_user() -> None:
    app = make_app(RBAC(blog_policy(), user=current_user, scheme=bearer))
    app.dependency_overrides[current_user] = lambda: {"name": "test", "roles": ["admin"]}
    with TestClient(app) as client:
        assert client.get("/admin").status_code == 200  # no credentials: the scheme is not run again


def test_guard_factories_check_their_arguments() -> None:
    rbac = RBAC(blog_policy(), user=current_user)
    with pytest.raises(ValueError):
        rbac.requires()
    with pytest.raises(ValueError):
        rbac.requires("posts:*")  # required permissions are concrete
    with pytest.raises(ValueError, match="unknown role"):
        rbac.requires_role("superuser")
    with pytest.raises(ValueError):
        rbac.requires_role()
    with pytest.raises(TypeError, match="scheme"):
        RBAC(blog_policy(), user=current_user, scheme=object())
    assert rbac.requires("posts:read").__name__ == "requires('posts:read')"


def test_openapi_lists_permissions_and_roles_under_the_scheme() -> None:
    app = make_app(RBAC(blog_policy(), user=current_user, scheme=bearer))
    with TestClient(app) as client:
        doc = client.get("/openapi.json").json()
    assert doc["paths"]["/posts"]["post"]["security"] == [{"HTTPBearer": ["posts:write"]}]
    assert doc["paths"]["/posts/publish"]["post"]["security"] == [{"HTTPBearer": ["posts:write", "posts:publish"]}]
    assert doc["paths"]["/admin"]["get"]["security"] == [{"HTTPBearer": ["admin"]}]
    assert doc["components"]["securitySchemes"] == {"HTTPBearer": {"type": "http", "scheme": "bearer"}}
    assert "401" in doc["paths"]["/admin"]["get"]["responses"]
    forbidden = doc["paths"]["/admin"]["get"]["responses"]["403"]  # a role can be missing
    assert forbidden["description"] == "Missing a required scope or permission"


def test_openapi_without_a_scheme_shows_only_what_the_user_dependency_uses() -> None:
    app = make_app(RBAC(blog_policy(), user=current_user))
    doc = app.openapi()
    assert doc["paths"]["/admin"]["get"]["security"] == [{"HTTPBearer": []}]
    assert "403" not in doc["paths"]["/admin"]["get"]["responses"]  # no scopes listed


def test_openapi_optional_scheme_stays_optional() -> None:
    key = APIKeyHeader(name="X-Key", auto_error=False)

    async def maybe(k: Any = Security(key)) -> dict | None:
        return None

    app = make_app(RBAC(blog_policy(), user=maybe, scheme=key))
    doc = app.openapi()
    assert doc["paths"]["/admin"]["get"]["security"] == [{"APIKeyHeader": ["admin"]}, {}]
