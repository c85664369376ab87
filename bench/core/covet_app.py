"""The peer-benchmark contract (../shared/bench/endpoints.py) written the idiomatic CovetPy way.

Validation of the POST body uses a stdlib dataclass (CovetPy's zero-dependency default);
JSON goes through orjson when installed, as for the peers.
"""

from __future__ import annotations

from dataclasses import dataclass

from covet import Covet
from covet.responses import PlainTextResponse

N_EXTRA_ROUTES = 1000


@dataclass
class Item:
    name: str
    price: float
    tags: list[str]


app = Covet(openapi_url=None)


@app.get("/plaintext")
async def plaintext() -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


@app.get("/json")
async def json_ep() -> dict:
    return {"message": "Hello, World!"}


@app.get("/users/{id:int}")
async def user(id: int) -> dict:
    return {"id": id}


@app.get("/search")
async def search(q: str, limit: int) -> dict:
    return {"q": q, "limit": limit}


@app.post("/items", status_code=201)
async def create_item(item: Item) -> Item:
    return item


def _make_extra(i: int) -> None:
    async def extra_item(id: int) -> dict:
        return {"id": id}

    app.add_route(f"/r{i}/items/{{id:int}}", extra_item, name=f"extra_item_{i}")


for _i in range(N_EXTRA_ROUTES):
    _make_extra(_i)
