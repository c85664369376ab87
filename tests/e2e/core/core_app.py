"""The app every server runs in test_servers.py."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from covet import Covet, HTTPException, Request, WebSocket
from covet.responses import PlainTextResponse, StreamingResponse

app = Covet(title="e2e")


@dataclass
class Item:
    name: str
    price: float


@app.get("/plain")
async def plain() -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


@app.get("/users/{user_id:int}")
async def user(user_id: int, verbose: bool = False) -> dict:
    return {"id": user_id, "verbose": verbose}


@app.post("/items", status_code=201)
async def create(item: Item) -> Item:
    return item


@app.post("/echo")
async def echo(request: Request) -> PlainTextResponse:
    body = await request.body()
    return PlainTextResponse(f"{len(body)}")


@app.get("/stream")
async def stream() -> StreamingResponse:
    async def chunks():  # type: ignore[no-untyped-def]
        for i in range(5):
            yield f"chunk{i}\n".encode()
            await asyncio.sleep(0)

    return StreamingResponse(chunks(), media_type="text/plain")


@app.get("/forbidden")
async def forbidden() -> None:
    raise HTTPException(403, "nope")


@app.websocket("/ws/{room}")
async def ws(websocket: WebSocket, room: str) -> None:
    await websocket.accept()
    async for message in websocket.iter_json():
        await websocket.send_json({"room": room, "echo": message})
