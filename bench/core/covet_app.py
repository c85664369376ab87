"""The peer-benchmark contract (../shared/bench/endpoints.py) written the idiomatic CovetPy way.

``app`` validates the POST body with a stdlib dataclass (CovetPy's zero-dependency
default); ``covet_msgspec_app`` uses a msgspec Struct as Falcon and Litestar do. JSON goes
through orjson when installed, as for the peers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from covet import Covet
from covet.responses import PlainTextResponse

N_EXTRA_ROUTES = 1000


@dataclass
class Item:
    name: str
    price: float
    tags: list[str]


def make_app(item_type: Any) -> Covet:
    """The six contract endpoints plus 1000 parametrised routes, registered after them."""
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

    async def create_item(item: Any) -> Any:
        return item

    create_item.__annotations__ = {"item": item_type, "return": item_type}
    app.add_route("/items", create_item, methods=["POST"], status_code=201)

    def extra(i: int) -> None:
        async def extra_item(id: int) -> dict:
            return {"id": id}

        app.add_route(f"/r{i}/items/{{id:int}}", extra_item, name=f"extra_item_{i}")

    for i in range(N_EXTRA_ROUTES):
        extra(i)
    return app


app = make_app(Item)
