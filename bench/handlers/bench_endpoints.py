"""CPU µs per call of compiled endpoints vs hand-written raw ASGI code (no router, no app).

    python bench/handlers/bench_endpoints.py

Each case calls the ASGI callable in a tight loop with a fresh shallow copy of a prebuilt
scope, a receive that returns the body once and a send that discards; time is process
CPU time (time.process_time), best of 5 repeats.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any
from urllib.parse import parse_qsl

import msgspec
import orjson
import pydantic

from covet.handlers import Container, compile_route
from covet.routing.convertors import get_convertor


@dataclasses.dataclass
class Route:
    endpoint: Any
    path: str = "/"
    methods: frozenset[str] = frozenset({"GET"})
    param_convertors: dict[str, Any] = dataclasses.field(default_factory=dict)
    status_code: int | None = None
    response_model: Any = ...
    response_class: Any = None
    dependencies: list[Any] = dataclasses.field(default_factory=list)
    name: str = "bench"


@dataclasses.dataclass
class App:
    dependencies: list[Any] = dataclasses.field(default_factory=list)
    dependency_overrides: dict[Any, Any] = dataclasses.field(default_factory=dict)
    container: Container = dataclasses.field(default_factory=Container)
    debug: bool = False


@dataclasses.dataclass
class ItemDC:
    name: str
    price: float
    tags: list[str]


class ItemPyd(pydantic.BaseModel):
    name: str
    price: float
    tags: list[str]


class ItemMs(msgspec.Struct):
    name: str
    price: float
    tags: list[str]


async def raw_search(scope: Any, receive: Any, send: Any) -> None:
    qs = dict(parse_qsl(scope["query_string"].decode("latin-1")))
    body = orjson.dumps({"q": qs["q"], "limit": int(qs["limit"])})
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def raw_user(scope: Any, receive: Any, send: Any) -> None:
    body = orjson.dumps({"id": int(scope["path"].split("/")[2])})
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def raw_post(scope: Any, receive: Any, send: Any) -> None:
    msg = await receive()
    data = orjson.loads(msg["body"])
    if not (isinstance(data, dict) and isinstance(data.get("name"), str)):
        raise ValueError
    body = orjson.dumps({"name": data["name"], "price": float(data["price"]), "tags": data["tags"]})
    await send({"type": "http.response.start", "status": 201,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def search(q: str, limit: int) -> dict[str, Any]:
    return {"q": q, "limit": limit}


async def user(id: int) -> dict[str, Any]:
    return {"id": id}


async def post_dc(item: ItemDC) -> ItemDC:
    return item


async def post_pyd(item: ItemPyd) -> ItemPyd:
    return item


async def post_ms(item: ItemMs) -> ItemMs:
    return item


BODY = b'{"name":"widget","price":9.99,"tags":["a","b"]}'


def _scope(method: str, path: str, qs: bytes, body: bool, path_params: dict[str, Any]) -> dict[str, Any]:
    headers = [(b"host", b"x")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
    return {"type": "http", "method": method, "path": path, "query_string": qs, "headers": headers,
            "path_params": path_params}


async def measure(app: Any, scope: dict[str, Any], n: int = 20000) -> float:
    body_msg = {"type": "http.request", "body": BODY, "more_body": False}

    async def receive() -> dict[str, Any]:
        return body_msg

    async def send(message: dict[str, Any]) -> None:
        return None

    for _ in range(2000):
        await app(dict(scope), receive, send)
    best = float("inf")
    for _ in range(5):
        t0 = time.process_time()
        for _ in range(n):
            await app(dict(scope), receive, send)
        best = min(best, (time.process_time() - t0) / n * 1e6)
    return best


def compiled(endpoint: Any, path: str = "/", status: int | None = None) -> Any:
    convs = {"id": get_convertor("int")} if "{id" in path else {}
    return compile_route(Route(endpoint, path, param_convertors=convs, status_code=status), App())


async def main() -> None:
    cases = [
        ("search (query q, limit:int)", raw_search, compiled(search),
         _scope("GET", "/search", b"q=abc&limit=10", False, {})),
        ("user (path id:int)", raw_user, compiled(user, "/users/{id:int}"),
         _scope("GET", "/users/42", b"", False, {"id": 42})),
        ("post dataclass (stdlib)", raw_post, compiled(post_dc, status=201),
         _scope("POST", "/items", b"", True, {})),
        ("post pydantic", raw_post, compiled(post_pyd, status=201),
         _scope("POST", "/items", b"", True, {})),
        ("post msgspec", raw_post, compiled(post_ms, status=201),
         _scope("POST", "/items", b"", True, {})),
    ]
    print("| endpoint | raw ASGI µs | covet compiled µs | ratio |")
    print("|---|---:|---:|---:|")
    for name, raw, app, scope in cases:
        r = await measure(raw, scope)
        c = await measure(app, scope)
        print(f"| {name} | {r:.2f} | {c:.2f} | {c / r:.2f}x |")


if __name__ == "__main__":
    asyncio.run(main())
