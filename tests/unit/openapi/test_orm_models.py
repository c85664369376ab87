"""ORM models and their field subsets appear in the document via ``__covet_json_schema__``."""

from __future__ import annotations

from typing import Any

from openapi_spec_validator import validate

from covet import Covet
from covet.openapi import generate_openapi
from covet.orm import Field, Model


class Writer(Model):
    id: int = Field(primary_key=True)
    email: str = Field(max_length=255, unique=True)
    name: str | None = None
    password_hash: str = Field(max_length=200)

    class Meta:  # a name no other test uses, should a test create every known table
        table = "covet_openapi_test_writer"


WriterIn = Writer.schema(exclude={"id"}, name="WriterIn")
WriterPublic = Writer.schema(exclude={"password_hash"}, name="WriterPublic")


def test_models_and_subsets_are_components() -> None:
    app = Covet()

    @app.post("/writers", status_code=201)
    async def create_writer(writer: WriterIn) -> WriterPublic:  # type: ignore[valid-type]
        raise AssertionError("never called")

    @app.get("/writers")
    async def list_writers() -> list[Writer]:
        return []

    doc: dict[str, Any] = generate_openapi(app)
    validate(doc)
    schemas = doc["components"]["schemas"]
    create = doc["paths"]["/writers"]["post"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/WriterIn"
    }
    assert create["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/WriterPublic"
    }
    listing = doc["paths"]["/writers"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    assert listing == {"type": "array", "items": {"$ref": "#/components/schemas/Writer"}}
    assert "id" not in schemas["WriterIn"]["properties"]
    assert "password_hash" not in schemas["WriterPublic"]["properties"]
    assert schemas["Writer"]["properties"]["email"]["maxLength"] == 255
    assert set(schemas["Writer"]["required"]) >= {"email", "password_hash"}
