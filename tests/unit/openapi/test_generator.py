"""generate_openapi on small apps: paths, parameters, bodies, responses, ids, security."""

from __future__ import annotations

import dataclasses
import uuid
from types import SimpleNamespace
from typing import Annotated, Any

import pytest
from openapi_spec_validator import validate

from covet import Body, Covet, Depends, File, Form, Header, Query, Router, Security
from covet.exceptions import ImproperlyConfigured
from covet.handlers.params import Cookie
from covet.http import HTMLResponse, Response, UploadFile
from covet.openapi import generate_openapi, openapi_path
from covet.openapi.generator import _security
from covet.security import (
    APIKeyQuery,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
)


@dataclasses.dataclass
class Item:
    name: str
    price: float


def document(app: Covet) -> dict[str, Any]:
    doc = generate_openapi(app)
    validate(doc)
    return doc


def test_openapi_path_strips_convertors() -> None:
    assert (
        openapi_path("/users/{user_id:int}/files/{name}.{ext:str}")
        == "/users/{user_id}/files/{name}.{ext}"
    )


def test_info_servers_tags_and_empty_app() -> None:
    app = Covet(
        title="T <x>",
        version="2.0",
        description="About",
        servers=[{"url": "https://api.example.com"}],
        openapi_tags=[{"name": "b", "description": "Bee"}],
    )

    @app.get("/a", tags=["c", "a"])
    async def a() -> dict[str, int]:
        return {}

    doc = document(app)
    assert doc["openapi"] == "3.1.0"
    assert doc["info"] == {"title": "T <x>", "version": "2.0", "description": "About"}
    assert doc["servers"] == [{"url": "https://api.example.com"}]
    assert doc["tags"] == [{"name": "b", "description": "Bee"}, {"name": "a"}, {"name": "c"}]
    op = doc["paths"]["/a"]["get"]
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "object",
        "additionalProperties": {"type": "integer"},
    }
    assert "422" not in op["responses"]  # nothing to validate
    empty = document(Covet())
    assert empty["paths"] == {} and "components" not in empty


def test_path_parameters_typed_by_convertor() -> None:
    app = Covet()

    @app.get("/n/{a:int}/{b:float}/{c:uuid}/{d:slug}/{e}/{f:path}")
    async def many(a: int, b: float, c: uuid.UUID, d: str, e: int, f: str) -> None:
        return None

    doc = document(app)
    params = {p["name"]: p for p in doc["paths"]["/n/{a}/{b}/{c}/{d}/{e}/{f}"]["get"]["parameters"]}
    assert [p["in"] for p in params.values()] == ["path"] * 6
    assert all(p["required"] for p in params.values())
    assert params["a"]["schema"] == {"type": "integer", "minimum": 0}
    assert params["b"]["schema"] == {"type": "number", "minimum": 0}
    assert params["c"]["schema"] == {"type": "string", "format": "uuid"}
    assert params["d"]["schema"] == {"type": "string", "pattern": "^(?:[-a-zA-Z0-9_]+)$"}
    assert params["e"]["schema"] == {"type": "integer"}  # {e} is str: the annotation decides
    assert params["f"]["schema"] == {"type": "string"}


def test_query_header_cookie_parameters() -> None:
    app = Covet()

    @app.get("/search")
    async def search(
        q: Annotated[str, Query(min_length=2, description="Text")],
        tags: Annotated[list[str], Query()] = [],  # noqa: B006
        page: Annotated[int, Query(ge=1)] = 1,
        old: Annotated[str | None, Query(deprecated=True)] = None,
        hidden: Annotated[str | None, Query(include_in_schema=False)] = None,
        x_trace: Annotated[str | None, Header()] = None,
        session: Annotated[str | None, Cookie()] = None,
    ) -> list[Item]:
        return []

    doc = document(app)
    op = doc["paths"]["/search"]["get"]
    params = {(p["in"], p["name"]): p for p in op["parameters"]}
    assert set(params) == {
        ("query", "q"),
        ("query", "tags"),
        ("query", "page"),
        ("query", "old"),
        ("header", "x-trace"),
        ("cookie", "session"),
    }
    assert params["query", "q"] == {
        "name": "q",
        "in": "query",
        "required": True,
        "schema": {"type": "string", "minLength": 2},
        "description": "Text",
    }
    assert params["query", "tags"]["style"] == "form" and params["query", "tags"]["explode"] is True
    assert params["query", "page"]["schema"] == {"type": "integer", "minimum": 1, "default": 1}
    assert params["query", "old"]["deprecated"] is True
    assert params["query", "old"]["schema"] == {"type": "string"}  # null dropped for parameters
    assert op["responses"]["200"]["content"]["application/json"]["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Item"},
    }
    assert op["responses"]["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ValidationErrorResponse"
    }
    detail = doc["components"]["schemas"]["ValidationErrorDetail"]
    assert detail["required"] == ["field", "message", "code"]


def test_parameters_from_dependencies_are_listed() -> None:
    app = Covet()

    async def paging(limit: Annotated[int, Query(le=50)] = 10) -> int:
        return limit

    @app.get("/things")
    async def things(limit: int = Depends(paging)) -> list[int]:
        return []

    doc = document(app)
    (param,) = doc["paths"]["/things"]["get"]["parameters"]
    assert param["name"] == "limit" and param["schema"]["maximum"] == 50


def test_json_form_and_multipart_bodies() -> None:
    app = Covet()

    @app.post("/items", status_code=201)
    async def create(item: Item) -> Item:
        return item

    @app.post("/login")
    async def login(
        username: Annotated[str, Form()], password: Annotated[str, Form()]
    ) -> dict[str, str]:
        return {}

    @app.post("/upload")
    async def upload(
        files: Annotated[list[UploadFile], File()],
        raw: Annotated[bytes, File()],
        note: Annotated[str, Form()] = "",
    ) -> dict[str, int]:
        return {}

    doc = document(app)
    create_op = doc["paths"]["/items"]["post"]
    assert create_op["requestBody"] == {
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
        "required": True,
    }
    assert sorted(create_op["responses"]) == ["201", "400", "422"]
    assert create_op["responses"]["201"]["description"] == "Created"
    form = doc["paths"]["/login"]["post"]["requestBody"]["content"]
    assert list(form) == ["application/x-www-form-urlencoded"]
    assert form["application/x-www-form-urlencoded"]["schema"]["required"] == [
        "username",
        "password",
    ]
    multipart = doc["paths"]["/upload"]["post"]["requestBody"]["content"]["multipart/form-data"][
        "schema"
    ]
    assert multipart["properties"]["files"] == {
        "type": "array",
        "items": {"type": "string", "format": "binary"},
    }
    assert multipart["properties"]["raw"] == {"type": "string", "format": "binary"}
    assert multipart["properties"]["note"] == {"type": "string", "default": ""}


def test_operation_ids_methods_and_visibility() -> None:
    app = Covet()
    sub = Router(prefix="/v2")

    @app.route("/both", methods=["GET", "POST"])
    async def both() -> dict[str, str]:
        return {}

    @app.get("/dup")
    async def thing() -> None:
        return None

    @sub.get("/dup")
    async def thing_v2() -> None:
        return None

    @app.get("/custom", operation_id="myOp", deprecated=True, summary="S", description="D")
    async def custom() -> None:
        return None

    @app.get("/hidden", include_in_schema=False)
    async def hidden() -> None:
        return None

    @app.head("/probe")
    async def probe() -> Response:
        return Response(b"")

    @app.get("/page", response_class=HTMLResponse)
    async def page() -> HTMLResponse:
        return HTMLResponse("<p>")

    sub.add_route("/again", thing, methods=["GET"])
    app.include_router(sub)
    app.mount("/static", Response(b"static"))
    doc = document(app)
    paths = doc["paths"]
    assert set(paths["/both"]) == {"get", "post"}  # no HEAD for GET routes
    assert paths["/both"]["get"]["operationId"] == "both_get"
    assert paths["/both"]["post"]["operationId"] == "both_post"
    assert paths["/dup"]["get"]["operationId"] == "thing"
    assert paths["/v2/dup"]["get"]["operationId"] == "thing_v2"
    assert paths["/v2/again"]["get"]["operationId"] == "thing_2"  # deduplicated in route order
    custom_op = paths["/custom"]["get"]
    assert (custom_op["operationId"], custom_op["summary"], custom_op["description"]) == (
        "myOp",
        "S",
        "D",
    )
    assert custom_op["deprecated"] is True
    assert "/hidden" not in paths and "/static/{path}" not in paths
    assert list(paths["/probe"]) == ["head"]
    assert "content" not in paths["/probe"]["head"]["responses"]["200"]
    assert paths["/page"]["get"]["responses"]["200"]["content"] == {
        "text/html": {"schema": {"type": "string"}}
    }
    assert "/openapi.json" not in paths and "/docs" not in paths
    assert generate_openapi(app) == doc  # deterministic


def test_user_responses_and_openapi_extra() -> None:
    app = Covet()

    @dataclasses.dataclass
    class Gone:
        reason: str

    @app.get(
        "/x/{x_id:int}",
        responses={
            404: {"description": "Missing"},
            410: {"model": Gone},
            "default": {"description": "Other"},
        },
        openapi_extra={"x-internal": True, "responses": {"404": {"x-note": "n"}}},
    )
    async def get_x(x_id: int) -> Item:
        return Item("a", 1)

    doc = document(app)
    responses = doc["paths"]["/x/{x_id}"]["get"]["responses"]
    assert list(responses) == ["200", "404", "410", "422", "default"]
    assert responses["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorResponse"
    }
    assert responses["404"]["x-note"] == "n"
    assert responses["410"] == {
        "description": "Gone",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Gone"}}},
    }
    assert responses["default"] == {"description": "Other"}
    assert doc["paths"]["/x/{x_id}"]["get"]["x-internal"] is True
    app2 = Covet()
    app2.add_route("/bad", get_x, responses={404: "not a mapping"})
    with pytest.raises(ImproperlyConfigured):
        generate_openapi(app2)


def test_security_requirements_and_schemes() -> None:
    app = Covet()
    bearer = HTTPBearer(bearer_format="JWT")
    basic = HTTPBasic(scheme_name="basicAuth")
    key = APIKeyQuery(name="api_key")
    oauth2 = OAuth2PasswordBearer("/token", scopes={"read": "Read", "write": "Write"})

    @app.get("/a")
    async def a(creds: Any = Depends(bearer)) -> None:
        return None

    async def admin(
        credentials: HTTPBasicCredentials = Depends(basic), k: str = Security(key)
    ) -> str:
        return credentials.username

    @app.get("/b")
    async def b(user: str = Depends(admin)) -> None:
        return None

    @app.get("/c")
    async def c(token: str = Security(oauth2, scopes=["read", "write"])) -> None:
        return None

    doc = document(app)
    assert doc["paths"]["/a"]["get"]["security"] == [{"HTTPBearer": []}]
    assert doc["paths"]["/b"]["get"]["security"] == [{"basicAuth": [], "APIKeyQuery": []}]
    assert doc["paths"]["/c"]["get"]["security"] == [{"OAuth2PasswordBearer": ["read", "write"]}]
    assert "401" in doc["paths"]["/a"]["get"]["responses"]
    schemes = doc["components"]["securitySchemes"]
    assert list(schemes) == ["APIKeyQuery", "HTTPBearer", "OAuth2PasswordBearer", "basicAuth"]
    assert schemes["HTTPBearer"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["APIKeyQuery"] == {"type": "apiKey", "name": "api_key", "in": "query"}
    assert schemes["OAuth2PasswordBearer"]["flows"]["password"]["scopes"] == {
        "read": "Read",
        "write": "Write",
    }


def test_security_optional_schemes_and_conflicts() -> None:
    def entry(name: str, auto_error: bool = True, scheme: dict[str, Any] | None = None) -> Any:
        return SimpleNamespace(
            scheme_name=name,
            scheme=scheme or {"type": "http", "scheme": "bearer"},
            scopes=[],
            auto_error=auto_error,
        )

    schemes: dict[str, Any] = {}
    assert _security(SimpleNamespace(security=[entry("a", False), entry("b", False)]), schemes) == [
        {"a": []},
        {"b": []},
        {},
    ]
    assert _security(SimpleNamespace(security=[entry("a"), entry("b", False)]), schemes) == [
        {"a": [], "b": []},
        {"a": []},
    ]
    with pytest.raises(ImproperlyConfigured, match="both named 'a'"):
        _security(
            SimpleNamespace(security=[entry("a", scheme={"type": "http", "scheme": "basic"})]),
            schemes,
        )


def test_optional_security_dependency_in_an_app() -> None:
    app = Covet()
    maybe_bearer = HTTPBearer(auto_error=False)

    @app.get("/feed")
    async def feed(creds: Any = Depends(maybe_bearer)) -> dict[str, bool]:
        return {"personal": creds is not None}

    doc = document(app)
    op = doc["paths"]["/feed"]["get"]
    assert op["security"] == [{"HTTPBearer": []}, {}]
    assert "401" not in op["responses"]  # anonymous access is allowed


def test_route_options_are_not_mutated_by_generation() -> None:
    app = Covet()
    responses = {
        404: {"description": "Missing", "content": {"text/plain": {"schema": {"type": "string"}}}}
    }
    extra = {"responses": {"404": {"x-a": {"b": 1}}}}

    @app.get("/r", responses=responses, openapi_extra=extra)
    async def r() -> None:
        return None

    document(app)
    doc = document(app)
    assert responses == {
        404: {"description": "Missing", "content": {"text/plain": {"schema": {"type": "string"}}}}
    }
    assert extra == {"responses": {"404": {"x-a": {"b": 1}}}}
    doc["paths"]["/r"]["get"]["responses"]["404"]["x-a"]["b"] = 2
    assert extra["responses"]["404"]["x-a"] == {"b": 1}


class Opaque:
    """No annotations: serialised through ``to_dict()``."""

    def to_dict(self) -> dict[str, int]:
        return {"a": 1}


def test_undescribable_types() -> None:
    app = Covet()

    @app.get("/opaque")
    async def opaque() -> Opaque:
        return Opaque()

    doc = document(app)
    assert (
        doc["paths"]["/opaque"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        == {}
    )

    bad = Covet()

    @bad.get("/bad", responses={404: {"model": Opaque}})
    async def bad_route() -> None:
        return None

    with pytest.raises(ImproperlyConfigured, match=r"cannot describe Route\('/bad'"):
        generate_openapi(bad)


def test_several_json_bodies_become_one_object() -> None:
    app = Covet()

    @app.put("/pair")
    async def pair(
        item: Item, note: Annotated[str, Body(max_length=10)], count: Annotated[int, Body()] = 1
    ) -> None:
        return None

    doc = document(app)
    body = doc["paths"]["/pair"]["put"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert schema["properties"]["item"] == {"$ref": "#/components/schemas/Item"}
    assert schema["properties"]["note"] == {"type": "string", "maxLength": 10}
    assert schema["properties"]["count"] == {"type": "integer", "default": 1}
    assert schema["required"] == ["item", "note"]
    assert body["required"] is True
