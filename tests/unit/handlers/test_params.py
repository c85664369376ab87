"""Path, query, header and cookie parameters through compiled endpoints."""

from __future__ import annotations

import enum
import uuid
from typing import Annotated, Literal

import pytest
from handlers_support import FakeApp, call, route, run

from covet.exceptions import ImproperlyConfigured
from covet.handlers import Cookie, Header, Path, Query, compile_route


class Sort(enum.Enum):
    ASC = "asc"
    DESC = "desc"


async def test_no_params_sync_and_async() -> None:
    async def a() -> dict[str, int]:
        return {"a": 1}

    def s() -> list[int]:
        return [1, 2]

    assert (await run(a)).json() == {"a": 1}
    r = await run(s)
    assert r.status == 200 and r.json() == [1, 2]
    assert r.headers["content-type"] == "application/json"


async def test_path_params_from_scope() -> None:
    async def get(user_id: int, slug: str) -> dict[str, object]:
        return {"id": user_id, "slug": slug}

    r = await run(get, "/u/{user_id:int}/{slug}", path_params={"user_id": 3, "slug": "x"})
    assert r.json() == {"id": 3, "slug": "x"}


async def test_path_param_validated_when_convertor_is_str() -> None:
    async def get(item_id: Annotated[int, Path(ge=1)]) -> dict[str, int]:
        return {"id": item_id}

    r = await run(get, "/i/{item_id}", path_params={"item_id": "7"})
    assert r.json() == {"id": 7}
    r = await run(get, "/i/{item_id}", path_params={"item_id": "0"})
    assert r.status == 422 and r.details[0]["field"] == "path.item_id"
    r = await run(get, "/i/{item_id}", path_params={"item_id": "abc"})
    assert r.details[0] == {"field": "path.item_id", "message": "Expected an integer", "code": "type_error", "value": "abc"}


async def test_query_scalars_defaults_and_coercion() -> None:
    async def search(q: str, limit: int = 10, exact: bool = False, sort: Sort = Sort.ASC, tid: uuid.UUID | None = None):
        return {"q": q, "limit": limit, "exact": exact, "sort": sort.value, "tid": str(tid) if tid else None}

    r = await run(search, query="q=abc&limit=5&exact=yes&sort=desc")
    assert r.json() == {"q": "abc", "limit": 5, "exact": True, "sort": "desc", "tid": None}
    r = await run(search, query="q=a%20b+c&limit=1")
    assert r.json()["q"] == "a b c"
    r = await run(search, query="q=caf%C3%A9")
    assert r.json()["q"] == "café"


async def test_query_errors_are_all_collected() -> None:
    async def search(q: Annotated[str, Query(max_length=3)], limit: Annotated[int, Query(gt=0, le=100)] = 10,
                     sort: Sort = Sort.ASC, exact: bool = False):
        return {}

    r = await run(search, query="q=toolong&limit=1000&sort=up&exact=maybe")
    assert r.status == 422
    assert {(d["field"], d["code"]) for d in r.details} == {
        ("query.q", "too_long"),
        ("query.limit", "too_large"),
        ("query.sort", "enum"),
        ("query.exact", "type_error"),
    }
    r = await run(search, query="")
    assert r.details == [{"field": "query.q", "message": "Field required", "code": "missing"}]


async def test_query_list_and_alias() -> None:
    async def tags(tag: list[str], item_query: Annotated[str | None, Query(alias="item-query")] = None,
                   ids: Annotated[list[int], Query()] = []):  # noqa: B006
        return {"tag": tag, "q": item_query, "ids": ids}

    r = await run(tags, query="tag=a&tag=b&item-query=x&ids=1&ids=2")
    assert r.json() == {"tag": ["a", "b"], "q": "x", "ids": [1, 2]}
    r = await run(tags, query="tag=a&ids=1&ids=x")
    assert r.details[0]["field"] == "query.ids[1]"


async def test_marker_as_default_value() -> None:
    async def f(q: str | None = Query(None, max_length=5), n: int = Query(3, ge=0)):
        return {"q": q, "n": n}

    assert (await run(f)).json() == {"q": None, "n": 3}
    r = await run(f, query="q=123456&n=-1")
    assert {d["code"] for d in r.details} == {"too_long", "too_small"}


async def test_literal_query() -> None:
    async def f(mode: Literal["fast", "slow"] = "fast"):
        return {"mode": mode}

    assert (await run(f, query="mode=slow")).json() == {"mode": "slow"}
    assert (await run(f, query="mode=x")).details[0]["code"] == "enum"


async def test_headers_convert_underscores_and_cookies() -> None:
    async def f(x_token: Annotated[str, Header()], user_agent: str | None = Header(None),
                raw_name: str | None = Header(None, convert_underscores=False),
                sid: str = Cookie(), theme: str = Cookie("light")):
        return {"token": x_token, "ua": user_agent, "raw": raw_name, "sid": sid, "theme": theme}

    r = await run(f, headers=[("X-Token", "t"), ("User-Agent", "ua"), ("raw_name", "r"), ("Cookie", "sid=abc; other=1")])
    assert r.json() == {"token": "t", "ua": "ua", "raw": "r", "sid": "abc", "theme": "light"}
    r = await run(f)
    assert {d["field"] for d in r.details} == {"header.x-token", "cookie.sid"}


async def test_repeated_header_as_list() -> None:
    async def f(x_tag: Annotated[list[str], Header()]):
        return {"tags": x_tag}

    r = await run(f, headers=[("x-tag", "a"), ("x-tag", "b")])
    assert r.json() == {"tags": ["a", "b"]}


async def test_int_header_validation() -> None:
    async def f(x_count: int = Header()):
        return {"n": x_count}

    r = await run(f, headers=[("x-count", "nope")])
    assert r.status == 422 and r.details[0]["field"] == "header.x-count"


async def test_head_request_has_no_body_but_keeps_length() -> None:
    async def f() -> dict[str, int]:
        return {"a": 1}

    compiled = compile_route(route(f), FakeApp())
    r = await call(compiled, method="HEAD")
    assert r.body == b"" and r.headers["content-length"] == "7"


def test_path_param_not_in_path_is_rejected() -> None:
    async def f(user_id: int = Path()):
        return {}

    with pytest.raises(ImproperlyConfigured, match="f"):
        compile_route(route(f, "/users"), FakeApp())


def test_unused_path_param_is_rejected() -> None:
    async def f():
        return {}

    with pytest.raises(ImproperlyConfigured, match="user_id"):
        compile_route(route(f, "/users/{user_id}"), FakeApp())


def test_unsupported_annotations_are_rejected() -> None:
    async def f(x: type[int]):
        return {}

    with pytest.raises(ImproperlyConfigured, match="f"):
        compile_route(route(f), FakeApp())

    async def g(q: Annotated[dict[str, int], Query()]):
        return {}

    with pytest.raises(ImproperlyConfigured, match="scalar"):
        compile_route(route(g), FakeApp())


def test_two_markers_are_rejected() -> None:
    async def f(q: Annotated[str, Query()] = Query("x")):
        return {}

    with pytest.raises(ImproperlyConfigured, match="two markers"):
        compile_route(route(f), FakeApp())


def test_bad_regex_fails_at_definition() -> None:
    import re

    with pytest.raises(re.error):
        Query(pattern="(")


async def test_hostile_query_values_are_422_not_500() -> None:
    async def f(n: int = 0, x: float = 0.0, when: str = "") -> dict[str, object]:
        return {"n": n}

    r = await run(f, query="n=" + "9" * 5000)
    assert r.status == 422 and r.details[0]["value"].endswith("...")
    r = await run(f, query="x=1e400")
    assert r.status == 422
    r = await run(f, query="n=%zz&when=%ff%fe")
    assert r.status == 422 and r.details[0]["field"] == "query.n"
    r = await run(f, query="&&&=&n=1&=x")
    assert r.json() == {"n": 1}


async def test_hostile_headers_and_cookies() -> None:
    async def f(x_token: str = Header(""), sid: str = Cookie("")) -> dict[str, str]:
        return {"t": x_token, "sid": sid}

    scope_headers = [("x-token", "caf\xe9"), ("cookie", 'sid="q"; ; =; bad; sid=second')]
    r = await run(f, headers=scope_headers)
    assert r.json() == {"t": "caf\xe9", "sid": "q"}


async def test_single_path_param_of_another_type_than_the_convertor_gives() -> None:
    async def get(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    assert (await run(get, "/i/{item_id}", path_params={"item_id": "12"})).json() == {"id": 12}
    r = await run(get, "/i/{item_id}", path_params={"item_id": "x"})
    assert r.status == 422 and r.details[0]["field"] == "path.item_id"

    def sync_get(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    assert (await run(sync_get, "/i/{item_id:int}", path_params={"item_id": 5})).json() == {"id": 5}
