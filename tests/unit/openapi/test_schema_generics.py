"""Schema side of generics, TypedDict qualifiers and recursive models (SchemaRegistry)."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any, Generic, TypeVar

import typing_extensions as te
from openapi_spec_validator import validate

from covet import Covet
from covet.handlers import MaxLen
from covet.openapi import generate_openapi
from covet.openapi.schema import SchemaRegistry

T = TypeVar("T")


@dataclasses.dataclass
class Item:
    name: str


@dataclasses.dataclass
class Page(Generic[T]):
    items: list[T]
    total: int


@dataclasses.dataclass
class ItemPage(Page[Item]):
    cursor: str | None = None


@dataclasses.dataclass
class Tree:
    label: str
    children: list[Tree] = dataclasses.field(default_factory=list)


class Qualified(te.TypedDict, total=False):
    a: te.Required[int]
    b: Annotated[te.NotRequired[str], MaxLen(3)]
    c: te.ReadOnly[te.Required[bool]]
    d: str


def _components(*annotations: Any) -> dict[str, Any]:
    registry = SchemaRegistry()
    for annotation in annotations:
        registry.schema_for(annotation)
    return registry.components()[0]


def test_generic_base_bound_in_subclass() -> None:
    schema = _components(ItemPage)["ItemPage"]
    assert schema["properties"]["items"]["items"] == {"$ref": "#/components/schemas/Item"}
    assert schema["required"] == ["items", "total"]


def test_typeddict_qualifiers_through_annotated_and_read_only() -> None:
    schema = _components(Qualified)["Qualified"]
    assert schema["required"] == ["a", "c"]
    assert schema["properties"]["b"] == {"type": "string", "maxLength": 3}
    assert schema["properties"]["c"] == {"type": "boolean"}


def test_recursive_model_in_both_modes_is_one_component() -> None:
    app = Covet()

    @app.post("/tree")
    async def tree(body: Tree) -> Tree:
        return body

    doc = generate_openapi(app)
    validate(doc)
    schemas = doc["components"]["schemas"]
    assert "Tree" in schemas and "Tree-Input" not in schemas
    assert schemas["Tree"]["properties"]["children"]["items"] == {
        "$ref": "#/components/schemas/Tree"
    }
