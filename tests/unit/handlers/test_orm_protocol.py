"""ORM models and their field subsets as bodies and response models (schema protocol)."""

from __future__ import annotations

from typing import Any

import pytest

from covet.app import Covet
from covet.orm import Field, Model
from covet.testing import TestClient


class Account(Model):
    id: int = Field(primary_key=True)
    email: str = Field(max_length=20)
    password_hash: str = Field(default="")


AccountOut = Account.schema(exclude={"password_hash"})
EmailOnly = Account.schema(include={"email"})


@pytest.fixture(scope="module")
def client() -> Any:
    app = Covet()

    @app.post("/accounts", status_code=201)
    async def create(account: Account) -> AccountOut:  # type: ignore[valid-type]
        account.password_hash = "secret"
        return account

    @app.post("/emails")
    async def emails(data: EmailOnly) -> dict[str, str]:  # type: ignore[valid-type]
        return {"email": data.email}

    with TestClient(app) as c:
        yield c


def test_model_body_and_subset_response_drop_the_hash(client: Any) -> None:
    r = client.post("/accounts", json={"id": 1, "email": "a@b.c"})
    assert r.status_code == 201
    assert r.json() == {"id": 1, "email": "a@b.c"}


def test_model_body_errors_use_the_body_prefix(client: Any) -> None:
    r = client.post("/accounts", json={"id": "x", "email": "a" * 30})
    assert r.status_code == 422
    assert {d["field"] for d in r.json()["details"]} == {"body.id", "body.email"}


def test_subset_schema_as_body(client: Any) -> None:
    assert client.post("/emails", json={"email": "x@y.z", "id": 9}).json() == {"email": "x@y.z"}
    r = client.post("/emails", json={"email": 5})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "body.email"
