"""RedisChannels: rooms shared by several processes through the real Redis."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from covet.websockets.redis_channels import RedisChannels

pytestmark = [pytest.mark.integration, pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[3]


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
    with pytest.raises(Exception, match="(?i)connect"):
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.e2e
def test_two_server_processes_one_room(redis_url: str, redis_prefix: str, tmp_path: Path) -> None:
    websockets = pytest.importorskip("websockets")
    (tmp_path / "chat_app.py").write_text(APP)
    env = {**os.environ, "REDIS_URL": redis_url, "PREFIX": redis_prefix,
           "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT / 'src'}"}
    ports = [_free_port(), _free_port()]
    procs = [
        subprocess.Popen([sys.executable, "-m", "uvicorn", "chat_app:app", "--port", str(p), "--log-level", "warning"],
                         cwd=tmp_path, env=env)
        for p in ports
    ]
    try:
        for port in ports:
            deadline = time.monotonic() + 15
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "server did not start"
                    time.sleep(0.1)

        async def run() -> None:
            import json

            async with websockets.connect(f"ws://127.0.0.1:{ports[0]}/ws/lobby") as a, \
                    websockets.connect(f"ws://127.0.0.1:{ports[1]}/ws/lobby") as b:
                assert json.loads(await a.recv()) == {"joined": "lobby"}
                assert json.loads(await b.recv()) == {"joined": "lobby"}
                await asyncio.sleep(0.1)
                await a.send(json.dumps({"from": "process one"}))
                assert json.loads(await asyncio.wait_for(b.recv(), 5)) == {"from": "process one"}
                assert json.loads(await asyncio.wait_for(a.recv(), 5)) == {"from": "process one"}

        asyncio.run(run())
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
