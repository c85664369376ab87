"""The same Covet app behaves the same under the built-in server, uvicorn, hypercorn and granian.

Each server runs as a subprocess on a free port; httpx and the websockets package are
the clients.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator

import pytest

from support.servers import SERVERS, serve, server_available

httpx = pytest.importorskip("httpx")
websockets = pytest.importorskip("websockets")

APP = "tests.e2e.core.core_app:app"


@pytest.fixture(params=SERVERS, scope="module")
def base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    server = request.param
    if not server_available(server):
        if os.environ.get("CI", "").lower() in ("1", "true"):
            pytest.fail(f"{server} is not installed")
        pytest.skip(f"{server} is not installed")
    with serve(APP, server=server) as url:
        yield url


pytestmark = pytest.mark.e2e


def test_http_behaviour(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        r = client.get("/plain")
        assert (r.status_code, r.text) == (200, "Hello, World!")
        assert r.headers["content-type"] == "text/plain; charset=utf-8"
        assert client.get("/users/7", params={"verbose": "true"}).json() == {"id": 7, "verbose": True}
        assert client.get("/users/x").status_code == 404
        r = client.put("/users/7")
        assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD, OPTIONS"
        head = client.head("/plain")
        assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == "13"
        r = client.post("/items", json={"name": "widget", "price": 9.99})
        assert r.status_code == 201 and r.json() == {"name": "widget", "price": 9.99}
        bad = client.post("/items", json={"name": "widget", "price": "free"})
        assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "body.price"
        assert client.post("/items", content=b"{oops", headers={"content-type": "application/json"}).status_code == 400
        assert client.get("/forbidden").json()["error"] == "nope"
        assert client.get("/stream").text == "".join(f"chunk{i}\n" for i in range(5))
        big = b"x" * 300_000
        assert client.post("/echo", content=big).text == str(len(big))
        too_big = client.post("/echo", content=b"x" * (2 * 1024 * 1024))
        assert too_big.status_code == 413


def test_keep_alive_reuses_connection(base_url: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        for i in range(20):
            assert client.get(f"/users/{i}").json()["id"] == i


def test_websocket(base_url: str) -> None:
    async def run() -> None:
        url = base_url.replace("http://", "ws://") + "/ws/lobby"
        async with websockets.connect(url) as ws:
            await ws.send(json.dumps({"hi": 1}))
            assert json.loads(await ws.recv()) == {"room": "lobby", "echo": {"hi": 1}}

    asyncio.run(run())
