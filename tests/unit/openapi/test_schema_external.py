"""Self-describing types: pydantic v2 models, msgspec structs, ``__covet_json_schema__``."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from covet.openapi.schema import SchemaRegistry, resolve_refs


def build(*types: Any, mode: str = "validation") -> tuple[list[dict[str, Any]], dict[str, Any]]:
    registry = SchemaRegistry()
    schemas = [registry.schema_for(tp, mode) for tp in types]  # type: ignore[arg-type]
    components, refs = registry.components()
    return [resolve_refs(s, refs) for s in schemas], components


def test_pydantic_model_defs_are_merged() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Tag(pydantic.BaseModel):
        label: str

    class Article(pydantic.BaseModel):
        title: str = pydantic.Field(max_length=50)
        tags: list[Tag] = []

    (schema,), components = build(list[Article])
    assert schema == {"type": "array", "items": {"$ref": "#/components/schemas/Article"}}
    article = components["Article"]
    assert article["properties"]["title"]["maxLength"] == 50
    assert article["properties"]["tags"]["items"] == {"$ref": "#/components/schemas/Tag"}
    assert components["Tag"]["required"] == ["label"]


def test_pydantic_modes_with_different_schemas_get_distinct_names() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Box(pydantic.BaseModel):
        width: int
        height: int

        @pydantic.computed_field  # type: ignore[prop-decorator]
        @property
        def area(self) -> int:
            return self.width * self.height

    registry = SchemaRegistry()
    validation = registry.schema_for(Box, "validation")
    serialization = registry.schema_for(Box, "serialization")
    components, refs = registry.components()
    assert validation == {"$ref": "#/components/schemas/Box"}
    assert serialization == {"$ref": "#/components/schemas/Box-Output"}
    assert "area" not in components["Box"]["properties"]
    assert "area" in components["Box-Output"]["properties"]
    assert refs == {}


def test_pydantic_and_dataclass_with_the_same_name() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Item(pydantic.BaseModel):
        sku: str

    def make() -> type:
        @dataclasses.dataclass
        class Item:
            code: int

        return Item

    (a, b), components = build(Item, make())
    assert a == {"$ref": "#/components/schemas/Item"}
    assert b["$ref"].endswith(".make.Item")
    assert components["Item"]["properties"] == {"sku": {"title": "Sku", "type": "string"}}


class OrmLike:
    """Stands for an ORM model: describes itself, with a field subset."""

    @classmethod
    def __covet_json_schema__(cls) -> dict[str, Any]:
        return {
            "title": "User",
            "type": "object",
            "properties": {"id": {"type": "integer"}, "role": {"$ref": "#/$defs/Role"}},
            "required": ["id"],
            "$defs": {"Role": {"enum": ["admin", "user"], "type": "string"}},
        }


class Subset:
    """A field subset object (an instance) with a mode-aware schema."""

    def __init__(self, exclude: set[str]) -> None:
        self.exclude = exclude

    def __covet_json_schema__(self, mode: str = "validation") -> dict[str, Any]:
        props = {"id": {"type": "integer"}, "password": {"type": "string"}}
        props = {k: v for k, v in props.items() if k not in self.exclude}
        return {"title": f"UserPublic{mode.title()}", "type": "object", "properties": props}


def test_covet_json_schema_protocol_class_and_instance() -> None:
    subset = Subset({"password"})
    (model, part), components = build(OrmLike, subset, mode="serialization")
    assert model == {"$ref": "#/components/schemas/User"}
    assert components["User"]["properties"]["role"] == {"$ref": "#/components/schemas/Role"}
    assert components["Role"]["enum"] == ["admin", "user"]
    assert part == {"$ref": "#/components/schemas/UserPublicSerialization"}
    assert components["UserPublicSerialization"]["properties"] == {"id": {"type": "integer"}}


def test_covet_json_schema_must_return_a_mapping() -> None:
    class Bad:
        @classmethod
        def __covet_json_schema__(cls) -> Any:
            return ["not", "a", "schema"]

    with pytest.raises(TypeError, match="must return a mapping"):
        SchemaRegistry().schema_for(Bad)
