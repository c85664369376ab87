"""TypedDict qualifiers under postponed annotations, and parametrised generic models.

Everything goes through a real ``Covet`` app (validation, response filtering) and its
OpenAPI document (checked with ``openapi_spec_validator``), so both sides must agree.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Annotated, Any, Generic, TypedDict, TypeVar

import msgspec
import pydantic
import pytest
import typing_extensions as te
from openapi_spec_validator import validate

from covet import Covet
from covet.exceptions import ImproperlyConfigured
from covet.handlers import MaxLen
from covet.openapi import generate_openapi
from covet.testing import TestClient

T = TypeVar("T")
N = TypeVar("N", bound=int)


class OptTE(TypedDict):
    a: int
    b: te.NotRequired[str]


class OptTyping(TypedDict):
    a: int
    b: typing.NotRequired[str]


class OptExt(te.TypedDict):  # typing_extensions' own TypedDict class
    a: int
    b: te.NotRequired[str]


class TotalFalse(TypedDict, total=False):
    a: te.Required[int]
    b: str


class AnnotatedOuter(TypedDict):
    a: int
    b: Annotated[te.NotRequired[str], MaxLen(3)]


class AnnotatedInner(TypedDict):
    a: int
    b: te.NotRequired[Annotated[str, MaxLen(3)]]


class ReadOnlyOpt(te.TypedDict):
    a: te.ReadOnly[int]
    b: te.ReadOnly[te.NotRequired[str]]


class OptBase(TypedDict, total=False):
    x: int


class OptChild(OptBase):
    a: int
    b: te.NotRequired[str]


@dataclasses.dataclass
class Product:
    name: str
    price: float


@dataclasses.dataclass
class Page(Generic[T]):
    items: list[T]
    total: int


@dataclasses.dataclass
class Wrapped(Generic[T]):
    value: T
    maybe: T | None = None
    by_name: dict[str, T] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class ProductPage(Page[Product]):
    cursor: str | None = None


@dataclasses.dataclass
class Node(Generic[T]):
    value: T
    children: list[Node[T]] = dataclasses.field(default_factory=list)


class Envelope(TypedDict, Generic[T]):
    data: T
    note: te.NotRequired[str]


class Box(Generic[T]):
    content: T
    label: str = "box"


@dataclasses.dataclass
class Bounded(Generic[N]):
    n: N


class PydProduct(pydantic.BaseModel):
    name: str


class PydPage(pydantic.BaseModel, Generic[T]):
    items: list[T]
    total: int


class MsProduct(msgspec.Struct):
    name: str


class MsPage(msgspec.Struct, Generic[T]):
    items: list[T]
    total: int


def _app_for(tp: Any) -> Covet:
    app = Covet()

    async def echo(body: Any) -> Any:
        return body

    echo.__annotations__ = {"body": tp, "return": tp}
    app.post("/echo")(echo)
    return app


def _document(app: Covet) -> dict[str, Any]:
    doc = generate_openapi(app)
    validate(doc)
    return doc


def _component(doc: dict[str, Any], ref_holder: dict[str, Any]) -> dict[str, Any]:
    ref = ref_holder["$ref"].rsplit("/", 1)[-1]
    return doc["components"]["schemas"][ref]


def _request_schema(doc: dict[str, Any]) -> dict[str, Any]:
    body = doc["paths"]["/echo"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return _component(doc, body) if "$ref" in body else body


# --- TypedDict qualifiers --------------------------------------------------------------


@pytest.mark.parametrize("tp", [OptTE, OptTyping, OptExt, OptChild, AnnotatedOuter, AnnotatedInner])
def test_not_required_key_may_be_missing(tp: Any) -> None:
    app = _app_for(tp)
    with TestClient(app) as client:
        assert client.post("/echo", json={"a": 1}).json() == {"a": 1}
        assert client.post("/echo", json={"a": 1, "b": "ok"}).json() == {"a": 1, "b": "ok"}
        missing = client.post("/echo", json={"b": "ok"})
        assert missing.status_code == 422
        assert [d["field"] for d in missing.json()["details"]] == ["body.a"]
    schema = _request_schema(_document(app))
    assert schema["required"] == ["a"]


@pytest.mark.parametrize("tp", [AnnotatedOuter, AnnotatedInner])
def test_annotated_constraints_kept_around_qualifier(tp: Any) -> None:
    app = _app_for(tp)
    with TestClient(app) as client:
        resp = client.post("/echo", json={"a": 1, "b": "toolong"})
        assert resp.status_code == 422
        assert resp.json()["details"][0]["field"] == "body.b"
        assert resp.json()["details"][0]["code"] == "too_long"
    assert _request_schema(_document(app))["properties"]["b"]["maxLength"] == 3


def test_total_false_with_required_key() -> None:
    app = _app_for(TotalFalse)
    with TestClient(app) as client:
        assert client.post("/echo", json={"a": 1}).json() == {"a": 1}
        resp = client.post("/echo", json={"b": "x"})
        assert resp.status_code == 422
        assert resp.json()["details"][0]["field"] == "body.a"
    assert _request_schema(_document(app))["required"] == ["a"]


def test_read_only_qualifier_from_typing_extensions() -> None:
    app = _app_for(ReadOnlyOpt)
    with TestClient(app) as client:
        assert client.post("/echo", json={"a": 1}).json() == {"a": 1}
        resp = client.post("/echo", json={"a": "x"})
        assert resp.status_code == 422
        assert resp.json()["details"][0]["field"] == "body.a"
    schema = _request_schema(_document(app))
    assert schema["required"] == ["a"]
    assert schema["properties"]["b"] == {"type": "string"}


def test_inherited_optional_key_stays_optional() -> None:
    app = _app_for(OptChild)
    with TestClient(app) as client:
        assert client.post("/echo", json={"a": 1, "x": 2}).json() == {"a": 1, "x": 2}


# --- generic models ----------------------------------------------------------------------


def test_generic_dataclass_as_return_type() -> None:
    app = Covet()

    @app.get("/products")
    async def products() -> Page[Product]:
        return Page([Product("pen", 1.5)], 1)

    @app.get("/leaky")
    async def leaky() -> Page[Product]:
        return Page([{"name": "pen", "price": 2.0, "secret": "x"}], 1)  # type: ignore[list-item]

    @app.get("/bad")
    async def bad() -> Page[Product]:
        return Page([{"name": "pen"}], 1)  # type: ignore[list-item]

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/products").json() == {
            "items": [{"name": "pen", "price": 1.5}],
            "total": 1,
        }
        assert client.get("/leaky").json() == {"items": [{"name": "pen", "price": 2.0}], "total": 1}
        assert client.get("/bad").status_code == 500
    doc = _document(app)
    ok = doc["paths"]["/products"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"
    ]
    page = _component(doc, ok)
    assert page["required"] == ["items", "total"]
    assert page["properties"]["items"]["items"]["$ref"].endswith("/Product")


def test_generic_dataclass_as_body() -> None:
    app = _app_for(Page[Product])
    with TestClient(app) as client:
        good = {"items": [{"name": "pen", "price": 1.5}], "total": 1}
        assert client.post("/echo", json=good).json() == good
        resp = client.post("/echo", json={"items": [{"name": "pen", "price": "x"}], "total": 1})
        assert resp.status_code == 422
        assert [d["field"] for d in resp.json()["details"]] == ["body.items[0].price"]
    schema = _request_schema(_document(app))
    assert schema["properties"]["items"]["items"]["$ref"].endswith("/Product")


def test_generic_body_is_built_as_the_class() -> None:
    app = Covet()
    seen: list[Any] = []

    @app.post("/w")
    async def w(body: Wrapped[int]) -> dict[str, Any]:
        seen.append(body)
        return {"value": body.value, "maybe": body.maybe, "by_name": body.by_name}

    with TestClient(app) as client:
        assert client.post("/w", json={"value": 3, "by_name": {"a": 1}}).json() == {
            "value": 3,
            "maybe": None,
            "by_name": {"a": 1},
        }
        resp = client.post("/w", json={"value": "x", "maybe": "y", "by_name": {"a": "z"}})
        assert resp.status_code == 422
        fields = [d["field"] for d in resp.json()["details"]]
        assert fields == ["body.value", "body.maybe", "body.by_name.a"]
    assert type(seen[0]) is Wrapped
    _document(app)


def test_generic_base_bound_by_subclass() -> None:
    app = _app_for(ProductPage)
    with TestClient(app) as client:
        good = {"items": [{"name": "pen", "price": 1.0}], "total": 1, "cursor": "c"}
        assert client.post("/echo", json=good).json() == good
        resp = client.post("/echo", json={"items": [{"name": 5, "price": 1.0}], "total": 1})
        assert [d["field"] for d in resp.json()["details"]] == ["body.items[0].name"]
    schema = _request_schema(_document(app))
    assert schema["properties"]["items"]["items"]["$ref"].endswith("/Product")


@pytest.mark.parametrize(
    ("tp", "good", "bad", "field"),
    [
        (
            Envelope[Product],
            {"data": {"name": "a", "price": 1.0}},
            {"data": {"name": "a"}},
            "body.data.price",
        ),
        (Box[int], {"content": 1, "label": "b"}, {"content": "x"}, "body.content"),
        (Bounded[int], {"n": 1}, {"n": "x"}, "body.n"),
        (
            Page[Wrapped[int]],
            {"items": [{"value": 1, "maybe": None, "by_name": {}}], "total": 1},
            {"items": [{"value": "x"}], "total": 1},
            "body.items[0].value",
        ),
    ],
)
def test_other_generic_structs(
    tp: Any, good: dict[str, Any], bad: dict[str, Any], field: str
) -> None:
    app = _app_for(tp)
    with TestClient(app) as client:
        assert client.post("/echo", json=good).json() == good
        resp = client.post("/echo", json=bad)
        assert resp.status_code == 422
        assert [d["field"] for d in resp.json()["details"]] == [field]
    _document(app)


def test_unparametrised_generic_reads_type_variable_as_any() -> None:
    app = _app_for(Page)
    with TestClient(app) as client:
        good = {"items": [1, "two", {"three": 3}], "total": 3}
        assert client.post("/echo", json=good).json() == good
    _document(app)


@pytest.mark.parametrize(
    ("tp", "item"),
    [(PydPage[PydProduct], PydProduct), (MsPage[MsProduct], MsProduct)],
)
def test_foreign_generic_models(tp: Any, item: Any) -> None:
    app = _app_for(tp)
    with TestClient(app) as client:
        good = {"items": [{"name": "a"}], "total": 1}
        assert client.post("/echo", json=good).json() == good
        resp = client.post("/echo", json={"items": [{"name": 1}], "total": 1})
        assert resp.status_code == 422
        assert [d["field"] for d in resp.json()["details"]] == ["body.items[0].name"]
    _document(app)


# --- unresolvable annotations ------------------------------------------------------------


def test_local_class_error_names_the_type() -> None:
    @dataclasses.dataclass
    class LocalInner:
        x: int

    @dataclasses.dataclass
    class LocalOuter:
        inner: LocalInner

    app = _app_for(LocalOuter)
    with pytest.raises(ImproperlyConfigured) as info:
        app.build()
    message = str(info.value)
    assert "LocalOuter" in message
    assert "LocalInner" in message
    assert "module level" in message


# --- response filtering of nested values ---------------------------------------------------


@dataclasses.dataclass
class Owner:
    name: str


@dataclasses.dataclass
class OwnerWithSecret(Owner):
    password: str = "hunter2"


@dataclasses.dataclass
class Account:
    owner: Owner
    members: list[Owner]
    by_role: dict[str, Owner]


def test_dataclass_response_filters_nested_values() -> None:
    """A returned dataclass is copied out, but nested values are still filtered."""
    app = Covet()

    @app.get("/account")
    async def account() -> Account:
        secret = OwnerWithSecret("ann")
        leak = {"name": "bob", "password": "x"}
        return Account(secret, [secret, leak], {"admin": leak})  # type: ignore[list-item,dict-item]

    @app.get("/wrong")
    async def wrong() -> Account:
        return Account(Owner("ann"), [{"nom": "x"}], {})  # type: ignore[list-item]

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/account").json() == {
            "owner": {"name": "ann"},
            "members": [{"name": "ann"}, {"name": "bob"}],
            "by_role": {"admin": {"name": "bob"}},
        }
        assert b"password" not in client.get("/account").content
        assert client.get("/wrong").status_code == 500


def test_local_class_in_handler_signature_error_names_the_type() -> None:
    @dataclasses.dataclass
    class LocalBody:
        x: int

    app = Covet()

    @app.post("/local")
    async def local(body: LocalBody) -> None:
        return None

    with pytest.raises(ImproperlyConfigured) as info:
        app.build()
    message = str(info.value)
    assert "LocalBody" in message
    assert "module level" in message


# --- foreign models inside stdlib response models ----------------------------------------


@dataclasses.dataclass
class Mixed:
    pyd: list[PydProduct]
    ms: list[MsProduct]


def test_foreign_models_nested_in_a_dataclass_response() -> None:
    """msgspec Structs inside a stdlib model used to fail to encode (500)."""
    app = Covet()

    @app.get("/mixed")
    async def mixed() -> Mixed:
        return Mixed(
            [PydProduct(name="a"), {"name": "b", "secret": 1}],  # type: ignore[list-item]
            [MsProduct(name="c"), {"name": "d", "secret": 1}],  # type: ignore[list-item]
        )

    with TestClient(app) as client:
        assert client.get("/mixed").json() == {
            "pyd": [{"name": "a"}, {"name": "b"}],
            "ms": [{"name": "c"}, {"name": "d"}],
        }
    _document(app)


@pytest.mark.parametrize("item", [PydProduct, MsProduct])
def test_generic_stdlib_page_of_foreign_models_filters_items(item: Any) -> None:
    """Page[Model] went to the model system, which passed the dataclass's items unchecked."""
    app = Covet()

    async def page() -> Any:
        return Page([{"name": "a", "secret": "s"}], 1)

    page.__annotations__ = {"return": Page[item]}
    app.get("/page")(page)

    async def wrong() -> Any:
        return Page([{"nom": "a"}], 1)

    wrong.__annotations__ = {"return": Page[item]}
    app.get("/wrong")(wrong)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/page").json() == {"items": [{"name": "a"}], "total": 1}
        assert client.get("/wrong").status_code == 500
    _document(app)


def test_recursive_generic_dataclass() -> None:
    app = _app_for(Node[int])
    with TestClient(app) as client:
        good = {"value": 1, "children": [{"value": 2, "children": []}]}
        assert client.post("/echo", json={"value": 1, "children": [{"value": 2}]}).json() == good
        resp = client.post("/echo", json={"value": 1, "children": [{"value": "x"}]})
        assert [d["field"] for d in resp.json()["details"]] == ["body.children[0].value"]
    schema = _request_schema(_document(app))
    assert schema["properties"]["value"] == {"type": "integer"}
