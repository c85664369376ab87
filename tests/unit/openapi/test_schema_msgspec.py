"""msgspec structs become components through ``msgspec.json.schema_components``."""

from __future__ import annotations

import pytest

from covet.openapi.schema import SchemaRegistry, resolve_refs

msgspec = pytest.importorskip("msgspec")


class Point(msgspec.Struct):
    x: int
    y: int = 0


class Shape(msgspec.Struct):
    """A polygon."""

    points: list[Point]


def test_msgspec_struct_components() -> None:
    registry = SchemaRegistry()
    schema = registry.schema_for(list[Shape])
    components, refs = registry.components()
    assert resolve_refs(schema, refs) == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Shape"},
    }
    assert components["Shape"]["properties"]["points"]["items"] == {
        "$ref": "#/components/schemas/Point"
    }
    assert components["Shape"]["description"] == "A polygon."
    assert components["Point"]["required"] == ["x"]
    assert components["Point"]["properties"]["y"] == {"type": "integer", "default": 0}
