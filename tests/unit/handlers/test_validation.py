"""The stdlib validator: scalars, containers, structs, constraints, error collection."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import uuid
from typing import Annotated, Any, Literal, NotRequired, Optional, TypedDict

import pytest

from covet.exceptions import ImproperlyConfigured
from covet.handlers import Ge, Gt, Le, Lt, MaxLen, MinLen, MultipleOf, Pattern, compile_validator
from covet.handlers.errors import Invalid, render_details


def errors_of(tp: Any, value: Any, **kw: Any) -> list[dict[str, Any]]:
    with pytest.raises(Invalid) as info:
        compile_validator(tp, **kw)(value)
    return render_details("body", info.value.errors)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclasses.dataclass
class Address:
    street: str
    zip: Annotated[str, Pattern(r"^\d{5}$")]


@dataclasses.dataclass
class Person:
    name: Annotated[str, MinLen(1), MaxLen(20)]
    age: Annotated[int, Ge(0), Le(150)]
    address: Address
    tags: list[str] = dataclasses.field(default_factory=list)
    nickname: str | None = None


@dataclasses.dataclass
class Strict:
    __covet_extra__ = "forbid"
    a: int


class Movie(TypedDict):
    title: str
    year: int
    rating: NotRequired[float]


class Plain:
    x: int
    y: str = "d"


@dataclasses.dataclass
class Node:
    value: int
    children: list[Node] = dataclasses.field(default_factory=list)


def test_json_scalars_are_strict() -> None:
    assert compile_validator(int)(5) == 5
    assert compile_validator(int)(5.0) == 5
    assert errors_of(int, 5.5)[0]["code"] == "type_error"
    assert errors_of(int, True)[0]["code"] == "type_error"
    assert errors_of(int, "5")[0]["code"] == "type_error"
    assert compile_validator(float)(3) == 3.0
    assert errors_of(float, True)[0]["code"] == "type_error"
    assert errors_of(bool, "yes")[0]["code"] == "type_error"
    assert errors_of(bool, 1)[0]["code"] == "type_error"
    assert errors_of(str, 5)[0] == {"field": "body", "message": "Expected a string", "code": "type_error", "value": 5}


def test_string_mode_parses() -> None:
    assert compile_validator(int, strings=True)("42") == 42
    assert compile_validator(float, strings=True)("1.5") == 1.5
    for text, expected in [("true", True), ("1", True), ("yes", True), ("on", True), ("off", False), ("No", False)]:
        assert compile_validator(bool, strings=True)(text) is expected
    assert errors_of(bool, "maybe", strings=True)[0]["code"] == "type_error"
    assert errors_of(int, "1_000", strings=True)[0]["code"] == "type_error"
    assert errors_of(float, "nan", strings=True)[0]["code"] == "type_error"
    assert errors_of(float, "inf", strings=True)[0]["code"] == "type_error"


def test_rich_scalars() -> None:
    u = uuid.uuid4()
    assert compile_validator(uuid.UUID)(str(u)) == u
    assert compile_validator(datetime.datetime)("2024-01-02T03:04:05Z").tzinfo is not None
    assert compile_validator(datetime.date)("2024-01-02") == datetime.date(2024, 1, 2)
    assert compile_validator(datetime.time)("10:20") == datetime.time(10, 20)
    assert compile_validator(decimal.Decimal)("1.10") == decimal.Decimal("1.10")
    assert compile_validator(decimal.Decimal)(2) == decimal.Decimal(2)
    assert compile_validator(bytes)("ab") == b"ab"
    assert errors_of(uuid.UUID, "nope")[0]["code"] == "type_error"
    assert errors_of(datetime.date, "2024-13-01")[0]["code"] == "type_error"
    assert errors_of(decimal.Decimal, "NaN")[0]["code"] == "value_error"
    assert errors_of(datetime.datetime, "x" * 10_000)[0]["value"].endswith("...")


def test_enum_and_literal() -> None:
    assert compile_validator(Color)("red") is Color.RED
    assert compile_validator(Level)(2) is Level.HIGH
    assert compile_validator(Level, strings=True)("2") is Level.HIGH
    assert errors_of(Color, "green")[0]["code"] == "enum"
    lit = Literal["a", 1]
    assert compile_validator(lit)("a") == "a"
    assert compile_validator(lit, strings=True)("1") == 1
    assert errors_of(lit, "b")[0]["code"] == "enum"
    assert errors_of(Literal[1], True)[0]["code"] == "enum"


def test_optional_and_union() -> None:
    assert compile_validator(Optional[int])(None) is None  # noqa: UP045
    assert compile_validator(int | str)("x") == "x"
    assert compile_validator(int | str)(3) == 3
    assert errors_of(int | str, [1])[0]["code"] == "type_error"


def test_containers_collect_every_error() -> None:
    errs = errors_of(list[int], [1, "a", 2.5])
    assert [e["field"] for e in errs] == ["body[1]", "body[2]"]
    assert compile_validator(set[int])([1, 1, 2]) == {1, 2}
    assert compile_validator(tuple[int, str])([1, "a"]) == (1, "a")
    assert errors_of(tuple[int, str], [1])[0]["code"] == "value_error"
    assert compile_validator(dict[str, int])({"a": 1}) == {"a": 1}
    assert compile_validator(dict[int, int])({"1": 2}) == {1: 2}
    assert [e["field"] for e in errors_of(dict[str, int], {"a": "x"})] == ["body.a"]
    assert errors_of(list[int], {"a": 1})[0]["code"] == "type_error"


def test_dataclass_collects_all_nested_errors() -> None:
    errs = errors_of(Person, {"name": "", "age": -1, "address": {"zip": "abc"}, "tags": ["a", 3]})
    fields = {e["field"]: e["code"] for e in errs}
    assert fields == {
        "body.name": "too_short",
        "body.age": "too_small",
        "body.address.street": "missing",
        "body.address.zip": "pattern_mismatch",
        "body.tags[1]": "type_error",
    }
    missing = next(e for e in errs if e["code"] == "missing")
    assert "value" not in missing


def test_dataclass_builds_instances_with_defaults() -> None:
    p = compile_validator(Person)({"name": "Ann", "age": 30, "address": {"street": "s", "zip": "12345"}})
    assert p == Person("Ann", 30, Address("s", "12345"), [], None)


def test_extra_fields_ignored_or_forbidden() -> None:
    assert compile_validator(Address)({"street": "s", "zip": "12345", "x": 1}) == Address("s", "12345")
    errs = errors_of(Strict, {"a": 1, "b": 2})
    assert errs == [{"field": "body.b", "message": "Unknown field", "code": "extra_forbidden", "value": 2}]
    errs = errors_of(Address, {"street": "s", "zip": "12345", "x": 1}, extra="forbid")
    assert errs[0]["code"] == "extra_forbidden"


def test_typeddict_required_keys() -> None:
    assert compile_validator(Movie)({"title": "t", "year": 1999}) == {"title": "t", "year": 1999}
    errs = errors_of(Movie, {"title": "t", "rating": "x"})
    assert {e["field"] for e in errs} == {"body.year", "body.rating"}


def test_plain_annotated_class() -> None:
    obj = compile_validator(Plain)({"x": 1})
    assert (obj.x, obj.y) == (1, "d")
    assert errors_of(Plain, {"x": "no"})[0]["field"] == "body.x"


def test_recursive_type() -> None:
    tree = compile_validator(Node)({"value": 1, "children": [{"value": 2}]})
    assert tree == Node(1, [Node(2, [])])
    errs = errors_of(Node, {"value": 1, "children": [{"value": 2, "children": [{"value": "x"}]}]})
    assert errs[0]["field"] == "body.children[0].children[0].value"


def test_constraints_on_numbers_and_lengths() -> None:
    v = compile_validator(int, constraints={"gt": 0, "lt": 10, "multiple_of": 2})
    assert v(4) == 4
    assert errors_of(Annotated[int, Gt(0)], 0)[0]["code"] == "too_small"
    assert errors_of(Annotated[int, Lt(10)], 10)[0]["code"] == "too_large"
    assert errors_of(Annotated[int, MultipleOf(3)], 4)[0]["code"] == "value_error"
    assert errors_of(Annotated[float, MultipleOf(0.1)], 0.35)[0]["code"] == "value_error"
    assert compile_validator(Annotated[float, MultipleOf(0.1)])(0.3) == 0.3
    assert errors_of(Annotated[list[int], MaxLen(2)], [1, 2, 3])[0]["code"] == "too_long"


def test_annotated_types_objects_are_duck_typed() -> None:
    class Interval:  # the shape of annotated_types.Interval
        gt = None
        ge = 1
        lt = None
        le = 5

    assert errors_of(Annotated[int, Interval()], 6)[0]["code"] == "too_large"
    assert compile_validator(Annotated[int, Interval()])(3) == 3


def test_unsupported_type_is_a_configuration_error() -> None:
    with pytest.raises(ImproperlyConfigured):
        compile_validator(type(len))


def test_response_mode_reads_attributes_and_drops_extra_fields() -> None:
    class Row:
        def __init__(self) -> None:
            self.street = "s"
            self.zip = "12345"
            self.secret = "x"

    out = compile_validator(Address, from_attributes=True)(Row())
    assert out == {"street": "s", "zip": "12345"}
    out = compile_validator(Address, from_attributes=True)({"street": "s", "zip": "12345", "secret": 1})
    assert out == {"street": "s", "zip": "12345"}


@dataclasses.dataclass(frozen=True)
class Frozen:
    a: int


@dataclasses.dataclass(slots=True)
class Slotted:
    a: int
    b: str = "x"


@dataclasses.dataclass
class Checked:
    low: int
    high: int

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError("low must not exceed high")


@dataclasses.dataclass
class WithComputed:
    a: int
    doubled: int = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.doubled = self.a * 2


@dataclasses.dataclass
class WithInitVar:
    a: int
    scale: dataclasses.InitVar[int] = 1

    def __post_init__(self, scale: int) -> None:
        self.a *= scale


@pytest.mark.parametrize(
    ("tp", "data", "expected"),
    [
        (Frozen, {"a": 1}, Frozen(1)),
        (Slotted, {"a": 1}, Slotted(1, "x")),
        (Checked, {"low": 1, "high": 2}, Checked(1, 2)),
        (WithComputed, {"a": 2}, WithComputed(2)),
        (WithInitVar, {"a": 2}, WithInitVar(2)),
    ],
)
def test_dataclass_flavours(tp: Any, data: dict[str, Any], expected: Any) -> None:
    out = compile_validator(tp)(data)
    assert out == expected and type(out) is tp
    if tp is WithComputed:
        assert out.doubled == 4


def test_post_init_errors_become_value_errors() -> None:
    errs = errors_of(Checked, {"low": 3, "high": 2})
    assert errs == [{"field": "body", "message": "low must not exceed high", "code": "value_error"}]


def test_non_finite_floats_from_the_stdlib_decoder_are_rejected() -> None:
    errs = errors_of(Person, {"name": "a", "age": 1, "address": {"street": "s", "zip": "12345"}, "tags": []}
                     | {"age": float("nan")})
    assert errs[0]["field"] == "body.age"
    assert errors_of(Address, {"street": "s", "zip": "1"})[0]["code"] == "pattern_mismatch"
    assert errors_of(float, float("inf"))[0]["code"] == "value_error"
