"""Python types -> JSON Schema 2020-12 (covet.openapi.schema)."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import sys
import typing
import uuid
from collections.abc import Mapping, Sequence
from typing import (
    Annotated,
    Any,
    Generic,
    Literal,
    NamedTuple,
    Optional,
    TypedDict,
    TypeVar,
)

import pytest

if sys.version_info >= (3, 11):
    from typing import NotRequired

from covet.handlers.params import Ge, Lt, MaxLen, MinLen, Pattern, Query
from covet.openapi.schema import SchemaRegistry, jsonable_default


def build(tp: Any, mode: str = "validation") -> tuple[dict[str, Any], dict[str, Any]]:
    """(schema with settled refs, components) of one annotation."""
    from covet.openapi.schema import resolve_refs

    registry = SchemaRegistry()
    schema = registry.schema_for(tp, mode)  # type: ignore[arg-type]
    components, refs = registry.components()
    return resolve_refs(schema, refs), components


def inline(tp: Any) -> dict[str, Any]:
    schema, components = build(tp)
    assert components == {}
    return schema


# --- scalars ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tp", "expected"),
    [
        (str, {"type": "string"}),
        (int, {"type": "integer"}),
        (float, {"type": "number"}),
        (bool, {"type": "boolean"}),
        (None, {"type": "null"}),
        (type(None), {"type": "null"}),
        (decimal.Decimal, {"type": "number"}),
        (uuid.UUID, {"type": "string", "format": "uuid"}),
        (datetime.datetime, {"type": "string", "format": "date-time"}),
        (datetime.date, {"type": "string", "format": "date"}),
        (datetime.time, {"type": "string", "format": "time"}),
        (datetime.timedelta, {"type": "string", "format": "duration"}),
        (bytes, {"type": "string", "contentEncoding": "base64"}),
        (Any, {}),
        (object, {}),
    ],
)
def test_scalars(tp: Any, expected: dict[str, Any]) -> None:
    assert inline(tp) == expected


def test_str_subclass_and_newtype() -> None:
    class Email(str):
        pass

    UserId = typing.NewType("UserId", int)
    assert inline(Email) == {"type": "string"}
    assert inline(UserId) == {"type": "integer"}


def test_upload_file_is_binary() -> None:
    from covet.http.uploads import UploadFile

    assert inline(UploadFile) == {"type": "string", "format": "binary"}
    assert inline(list[UploadFile]) == {
        "type": "array",
        "items": {"type": "string", "format": "binary"},
    }


# --- containers -------------------------------------------------------------------------


def test_sequences_sets_tuples() -> None:
    assert inline(list[int]) == {"type": "array", "items": {"type": "integer"}}
    assert inline(Sequence[str]) == {"type": "array", "items": {"type": "string"}}
    assert inline(list) == {"type": "array"}
    assert inline(set[str]) == {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
    assert inline(frozenset[int])["uniqueItems"] is True
    assert inline(tuple[int, ...]) == {"type": "array", "items": {"type": "integer"}}
    assert inline(tuple[int, str]) == {
        "type": "array",
        "prefixItems": [{"type": "integer"}, {"type": "string"}],
        "items": False,
        "minItems": 2,
        "maxItems": 2,
    }


def test_mappings() -> None:
    assert inline(dict[str, int]) == {"type": "object", "additionalProperties": {"type": "integer"}}
    assert inline(Mapping[str, Any]) == {"type": "object"}
    assert inline(dict) == {"type": "object"}


# --- unions, literals, enums ------------------------------------------------------------


def test_optional_simple_becomes_type_list() -> None:
    assert inline(Optional[int]) == {"type": ["integer", "null"]}  # noqa: UP045
    assert inline(int | str | None) == {"type": ["integer", "string", "null"]}
    assert inline(Optional[datetime.date]) == {"type": ["string", "null"], "format": "date"}  # noqa: UP045


def test_union_of_complex_uses_anyof() -> None:
    assert inline(list[int] | dict[str, int]) == {
        "anyOf": [
            {"type": "array", "items": {"type": "integer"}},
            {"type": "object", "additionalProperties": {"type": "integer"}},
        ]
    }
    assert inline(int | Any) == {}


def test_literal() -> None:
    assert inline(Literal["a", "b"]) == {"enum": ["a", "b"], "type": "string"}
    assert inline(Literal[1]) == {"const": 1, "type": "integer"}
    assert inline(Literal[1, "x"]) == {"enum": [1, "x"]}


class Status(enum.Enum):
    """Where an order is."""

    NEW = "new"
    PAID = "paid"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


def test_enums_are_components() -> None:
    schema, components = build(Status)
    assert schema == {"$ref": "#/components/schemas/Status"}
    assert components["Status"] == {
        "title": "Status",
        "enum": ["new", "paid"],
        "type": "string",
        "description": "Where an order is.",
    }
    _, components = build(Level)
    assert components["Level"]["enum"] == [1, 2]
    assert components["Level"]["type"] == "integer"


def test_optional_enum_uses_anyof() -> None:
    schema, _ = build(Optional[Status])  # noqa: UP045
    assert schema == {"anyOf": [{"$ref": "#/components/schemas/Status"}, {"type": "null"}]}


# --- models -----------------------------------------------------------------------------


@dataclasses.dataclass
class Address:
    """A postal address."""

    street: str
    city: str
    zip_code: Annotated[str, Pattern(r"^\d{5}$")]
    country: str = "FR"


@dataclasses.dataclass
class Customer:
    id: int
    name: Annotated[str, MinLen(1), MaxLen(80)]
    address: Address
    tags: list[str] = dataclasses.field(default_factory=list)
    created: datetime.datetime = dataclasses.field(default_factory=datetime.datetime.now)
    score: Annotated[float, Ge(0), Lt(10)] = 5.0
    note: str | None = dataclasses.field(default=None, metadata={"description": "Free text"})
    status: Status = Status.NEW


def test_dataclass_component_with_nested_refs_defaults_and_constraints() -> None:
    schema, components = build(list[Customer])
    assert schema == {"type": "array", "items": {"$ref": "#/components/schemas/Customer"}}
    customer = components["Customer"]
    assert customer["required"] == ["id", "name", "address"]
    assert "description" not in customer  # the generated dataclass docstring is not shown
    props = customer["properties"]
    assert props["name"] == {"type": "string", "minLength": 1, "maxLength": 80}
    assert props["address"] == {"$ref": "#/components/schemas/Address"}
    assert props["tags"] == {"type": "array", "items": {"type": "string"}, "default": []}
    assert props["created"] == {"type": "string", "format": "date-time"}  # factory: optional
    assert props["score"] == {
        "type": "number",
        "minimum": 0,
        "exclusiveMaximum": 10,
        "default": 5.0,
    }
    assert props["note"] == {
        "type": ["string", "null"],
        "default": None,
        "description": "Free text",
    }
    assert props["status"] == {"$ref": "#/components/schemas/Status", "default": "new"}
    address = components["Address"]
    assert address["description"] == "A postal address."
    assert address["properties"]["zip_code"]["pattern"] == r"^\d{5}$"
    assert address["properties"]["country"]["default"] == "FR"
    assert address["required"] == ["street", "city", "zip_code"]


def test_handler_markers_in_annotated_give_constraints() -> None:
    assert inline(Annotated[int, Query(ge=1, le=100)]) == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
    }
    assert inline(Annotated[list[int], MaxLen(3)]) == {
        "type": "array",
        "items": {"type": "integer"},
        "maxItems": 3,
    }
    assert inline(Annotated[str, {"min_length": 2, "format": "email"}]) == {
        "type": "string",
        "minLength": 2,
        "format": "email",
    }


@dataclasses.dataclass
class Category:
    name: str
    parent: Category | None = None
    children: list[Category] = dataclasses.field(default_factory=list)


def test_recursive_dataclass() -> None:
    schema, components = build(Category)
    assert schema == {"$ref": "#/components/schemas/Category"}
    props = components["Category"]["properties"]
    assert props["parent"]["anyOf"][0] == {"$ref": "#/components/schemas/Category"}
    assert props["children"]["items"] == {"$ref": "#/components/schemas/Category"}


class Movie(TypedDict):
    title: str
    year: int
    rating: NotRequired[float]


class PartialMovie(TypedDict, total=False):
    title: str
    year: int


@pytest.mark.skipif(sys.version_info < (3, 11), reason="typing.NotRequired is new in 3.11")
def test_typeddict_required_keys() -> None:
    _, components = build(Movie)
    movie = components["Movie"]
    assert movie["required"] == ["title", "year"]
    assert movie["properties"]["rating"] == {"type": "number"}
    _, components = build(PartialMovie)
    assert "required" not in components["PartialMovie"]


class Point(NamedTuple):
    x: float
    y: float
    label: str = ""


def test_namedtuple_is_a_tuple_array() -> None:
    _, components = build(Point)
    assert components["Point"] == {
        "type": "array",
        "title": "Point",
        "prefixItems": [
            {"type": "number", "title": "x"},
            {"type": "number", "title": "y"},
            {"type": "string", "title": "label", "default": ""},
        ],
        "items": False,
        "minItems": 2,
        "maxItems": 3,
    }


class Plain:
    """A plain annotated class."""

    name: str
    size: int = 3
    kind: typing.ClassVar[str] = "plain"
    _private: int = 0


def test_plain_annotated_class() -> None:
    _, components = build(Plain)
    plain = components["Plain"]
    assert plain["properties"] == {
        "name": {"type": "string"},
        "size": {"type": "integer", "default": 3},
    }
    assert plain["required"] == ["name"]
    assert plain["description"] == "A plain annotated class."


T = TypeVar("T")


@dataclasses.dataclass
class Page(Generic[T]):
    items: list[T]
    total: int


def test_generic_dataclass_gets_a_parametrised_name() -> None:
    schema, components = build(Page[Address])
    assert schema == {"$ref": "#/components/schemas/Page_Address_"}
    page = components["Page_Address_"]
    assert page["properties"]["items"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Address"},
    }


def test_same_name_from_two_modules_gets_qualified_names() -> None:
    def make() -> type:
        @dataclasses.dataclass
        class Address:
            line: str

        return Address

    other = make()
    other.__module__ = "billing.models"
    registry = SchemaRegistry()
    registry.schema_for(other)
    registry.schema_for(Address)
    components, _ = registry.components()
    assert "Address" not in components
    assert sorted(components) == [
        "billing.models.test_same_name_from_two_modules_gets_qualified_names.make.Address",
        f"{Address.__module__}.Address",
    ]


def test_names_do_not_depend_on_order() -> None:
    def make() -> type:
        @dataclasses.dataclass
        class Address:
            line: str

        return Address

    other = make()
    first, second = SchemaRegistry(), SchemaRegistry()
    first.schema_for(other)
    first.schema_for(Address)
    second.schema_for(Address)
    second.schema_for(other)
    assert first.components()[0] == second.components()[0]


def test_unresolvable_type_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="cannot build a JSON Schema"):
        SchemaRegistry().schema_for(sys)
    with pytest.raises(TypeError, match="cannot build a JSON Schema"):
        SchemaRegistry().schema_for({"not": "a type"})
    with pytest.raises(TypeError, match="unresolved forward reference"):
        SchemaRegistry().schema_for("Item")

    @dataclasses.dataclass
    class Broken:
        other: Missing  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(TypeError, match="cannot resolve the annotations"):
        SchemaRegistry().schema_for(Broken)


def test_jsonable_default() -> None:
    assert jsonable_default(Status.PAID) == "paid"
    assert jsonable_default(decimal.Decimal("1.5")) == 1.5
    assert jsonable_default({"a": (1, 2)}) == {"a": [1, 2]}
    assert jsonable_default(datetime.date(2024, 1, 2)) == "2024-01-02"
    with pytest.raises(ValueError):
        jsonable_default(float("nan"))
    with pytest.raises(ValueError):
        jsonable_default(object())
