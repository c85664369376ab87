"""inspect_route: the endpoint description OpenAPI is generated from."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from handlers_support import FakeApp, route

from covet.handlers import (
    Body,
    Cookie,
    Depends,
    File,
    Form,
    Header,
    Path,
    Query,
    Security,
    inspect_route,
)
from covet.http.datastructures import UploadFile


@dataclasses.dataclass
class Item:
    name: str


@dataclasses.dataclass
class ItemOut:
    id: int


class Bearer:
    """Looks like a covet.security scheme object."""

    security_scheme = {"type": "http", "scheme": "bearer"}
    scheme_name = "bearer"
    auto_error = True

    async def __call__(self, authorization: str | None = Header(None)) -> str | None:
        return authorization


bearer = Bearer()


async def current_user(token: str | None = Depends(bearer), tenant: str = Header("t")) -> str:
    return token or ""


async def paging(page: int = Query(1, ge=1, description="page number")) -> int:
    return page


async def endpoint(
    item_id: Annotated[int, Path(description="the id")],
    item: Item,
    q: Annotated[str | None, Query(max_length=5, deprecated=True, examples=["a"])] = None,
    sid: str = Cookie(include_in_schema=False),
    page: int = Depends(paging),
    user: str = Security(current_user, scopes=["items:write"]),
) -> ItemOut:
    """Update an item.

    Longer description here.
    """
    return ItemOut(1)


def test_parameters_including_dependencies() -> None:
    spec = inspect_route(route(endpoint, "/items/{item_id:int}", methods=frozenset({"PUT"})), FakeApp())
    by_name = {p.name: p for p in spec.params}
    assert set(by_name) == {"item_id", "q", "sid", "page", "authorization", "tenant"}
    assert by_name["item_id"].location == "path" and by_name["item_id"].required
    assert by_name["item_id"].default is ...
    assert by_name["item_id"].description == "the id"
    q = by_name["q"]
    assert (q.location, q.required, q.default, q.deprecated, q.examples) == ("query", False, None, True, ["a"])
    assert q.constraints == {"max_length": 5}
    assert by_name["sid"].include_in_schema is False and by_name["sid"].location == "cookie"
    assert by_name["page"].constraints == {"ge": 1} and by_name["page"].description == "page number"
    assert by_name["tenant"].alias == "tenant" and by_name["tenant"].default == "t"


def test_body_response_and_docs() -> None:
    spec = inspect_route(route(endpoint, "/items/{item_id:int}", methods=frozenset({"PUT"})), FakeApp())
    assert spec.body is not None and spec.body.annotation is Item and spec.body.media_type == "application/json"
    assert spec.body.required and not spec.body.embed
    assert spec.response_model is ItemOut
    assert spec.status_code == 200
    assert spec.summary == "Update an item."
    assert spec.description == "Longer description here."
    assert spec.methods == ["PUT"]


def test_security_collected_with_scopes() -> None:
    spec = inspect_route(route(endpoint, "/items/{item_id:int}"), FakeApp())
    assert len(spec.security) == 1
    sec = spec.security[0]
    assert (sec.scheme_name, sec.scheme, sec.scopes, sec.auto_error) == (
        "bearer", {"type": "http", "scheme": "bearer"}, ["items:write"], True
    )


def test_route_metadata_wins_over_docstring() -> None:
    r = route(endpoint, "/items/{item_id:int}", summary="S", description="D", tags=["t"], deprecated=True,
              operation_id="op", status_code=201)
    spec = inspect_route(r, FakeApp())
    assert (spec.summary, spec.description, spec.tags, spec.deprecated, spec.operation_id, spec.status_code) == (
        "S", "D", ["t"], True, "op", 201
    )


def test_embedded_and_form_bodies() -> None:
    async def emb(a: Item, b: int = Body(gt=0)) -> None:
        return None

    spec = inspect_route(route(emb, "/", methods=frozenset({"POST"})), FakeApp())
    assert spec.body is not None and spec.body.embed
    assert [(f.name, f.location, f.constraints) for f in spec.body.fields] == [("a", "body", {}), ("b", "body", {"gt": 0})]
    assert spec.response_model is None

    async def form(name: str = Form(), f: UploadFile = File()) -> dict[str, Any]:
        return {}

    spec = inspect_route(route(form, "/", methods=frozenset({"POST"})), FakeApp())
    assert spec.body is not None and spec.body.media_type == "multipart/form-data"
    assert [f.location for f in spec.body.fields] == ["form", "file"]

    async def urlenc(name: str = Form()) -> dict[str, Any]:
        return {}

    spec = inspect_route(route(urlenc, "/", methods=frozenset({"POST"})), FakeApp())
    assert spec.body is not None and spec.body.media_type == "application/x-www-form-urlencoded"


def test_app_level_dependencies_contribute_parameters() -> None:
    async def api_key(x_api_key: str = Header()) -> None:
        return None

    async def f() -> None:
        return None

    spec = inspect_route(route(f), FakeApp(dependencies=[Depends(api_key)]))
    assert [(p.alias, p.location) for p in spec.params] == [("x-api-key", "header")]


def test_summary_defaults_to_the_function_name() -> None:
    async def list_all_items() -> None:
        return None

    assert inspect_route(route(list_all_items), FakeApp()).summary == "List all items"
