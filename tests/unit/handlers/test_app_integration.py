"""Handlers through the real ``Covet`` app and ``TestClient``: forms, files, websockets, errors."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Annotated, Any

import pytest

from covet.app import Covet
from covet.handlers import Body, Depends, File, Form, Header, Query
from covet.http.datastructures import UploadFile
from covet.testing import TestClient
from covet.websockets.connection import WebSocket, WebSocketDisconnect


@dataclasses.dataclass
class Item:
    name: str
    price: float


@dataclasses.dataclass
class Login:
    username: str
    remember: bool = False


class Counter:
    def __init__(self) -> None:
        self.n = 0


def build_app() -> Covet:
    app = Covet()
    log: list[str] = []
    app.state_log = log  # type: ignore[attr-defined]

    @app.get("/users/{user_id:int}")
    async def get_user(user_id: int, verbose: bool = False) -> dict[str, Any]:
        return {"id": user_id, "verbose": verbose}

    @app.post("/items", status_code=201)
    async def create(item: Item, dry_run: bool = Query(False)) -> Item:
        return item

    @app.post("/login")
    async def login(username: Annotated[str, Form(min_length=2)], password: str = Form(), remember: bool = Form(False)):
        return {"user": username, "remember": remember, "pw_len": len(password)}

    @app.post("/login-model")
    async def login_model(data: Annotated[Login, Form()]):
        return dataclasses.asdict(data)

    @app.post("/upload")
    async def upload(file: UploadFile = File(), raw: bytes = File(), note: str = Form("")):
        content = await file.read()
        return {"name": file.filename, "size": len(content), "raw": len(raw), "note": note}

    @app.post("/many")
    async def many(files: list[UploadFile] = File()):
        return {"names": [f.filename for f in files]}

    async def resource() -> AsyncIterator[str]:
        log.append("open")
        try:
            yield "r"
        finally:
            log.append("close")

    @app.get("/boom")
    async def boom(r: str = Depends(resource)):
        raise RuntimeError("handler failed")

    @app.get("/counter")
    async def counter(c: Counter) -> dict[str, int]:
        c.n += 1
        return {"n": c.n}

    app.provide(Counter, Counter)

    @app.websocket("/ws/{room}")
    async def ws(websocket: WebSocket, room: str, token: str = Query(), x_client: str | None = Header(None)):
        await websocket.accept()
        await websocket.send_json({"room": room, "token": token, "client": x_client})
        await websocket.close()

    @app.post("/embedded")
    async def embedded(item: Item, qty: int = Body(gt=0)):
        return {"name": item.name, "qty": qty}

    return app


@pytest.fixture(scope="module")
def client() -> Any:
    with TestClient(build_app(), raise_server_exceptions=False) as c:
        yield c


def test_query_and_path(client: Any) -> None:
    assert client.get("/users/3?verbose=on").json() == {"id": 3, "verbose": True}
    r = client.get("/users/3?verbose=perhaps")
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "Validation failed" and body["trace_id"]
    assert body["details"] == [
        {"field": "query.verbose", "message": "Expected a boolean (true/false, 1/0, yes/no, on/off)",
         "code": "type_error", "value": "perhaps"}
    ]


def test_body_ok_and_errors(client: Any) -> None:
    r = client.post("/items", json={"name": "w", "price": 2})
    assert r.status_code == 201 and r.json() == {"name": "w", "price": 2.0}
    r = client.post("/items", json={"name": "w"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "body.price"
    assert client.post("/items", content=b"{oops", headers={"content-type": "application/json"}).status_code == 400
    assert client.post("/items", data={"name": "w"}).status_code == 400


def test_embedded_bodies(client: Any) -> None:
    r = client.post("/embedded", json={"item": {"name": "a", "price": 1}, "qty": 2})
    assert r.json() == {"name": "a", "qty": 2}
    r = client.post("/embedded", json={"item": {"name": "a", "price": 1}, "qty": 0})
    assert r.json()["details"][0] == {"field": "body.qty", "message": "Must be greater than 0", "code": "too_small", "value": 0}


def test_urlencoded_form(client: Any) -> None:
    r = client.post("/login", data={"username": "ann", "password": "pw", "remember": "yes"})
    assert r.json() == {"user": "ann", "remember": True, "pw_len": 2}
    r = client.post("/login", data={"username": "a"})
    assert {d["field"] for d in r.json()["details"]} == {"body.username", "body.password"}
    r = client.post("/login-model", data={"username": "bob", "remember": "1"})
    assert r.json() == {"username": "bob", "remember": True}


def test_multipart_files(client: Any) -> None:
    r = client.post("/upload", files={"file": ("a.txt", b"hello"), "raw": ("b.bin", b"xy")}, data={"note": "n"})
    assert r.json() == {"name": "a.txt", "size": 5, "raw": 2, "note": "n"}
    r = client.post("/upload", data={"file": "not a file", "raw": "x"})
    assert r.status_code == 422
    assert {d["field"] for d in r.json()["details"]} == {"body.file", "body.raw"}
    r = client.post("/many", files={"files": ("one.txt", b"1")})
    assert r.json() == {"names": ["one.txt"]}


def test_generator_cleanup_on_handler_error_and_500(client: Any) -> None:
    log = client.app.state_log
    log.clear()
    r = client.get("/boom")
    assert r.status_code == 500
    assert log == ["open", "close"]


def test_container_singleton_via_lifespan(client: Any) -> None:
    first = client.get("/counter").json()["n"]
    assert client.get("/counter").json()["n"] == first + 1


def test_websocket_params(client: Any) -> None:
    with client.websocket_connect("/ws/lobby?token=t", headers={"x-client": "c1"}) as ws:
        assert ws.receive_json() == {"room": "lobby", "token": "t", "client": "c1"}


def test_websocket_validation_failure_closes(client: Any) -> None:
    with pytest.raises(WebSocketDisconnect) as info, client.websocket_connect("/ws/lobby") as ws:
        ws.receive_json()
    assert info.value.code == 1008
    assert info.value.reason == "Validation failed: query.token"


def test_dependency_overrides_through_app() -> None:
    app = Covet()

    async def real() -> str:
        return "real"

    @app.get("/v")
    async def v(x: str = Depends(real)) -> dict[str, str]:
        return {"x": x}

    with TestClient(app) as c:
        assert c.get("/v").json() == {"x": "real"}
        app.dependency_overrides[real] = lambda: "fake"
        assert c.get("/v").json() == {"x": "fake"}


def test_websocket_dependencies_and_cleanup() -> None:
    app = Covet()
    log: list[str] = []

    async def room_guard(room: str, x_user: str = Header()) -> AsyncIterator[str]:
        log.append(f"enter {room}")
        try:
            yield x_user
        finally:
            log.append("exit")

    @app.websocket("/rooms/{room}")
    async def chat(ws: WebSocket, room: str, user: str = Depends(room_guard)) -> None:
        await ws.accept()
        await ws.send_json({"room": room, "user": user})
        await ws.close()

    with TestClient(app) as c:
        with c.websocket_connect("/rooms/r1", headers={"x-user": "ann"}) as ws:
            assert ws.receive_json() == {"room": "r1", "user": "ann"}
        assert log == ["enter r1", "exit"]
        app.dependency_overrides[room_guard] = lambda: "override"
        with c.websocket_connect("/rooms/r2") as ws:
            assert ws.receive_json() == {"room": "r2", "user": "override"}
