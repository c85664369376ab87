"""WebSocket rooms and broadcast in one process."""

from __future__ import annotations

import asyncio

import pytest

from covet import Covet, WebSocket
from covet.testing import TestClient
from covet.websockets.channels import MemoryChannels


def chat_app() -> Covet:
    app = Covet(openapi_url=None)

    @app.websocket("/ws/{room}")
    async def chat(ws: WebSocket, room: str) -> None:
        await ws.accept()
        async with app.channels.join(room, ws):
            await ws.send_json({"joined": room})
            async for message in ws.iter_json():
                await app.channels.publish(room, message)

    @app.post("/rooms/{room}/announce")
    async def announce(room: str, text: str) -> dict:
        await app.channels.publish(room, {"announcement": text})
        return {"rooms": app.channels.rooms()}

    return app


def test_room_members_receive_each_others_messages() -> None:
    with TestClient(chat_app()) as client:
        with (
            client.websocket_connect("/ws/lobby") as a,
            client.websocket_connect("/ws/lobby") as b,
            client.websocket_connect("/ws/other") as c,
        ):
            for ws in (a, b, c):
                assert "joined" in ws.receive_json()
            a.send_json({"from": "a"})
            assert b.receive_json() == {"from": "a"}
            assert a.receive_json() == {"from": "a"}  # the sender is a member too
            r = client.post("/rooms/lobby/announce", params={"text": "hi"})
            assert r.json() == {"rooms": {"lobby": 2, "other": 1}}
            assert a.receive_json() == {"announcement": "hi"} == b.receive_json()
            c.send_json({"from": "c"})
            assert c.receive_json() == {"from": "c"}
        assert client.post("/rooms/lobby/announce", params={"text": "x"}).json() == {"rooms": {}}


async def test_slow_subscriber_drops_oldest_and_rooms_are_cleaned() -> None:
    channels = MemoryChannels(max_queue=3)
    async with channels.subscribe("r") as sub:
        for i in range(5):
            await channels.publish("r", i)
        assert sub.dropped == 2
        assert [await sub.get() for _ in range(3)] == [2, 3, 4]
    assert channels.rooms() == {}


async def test_bad_input() -> None:
    channels = MemoryChannels()
    with pytest.raises(ValueError, match="invalid room"):
        await channels.publish("", 1)
    with pytest.raises(TypeError):
        await channels.publish("r", object())  # not JSON
    with pytest.raises(ValueError):
        MemoryChannels(max_queue=0)


async def test_iteration_ends_when_closed() -> None:
    channels = MemoryChannels()
    received = []
    async with channels.subscribe("r") as sub:
        await channels.publish("r", "x")

        async def consume() -> None:
            async for message in sub:
                received.append(message)

        task = asyncio.ensure_future(consume())
        await asyncio.sleep(0.01)
        task.cancel()
    assert received == ["x"]
