"""WebSockets end to end with the ``websockets`` package as the client."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

pytestmark = pytest.mark.e2e


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_text_binary_fragmented_ping(serve: Any, ws_echo: Any) -> None:
    async def scenario(url: str) -> None:
        async with connect(url, compression=None) as ws:
            await ws.send("hello")
            assert await ws.recv() == "hello"
            await ws.send(b"\x00\x01\x02")
            assert await ws.recv() == b"\x00\x01\x02"
            await ws.send(["frag", "mented ", "κόσμε"])
            assert await ws.recv() == "fragmented κόσμε"
            await ws.send([b"ab", b"cd"])
            assert await ws.recv() == b"abcd"
            latency = await (await ws.ping(b"are you there"))
            assert latency >= 0

    with serve(ws_echo) as (host, port):
        run(scenario(f"ws://{host}:{port}/ws"))


@pytest.mark.parametrize("code", [1000, 1001, 3000, 4999])
def test_close_codes_from_server(serve: Any, ws_echo: Any, code: int) -> None:
    async def scenario(url: str) -> None:
        async with connect(url) as ws:
            await ws.send(f"close:{code}")
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            assert info.value.rcvd is not None
            assert info.value.rcvd.code == code
            assert info.value.rcvd.reason == "bye"

    with serve(ws_echo) as (host, port):
        run(scenario(f"ws://{host}:{port}/"))


def test_client_close_code_reaches_app(serve: Any) -> None:
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        seen.append(await receive())

    async def scenario(url: str) -> None:
        async with connect(url) as ws:
            await ws.close(code=4002, reason="done")

    with serve(app) as (host, port):
        run(scenario(f"ws://{host}:{port}/"))
    assert seen and seen[0]["type"] == "websocket.disconnect" and seen[0]["code"] == 4002


def test_oversized_message_rejected(serve: Any, ws_echo: Any) -> None:
    async def scenario(url: str) -> None:
        async with connect(url, max_size=None) as ws:
            await ws.send("x" * 2048)
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            assert info.value.rcvd is not None and info.value.rcvd.code == 1009

    with serve(ws_echo, ws_max_message_size=1024) as (host, port):
        run(scenario(f"ws://{host}:{port}/"))


@pytest.mark.parametrize("compression", ["deflate", None])
def test_permessage_deflate_negotiated(serve: Any, ws_echo: Any, compression: Any) -> None:
    async def scenario(url: str) -> None:
        async with connect(url, compression=compression) as ws:
            assert bool(ws.protocol.extensions) == (compression is not None)
            for _ in range(3):  # context takeover across messages
                await ws.send("repetitive " * 1000)
                assert await ws.recv() == "repetitive " * 1000

    with serve(ws_echo) as (host, port):
        run(scenario(f"ws://{host}:{port}/"))


def test_deflate_bomb_stopped_by_limit(serve: Any, ws_echo: Any) -> None:
    async def scenario(url: str) -> None:
        async with connect(url, compression="deflate", max_size=None) as ws:
            await ws.send(b"\x00" * 2_000_000)  # compresses to ~2 KB, inflates past the limit
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            assert info.value.rcvd is not None and info.value.rcvd.code == 1009

    with serve(ws_echo, ws_max_message_size=100_000) as (host, port):
        run(scenario(f"ws://{host}:{port}/"))


def test_subprotocol_and_rejection(serve: Any) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        if scope["path"] == "/deny":
            await send({"type": "websocket.close"})
            return
        if scope["path"] == "/custom":
            await send(
                {
                    "type": "websocket.http.response.start",
                    "status": 401,
                    "headers": [(b"x-why", b"auth")],
                }
            )
            await send({"type": "websocket.http.response.body", "body": b"no token"})
            return
        await send({"type": "websocket.accept", "subprotocol": "chat.v2"})
        await send({"type": "websocket.send", "text": scope["subprotocols"][0]})

    async def scenario(base: str) -> None:
        async with connect(base + "/ok", subprotocols=["chat.v2", "chat.v1"]) as ws:  # type: ignore[list-item]
            assert ws.subprotocol == "chat.v2"
            assert await ws.recv() == "chat.v2"
        with pytest.raises(InvalidStatus) as info:
            async with connect(base + "/deny"):
                pass
        assert info.value.response.status_code == 403
        with pytest.raises(InvalidStatus) as info:
            async with connect(base + "/custom"):
                pass
        assert info.value.response.status_code == 401
        assert info.value.response.body == b"no token"

    with serve(app) as (host, port):
        run(scenario(f"ws://{host}:{port}"))


def test_bad_upgrade_requests(serve: Any, ws_echo: Any, raw_client: Any) -> None:
    with serve(ws_echo) as (host, port):
        client = raw_client(host, port)
        client.send(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        assert client.read_response()[0] == 400
        client = raw_client(host, port)
        client.send(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"
        )
        status, headers, _ = client.read_response()
        assert status == 426 and headers[b"sec-websocket-version"] == b"13"


def test_app_error_closes_1011(serve: Any) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()
        raise RuntimeError("handler bug")

    async def scenario(url: str) -> None:
        async with connect(url) as ws:
            await ws.send("trigger")
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            assert info.value.rcvd is not None and info.value.rcvd.code == 1011

    with serve(app) as (host, port):
        run(scenario(f"ws://{host}:{port}/"))


def test_server_keepalive_ping_and_timeout(serve: Any, raw_ws: Any) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await receive()

    with serve(app, ws_ping_interval=0.1, ws_ping_timeout=0.3) as (host, port):
        ws = raw_ws(host, port)
        opcode, _, _, _payload = ws.recv_frame()
        assert opcode == 0x9  # the server pings; this client never answers
        ws.expect_close(1011)


def test_server_shutdown_closes_websockets_with_1012(serve: Any, ws_echo: Any, raw_ws: Any) -> None:
    with serve(ws_echo, timeout_websocket_close=0.3) as (host, port):
        ws = raw_ws(host, port)
        ws.send_frame(0x1, b"still here")
        assert ws.recv_frame()[3] == b"still here"
    # Leaving the block stopped the server gracefully: the close frame is waiting.
    opcode, _, _, payload = ws.recv_frame()
    assert opcode == 0x8 and int.from_bytes(payload[:2], "big") == 1012
