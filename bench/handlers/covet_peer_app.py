"""The peer-benchmark contract (/work/shared/bench/endpoints.py) as a CovetPy app.

    python /work/shared/bench/inproc.py bench/handlers/covet_peer_app.py

Idiomatic typed handlers: a path ``{id:int}``, query params coerced from the
signature, and a msgspec Struct body echoed back with status 201.
"""

from __future__ import annotations

from typing import Any

import msgspec

from covet.app import Covet
from covet.http.response import PlainTextResponse

N_EXTRA_ROUTES = 1000


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str]


app = Covet()


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


@app.get("/json")
async def json_endpoint() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/users/{id:int}")
async def user(id: int) -> dict[str, Any]:
    return {"id": id}


@app.get("/search")
async def search(q: str, limit: int) -> dict[str, Any]:
    return {"q": q, "limit": limit}


@app.post("/items", status_code=201)
async def create_item(item: Item) -> Item:
    return item


async def extra(id: int) -> dict[str, Any]:
    return {"id": id}


for _i in range(N_EXTRA_ROUTES):
    app.add_route(f"/r{_i}/items/{{id:int}}", extra, methods=["GET"], name=f"extra{_i}")
