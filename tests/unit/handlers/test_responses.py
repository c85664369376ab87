"""Return values: response models filter and validate, Responses pass through, status codes."""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from typing import Any, TypedDict

import msgspec
import pydantic
import pytest
from handlers_support import FakeApp, call, route, run

from covet.handlers import ResponseValidationError, compile_route
from covet.http.response import HTMLResponse, PlainTextResponse, Response


@dataclasses.dataclass
class UserOut:
    id: int
    name: str


@dataclasses.dataclass
class UserDB:
    id: int
    name: str
    password: str


class UserTD(TypedDict):
    id: int
    name: str


class UserP(pydantic.BaseModel):
    id: int
    name: str


class UserM(msgspec.Struct):
    id: int
    name: str


class OrmUser:
    """Schema-protocol model: validates dicts, serialises with to_dict()."""

    def __init__(self, id: int, name: str) -> None:
        self.id, self.name = id, name

    @classmethod
    def __covet_validate__(cls, data: Any, loc: str) -> OrmUser:
        return cls(int(data["id"]), str(data["name"]))

    @classmethod
    def __covet_json_schema__(cls) -> dict[str, Any]:
        return {"type": "object"}

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name}


LEAKY = {"id": 1, "name": "ann", "password": "hunter2"}


@pytest.mark.parametrize("model", [UserOut, UserTD, UserP, UserM])
async def test_return_annotation_filters_extra_fields(model: type) -> None:
    async def f() -> Any:
        return LEAKY

    f.__annotations__["return"] = model
    r = await run(f)
    assert r.json() == {"id": 1, "name": "ann"}


async def test_response_model_filters_objects_and_dataclasses() -> None:
    async def f() -> UserOut:
        return UserDB(1, "ann", "hunter2")  # type: ignore[return-value]

    assert (await run(f)).json() == {"id": 1, "name": "ann"}

    async def g() -> list[UserOut]:
        return [UserDB(1, "a", "x"), {"id": 2, "name": "b", "password": "y"}]  # type: ignore[list-item]

    assert (await run(g)).json() == [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]


async def test_explicit_response_model_wins_and_none_disables() -> None:
    async def f() -> dict[str, Any]:
        return LEAKY

    assert (await run(f, response_model=UserOut)).json() == {"id": 1, "name": "ann"}

    async def g() -> UserOut:
        return LEAKY  # type: ignore[return-value]

    assert (await run(g, response_model=None)).json() == LEAKY


async def test_protocol_response_model() -> None:
    async def f() -> OrmUser:
        return {"id": "3", "name": "x", "password": "p"}  # type: ignore[return-value]

    assert (await run(f)).json() == {"id": 3, "name": "x"}


async def test_invalid_return_value_is_a_server_error() -> None:
    async def f() -> UserOut:
        return {"id": "not-an-int"}  # type: ignore[return-value]

    compiled = compile_route(route(f), FakeApp())
    with pytest.raises(ResponseValidationError) as info:
        await call(compiled)
    assert {d["field"] for d in info.value.details} == {"response.id", "response.name"}

    async def g() -> UserP:
        return {"id": "x"}  # type: ignore[return-value]

    with pytest.raises(ResponseValidationError):
        await call(compile_route(route(g), FakeApp()))


async def test_status_codes_and_no_content() -> None:
    async def created() -> dict[str, int]:
        return {"a": 1}

    assert (await run(created, status_code=201)).status == 201

    async def nothing() -> None:
        return None

    r = await run(nothing, status_code=204)
    assert r.status == 204 and r.body == b""
    r = await run(nothing)
    assert r.status == 200 and r.body == b"null"


async def test_responses_pass_through() -> None:
    async def f() -> Response:
        return PlainTextResponse("hi", status_code=202)

    r = await run(f, status_code=201)
    assert r.status == 202 and r.body == b"hi"


async def test_response_passes_through_a_response_model() -> None:
    async def f(raw: bool = False) -> UserOut:
        if raw:
            return PlainTextResponse("raw")  # type: ignore[return-value]
        return UserOut(1, "a")

    assert (await run(f, query="raw=1")).body == b"raw"
    assert (await run(f)).json() == {"id": 1, "name": "a"}


async def test_response_class_wraps_plain_returns() -> None:
    async def f() -> str:
        return "<b>x</b>"

    r = await run(f, response_class=HTMLResponse)
    assert r.body == b"<b>x</b>" and r.headers["content-type"].startswith("text/html")


async def test_rich_values_are_serialised() -> None:
    uid = uuid.UUID(int=1)

    async def f() -> dict[str, Any]:
        return {"when": datetime.date(2024, 1, 2), "id": uid, "m": UserM(1, "x"), "p": UserP(id=2, name="y")}

    assert (await run(f)).json() == {
        "when": "2024-01-02",
        "id": str(uid),
        "m": {"id": 1, "name": "x"},
        "p": {"id": 2, "name": "y"},
    }

    async def g():  # no annotation: foreign objects are still encoded
        return UserM(3, "z")

    assert (await run(g)).json() == {"id": 3, "name": "z"}


async def test_sync_endpoint_and_optional_model() -> None:
    def f(flag: bool = False) -> UserOut | None:
        return UserOut(1, "a") if flag else None

    assert (await run(f, query="flag=true")).json() == {"id": 1, "name": "a"}
    assert (await run(f)).body == b"null"


async def test_injected_response_sets_cookies_headers_and_status() -> None:
    async def login(response: Response, remember: bool = False) -> dict[str, bool]:
        response.set_cookie("sid", "abc")
        response.headers["x-extra"] = "1"
        if remember:
            response.status_code = 201
        return {"ok": True}

    r = await run(login)
    assert r.status == 200 and r.json() == {"ok": True}
    assert r.headers["set-cookie"].startswith("sid=abc") and r.headers["x-extra"] == "1"
    assert r.headers["content-type"] == "application/json"
    assert (await run(login, query="remember=1")).status == 201


async def test_injected_response_merges_into_returned_response_and_no_body_status() -> None:
    async def f(response: Response, raw: bool = False) -> Any:
        response.headers["x-trace"] = "t"
        if raw:
            return PlainTextResponse("hi", status_code=202)
        response.status_code = 204
        return {"ignored": True}

    r = await run(f, query="raw=1")
    assert (r.status, r.body, r.headers["x-trace"]) == (202, b"hi", "t")
    r = await run(f)
    assert (r.status, r.body, r.headers["x-trace"]) == (204, b"", "t")
    assert "content-length" not in r.headers


def test_injected_response_is_not_available_on_websockets() -> None:
    from covet.exceptions import ImproperlyConfigured
    from covet.handlers import compile_websocket_route

    async def ws(response: Response) -> None:
        return None

    with pytest.raises(ImproperlyConfigured, match="not available on websocket"):
        compile_websocket_route(route(ws, "/ws"), FakeApp())


class UserPDB(UserP):
    password: str


class UserMDB(UserM):
    password: str


@dataclasses.dataclass
class UserOutDB(UserOut):
    password: str = ""


@pytest.mark.parametrize(
    ("model", "value"),
    [
        (UserP, UserPDB(id=1, name="ann", password="x")),
        (UserM, UserMDB(1, "ann", "x")),
        (UserOut, UserOutDB(1, "ann", "x")),
    ],
)
async def test_subclass_instances_do_not_leak_extra_fields(model: type, value: Any) -> None:
    async def f() -> Any:
        return value

    f.__annotations__["return"] = model
    assert (await run(f)).json() == {"id": 1, "name": "ann"}
