"""RedisChannels: rooms shared by several processes through the real Redis."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from covet.websockets.redis_channels import RedisChannels
from support.servers import serve

pytestmark = [pytest.mark.integration, pytest.mark.redis]


async def test_two_instances_share_rooms(redis_url: str, redis_prefix: str) -> None:
    one, two = RedisChannels(redis_url, prefix=redis_prefix), RedisChannels(redis_url, prefix=redis_prefix)
    await one.start()
    await two.start()
    try:
        async with one.subscribe("lobby") as sub_one, two.subscribe("lobby") as sub_two:
            await asyncio.sleep(0.05)  # subscriptions reach Redis
            await two.publish("lobby", {"n": 1})
            assert await asyncio.wait_for(sub_one.get(), 5) == {"n": 1}
            assert await asyncio.wait_for(sub_two.get(), 5) == {"n": 1}  # exactly once locally
            await asyncio.sleep(0.05)
            assert sub_two._queue.empty()
        async with one.subscribe("quiet") as quiet:
            await two.publish("lobby", {"n": 2})  # nobody listens to lobby any more
            await asyncio.sleep(0.1)
            assert quiet._queue.empty()
    finally:
        await one.stop()
        await two.stop()


async def test_unreachable_redis_fails_clearly() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    channels = RedisChannels(f"redis://127.0.0.1:{port}/0")
    with pytest.raises(Exception, match=r"(?i)connect"):
        await channels.start()


APP = '''
import os
from covet import Covet, WebSocket
from covet.websockets.redis_channels import RedisChannels
app = Covet(channels=RedisChannels(os.environ["REDIS_URL"], prefix=os.environ["PREFIX"]), openapi_url=None)

@app.websocket("/ws/{room}")
async def chat(ws: WebSocket, room: str) -> None:
    await ws.accept()
    async with app.channels.join(room, ws):
        await ws.send_json({"joined": room})
        async for message in ws.iter_json():
            await app.channels.publish(room, message)
'''


@pytest.mark.e2e
def test_two_server_processes_one_room(redis_url: str, redis_prefix: str, tmp_path: Path) -> None:
    websockets = pytest.importorskip("websockets")
    (tmp_path / "chat_app.py").write_text(APP)
    env = {"REDIS_URL": redis_url, "PREFIX": redis_prefix}
    with serve("chat_app:app", cwd=tmp_path, pythonpath=[tmp_path], env=env) as one, \
            serve("chat_app:app", cwd=tmp_path, pythonpath=[tmp_path], env=env) as two:

        async def run() -> None:
            import json

            async with websockets.connect(one.replace("http", "ws") + "/ws/lobby") as a, \
                    websockets.connect(two.replace("http", "ws") + "/ws/lobby") as b:
                assert json.loads(await a.recv()) == {"joined": "lobby"}
                assert json.loads(await b.recv()) == {"joined": "lobby"}
                await asyncio.sleep(0.1)
                await a.send(json.dumps({"from": "process one"}))
                assert json.loads(await asyncio.wait_for(b.recv(), 5)) == {"from": "process one"}
                assert json.loads(await asyncio.wait_for(a.recv(), 5)) == {"from": "process one"}

        asyncio.run(run())
