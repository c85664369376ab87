"""Models and model subsets as handler body/response types and in OpenAPI."""

from __future__ import annotations

from orm_unit_models import Account

from covet import Covet
from covet.testing import TestClient

AccountIn = Account.schema(include={"email", "nickname", "age"}, name="AccountIn")
AccountOut = Account.schema(exclude={"password_hash"}, name="AccountOut")
# unnamed subsets (module level: handler annotations are resolved from module globals)
CreateIn = Account.schema(include={"email", "nickname"})
Public = Account.schema(exclude={"password_hash", "extra"})


def make_app() -> Covet:
    app = Covet(title="orm")

    @app.post("/accounts", status_code=201)
    async def create(body: AccountIn) -> AccountOut:  # type: ignore[valid-type]
        acc = Account(**body, id=7, password_hash="s3cret")
        return acc  # type: ignore[return-value]

    @app.post("/raw")
    async def raw(body: Account) -> Account:
        body.id = 1
        return body

    return app


def test_subset_schemas_validate_and_filter_output() -> None:
    with TestClient(make_app()) as client:
        r = client.post(
            "/accounts", json={"email": "a@x.io", "nickname": "al", "password_hash": "ignored"}
        )
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["email"] == "a@x.io" and body["id"] == 7
        assert "password_hash" not in body
        bad = client.post("/accounts", json={"email": "x" * 300, "age": "old"})
        assert bad.status_code == 422
        fields = {d["field"]: d["code"] for d in bad.json()["details"]}
        assert fields == {"body.email": "too_long", "body.age": "type_error"}


def test_model_as_body_and_response() -> None:
    with TestClient(make_app()) as client:
        r = client.post("/raw", json={"email": "m@x.io", "price": "3.50", "color": "blue"})
        assert r.status_code == 200, r.text
        assert r.json()["price"] == "3.50" and r.json()["color"] == "blue" and r.json()["id"] == 1
        assert client.post("/raw", json={"price": "x"}).status_code == 422


def test_openapi_components() -> None:
    with TestClient(make_app()) as client:
        spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert "AccountIn" in schemas and "AccountOut" in schemas
    assert "password_hash" not in schemas["AccountOut"]["properties"]
    assert schemas["AccountIn"]["required"] == ["email"]


def test_unnamed_subsets_get_distinct_clean_openapi_components() -> None:
    from covet.openapi import generate_openapi

    create_in, public = CreateIn, Public
    assert create_in is Account.schema(include={"nickname", "email"})  # stable
    assert create_in.__name__ == "AccountOnlyEmailNickname"
    assert public.__name__ == "AccountWithoutExtraPasswordHash"
    assert Account.schema().__name__ == "AccountSchema"
    for cls in (create_in, public):
        assert cls.__module__ == Account.__module__
        assert cls.__qualname__ == cls.__name__

    app = Covet(title="subsets")

    @app.post("/a")
    async def a(body: CreateIn) -> Public:  # type: ignore[valid-type]
        return Account(**body, id=1)  # type: ignore[return-value]

    @app.put("/b")
    async def b(body: Public) -> CreateIn:  # type: ignore[valid-type]
        return body  # type: ignore[return-value]

    components = generate_openapi(app)["components"]["schemas"]
    assert {"AccountOnlyEmailNickname", "AccountWithoutExtraPasswordHash"} <= set(components)
    assert components["AccountOnlyEmailNickname"]["title"] == "AccountOnlyEmailNickname"
    assert set(components["AccountOnlyEmailNickname"]["properties"]) == {"email", "nickname"}
    assert "password_hash" not in components["AccountWithoutExtraPasswordHash"]["properties"]
    assert not any("abc" in name or "." in name for name in components)
