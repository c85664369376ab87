"""Matrix: common annotations as a JSON body and as a return type, through a real app.

Each case checks start-up, that a valid body round-trips, that an invalid one is a 422
with the right field path, and that the OpenAPI document validates.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import uuid
from typing import Annotated, Any, Literal, NamedTuple, Optional, TypedDict

import msgspec
import pydantic
import pytest
from openapi_spec_validator import validate
from typing_extensions import NotRequired

from covet import Body, Covet
from covet.handlers import Ge
from covet.openapi import generate_openapi
from covet.testing import TestClient


@dataclasses.dataclass
class Model:
    name: str
    qty: int = 0


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Inner:
    x: int = 1
    tags: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Outer:
    inner: Inner = dataclasses.field(default_factory=Inner)
    label: str = "l"


class Point(NamedTuple):
    x: int
    y: int = 0


class BaseTD(TypedDict):
    a: int


class ChildTD(BaseTD):
    b: str
    c: NotRequired[bool]


@dataclasses.dataclass
class WithInitFalse:
    name: str
    slug: str = dataclasses.field(init=False, default="")

    def __post_init__(self) -> None:
        self.slug = self.name.lower()


@dataclasses.dataclass
class Times:
    at: datetime.datetime
    day: datetime.date
    id: uuid.UUID
    amount: decimal.Decimal


class PModel(pydantic.BaseModel):
    name: str
    qty: int = 0


class PTimes(pydantic.BaseModel):
    at: datetime.datetime
    day: datetime.date
    id: uuid.UUID
    amount: decimal.Decimal


class PNested(pydantic.BaseModel):
    inner: PModel
    items: list[PModel] = []


class MModel(msgspec.Struct):
    name: str
    qty: int = 0


class MTimes(msgspec.Struct):
    at: datetime.datetime
    day: datetime.date
    id: uuid.UUID
    amount: decimal.Decimal


class MNested(msgspec.Struct):
    inner: MModel
    items: list[MModel] = []


U = "5b5b2c4e-7f0a-4f55-9b4e-2f1c2a3b4c5d"

CASES = [
    ("dict[str, int]", dict[str, int], {"a": 1}, {"a": 1}, {"a": "x"}, "body.a"),
    (
        "list[Model]",
        list[Model],
        [{"name": "n"}],
        [{"name": "n", "qty": 0}],
        [{"qty": 1}],
        "body[0].name",
    ),
    ("tuple[int, str]", tuple[int, str], [1, "a"], [1, "a"], [1, 2], "body[1]"),
    (
        "Optional[Model]",
        Optional[Model],  # noqa: UP045 - the spelling under test
        {"name": "n", "qty": 2},
        {"name": "n", "qty": 2},
        {"name": 1},
        "body.name",
    ),
    (
        "Model | None",
        Model | None,
        {"name": "n", "qty": 2},
        {"name": "n", "qty": 2},
        {"name": 1},
        "body.name",
    ),
    ("Literal", Literal["a", "b"], "a", "a", "c", "body"),
    ("Enum", Color, "red", "red", "green", "body"),
    ("Annotated[int, Ge(0)]", Annotated[int, Ge(0)], 3, 3, -1, "body"),
    ("set[str]", set[str], ["a"], ["a"], [1], "body[0]"),
    (
        "nested defaults",
        Outer,
        {},
        {"inner": {"x": 1, "tags": []}, "label": "l"},
        {"inner": {"x": "y"}},
        "body.inner.x",
    ),
    ("NamedTuple", Point, [1, 2], [1, 2], [1, "x"], "body[1]"),
    ("TypedDict inherit", ChildTD, {"a": 1, "b": "x"}, {"a": 1, "b": "x"}, {"b": "x"}, "body.a"),
    (
        "init=False",
        WithInitFalse,
        {"name": "AB"},
        {"name": "AB", "slug": "ab"},
        {"name": 3},
        "body.name",
    ),
    (
        "times",
        Times,
        {"at": "2024-01-02T03:04:05Z", "day": "2024-01-02", "id": U, "amount": "1.5"},
        {"at": "2024-01-02T03:04:05+00:00", "day": "2024-01-02", "id": U, "amount": 1.5},
        {"at": "x", "day": "2024-01-02", "id": U, "amount": "1.5"},
        "body.at",
    ),
    ("pyd model", PModel, {"name": "n"}, {"name": "n", "qty": 0}, {"qty": 1}, "body.name"),
    (
        "list[pyd]",
        list[PModel],
        [{"name": "n"}],
        [{"name": "n", "qty": 0}],
        [{"name": 1}],
        "body[0].name",
    ),
    (
        "Optional[pyd]",
        Optional[PModel],  # noqa: UP045
        {"name": "n"},
        {"name": "n", "qty": 0},
        {"name": 1},
        "body.name",
    ),
    (
        "pyd nested",
        PNested,
        {"inner": {"name": "n"}},
        {"inner": {"name": "n", "qty": 0}, "items": []},
        {"inner": {}},
        "body.inner.name",
    ),
    (
        "pyd times",
        PTimes,
        {"at": "2024-01-02T03:04:05Z", "day": "2024-01-02", "id": U, "amount": "1.5"},
        None,
        {"at": "x", "day": "2024-01-02", "id": U, "amount": "1.5"},
        "body.at",
    ),
    (
        "dict[str, pyd]",
        dict[str, PModel],
        {"k": {"name": "n"}},
        {"k": {"name": "n", "qty": 0}},
        {"k": {}},
        "body.k.name",
    ),
    ("ms model", MModel, {"name": "n"}, {"name": "n", "qty": 0}, {"qty": 1}, "body.name"),
    (
        "list[ms]",
        list[MModel],
        [{"name": "n"}],
        [{"name": "n", "qty": 0}],
        [{"name": 1}],
        "body[0].name",
    ),
    (
        "Optional[ms]",
        Optional[MModel],  # noqa: UP045
        {"name": "n"},
        {"name": "n", "qty": 0},
        {"name": 1},
        "body.name",
    ),
    (
        "ms nested",
        MNested,
        {"inner": {"name": "n"}},
        {"inner": {"name": "n", "qty": 0}, "items": []},
        {"inner": {}},
        "body.inner.name",
    ),
    (
        "ms times",
        MTimes,
        {"at": "2024-01-02T03:04:05Z", "day": "2024-01-02", "id": U, "amount": "1.5"},
        None,
        {"at": "x", "day": "2024-01-02", "id": U, "amount": "1.5"},
        "body.at",
    ),
    (
        "dict[str, ms]",
        dict[str, MModel],
        {"k": {"name": "n"}},
        {"k": {"name": "n", "qty": 0}},
        {"k": {}},
        "body.k.name",
    ),
]


# read from the query string when unmarked (documented): these cases use Body()
QUERY_WHEN_UNMARKED = {"Literal", "Enum", "Annotated[int, Ge(0)]", "set[str]"}


def _app(tp: Any, marked: bool) -> Covet:
    app = Covet()

    async def echo(body: Any) -> Any:
        return body

    echo.__annotations__ = {"body": Annotated[tp, Body()] if marked else tp, "return": tp}
    app.post("/echo")(echo)
    return app


PARAMS = [
    pytest.param(tp, good, want, bad, field, marked, id=f"{name}-{'Body' if marked else 'plain'}")
    for name, tp, good, want, bad, field in CASES
    for marked in (True, False)
    if marked or name not in QUERY_WHEN_UNMARKED
]


@pytest.mark.parametrize(("tp", "good", "want", "bad", "field", "marked"), PARAMS)
def test_body_and_return_type(
    tp: Any, good: Any, want: Any, bad: Any, field: str, marked: bool
) -> None:
    app = _app(tp, marked)
    app.build()
    with TestClient(app) as client:
        ok = client.post("/echo", json=good)
        assert ok.status_code == 200, ok.text
        assert ok.json() == (good if want is None else want)
        again = client.post("/echo", json=ok.json())  # the answer is a valid body again
        assert again.status_code == 200, again.text
        assert again.json() == ok.json()
        rejected = client.post("/echo", json=bad)
        assert rejected.status_code == 422, rejected.text
        fields = [d["field"] for d in rejected.json()["details"]]
        assert fields == [field]
    validate(generate_openapi(app))


def test_namedtuple_rejects_wrong_length() -> None:
    app = _app(Point, True)
    with TestClient(app) as client:
        assert client.post("/echo", json=[1]).json() == [1, 0]
        for bad in ([], [1, 2, 3], {"x": 1}):
            resp = client.post("/echo", json=bad)
            assert resp.status_code == 422
            assert resp.json()["details"][0]["field"] == "body"


def test_init_false_field_is_in_the_response_and_the_schema() -> None:
    app = _app(WithInitFalse, True)
    with TestClient(app) as client:
        assert client.post("/echo", json={"name": "Ab", "slug": "ignored"}).json() == {
            "name": "Ab",
            "slug": "ab",
        }
    doc = generate_openapi(app)
    validate(doc)
    schemas = doc["components"]["schemas"]
    out = schemas.get("WithInitFalse-Output") or schemas["WithInitFalse"]
    assert "slug" in out["properties"]


@dataclasses.dataclass
class Unset:
    name: str
    later: str = dataclasses.field(init=False)


def test_init_false_field_never_set_is_left_out() -> None:
    app = Covet()

    @app.get("/unset")
    async def unset() -> Unset:
        return Unset("n")

    with TestClient(app) as client:
        assert client.get("/unset").json() == {"name": "n"}


@dataclasses.dataclass
class Scaled:
    a: int
    scale: dataclasses.InitVar[int] = 1

    def __post_init__(self, scale: int) -> None:
        self.a *= scale


@dataclasses.dataclass
class NeedsSeed:
    a: int
    seed: dataclasses.InitVar[str]

    def __post_init__(self, seed: str) -> None:
        self.a += len(seed)


def test_init_var_is_an_input_field() -> None:
    """InitVar arguments were dropped (and a required one made every request a 422)."""
    app = Covet()

    @app.post("/scaled")
    async def scaled(body: Scaled) -> Scaled:
        return body

    @app.post("/seed")
    async def seed(body: NeedsSeed) -> NeedsSeed:
        return body

    with TestClient(app) as client:
        assert client.post("/scaled", json={"a": 2}).json() == {"a": 2}
        assert client.post("/scaled", json={"a": 2, "scale": 3}).json() == {"a": 6}
        assert client.post("/seed", json={"a": 1, "seed": "abc"}).json() == {"a": 4}
        missing = client.post("/seed", json={"a": 1})
        assert missing.status_code == 422
        assert [d["field"] for d in missing.json()["details"]] == ["body.seed"]
        wrong = client.post("/scaled", json={"a": 1, "scale": "x"})
        assert [d["field"] for d in wrong.json()["details"]] == ["body.scale"]
    doc = generate_openapi(app)
    validate(doc)
    schemas = doc["components"]["schemas"]
    assert schemas["NeedsSeed-Input"]["required"] == ["a", "seed"]
    assert set(schemas["NeedsSeed-Output"]["properties"]) == {"a"}
    assert schemas["Scaled-Input"]["properties"]["scale"] == {"type": "integer", "default": 1}


class MLine(msgspec.Struct):
    by_sku: dict[str, MModel]


class MOrder(msgspec.Struct):
    lines: list[MLine]
    meta: dict[str, dict[str, int]] = {}


def test_msgspec_error_paths_name_dict_keys() -> None:
    """msgspec writes dict entries as ``[...]``; the key that failed is found and named."""
    app = _app(MOrder, False)
    with TestClient(app) as client:
        lines = [{"by_sku": {"A1": {"name": "a"}}}, {"by_sku": {"B1": {"name": "b"}, "B2": {}}}]
        resp = client.post("/echo", json={"lines": lines})
        assert [d["field"] for d in resp.json()["details"]] == ["body.lines[1].by_sku.B2.name"]
        resp = client.post("/echo", json={"lines": [], "meta": {"x": {"ok": 1, "bad": "no"}}})
        assert [d["field"] for d in resp.json()["details"]] == ["body.meta.x.bad"]
        assert resp.json()["details"][0]["value"] == "no"
