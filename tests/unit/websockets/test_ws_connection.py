from __future__ import annotations

from typing import Any

import pytest

from covet import _json
from covet.exceptions import WebSocketException
from covet.http.limits import Limits
from covet.websockets import WebSocket, WebSocketDisconnect, WebSocketState


def ws_scope(**extra: Any) -> dict[str, Any]:
    scope = {
        "type": "websocket", "path": "/ws", "root_path": "", "scheme": "ws", "query_string": b"room=1",
        "headers": [(b"host", b"testserver"), (b"cookie", b"sid=1")], "subprotocols": ["chat", "json"],
        "client": ("127.0.0.1", 1234),
    }  # fmt: skip
    scope.update(extra)
    return scope


class Peer:
    """Scripted client side: queued incoming messages and a record of what was sent."""

    def __init__(self, *incoming: dict[str, Any]) -> None:
        self.incoming = [{"type": "websocket.connect"}, *incoming]
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        if not self.incoming:
            return {"type": "websocket.disconnect", "code": 1006}
        return self.incoming.pop(0)

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)


def connect(peer: Peer, **extra: Any) -> WebSocket:
    return WebSocket(ws_scope(**extra), peer.receive, peer.send)


async def test_accept_send_receive_close() -> None:
    peer = Peer(
        {"type": "websocket.receive", "text": "hi"},
        {"type": "websocket.receive", "bytes": b"\x00\x01"},
        {"type": "websocket.receive", "text": '{"a": [1]}'},
        {"type": "websocket.receive", "bytes": b'{"b": 2}'},
    )
    ws = connect(peer)
    assert ws.client_state is WebSocketState.CONNECTING
    assert ws.url.path == "/ws" and ws.query_params["room"] == "1" and ws.cookies == {"sid": "1"}
    await ws.accept(subprotocol="chat", headers=[(b"x-a", b"1")])
    assert (
        ws.client_state is WebSocketState.CONNECTED
        and ws.application_state is WebSocketState.CONNECTED
    )
    assert await ws.receive_text() == "hi"
    assert await ws.receive_bytes() == b"\x00\x01"
    assert await ws.receive_json() == {"a": [1]}
    assert await ws.receive_json(mode="binary") == {"b": 2}
    await ws.send_text("yo")
    await ws.send_bytes(b"\x02")
    await ws.send_json({"k": "é"})
    await ws.send_json([1], mode="binary")
    await ws.close(1001, "bye")
    assert peer.sent == [
        {"type": "websocket.accept", "subprotocol": "chat", "headers": [(b"x-a", b"1")]},
        {"type": "websocket.send", "text": "yo"},
        {"type": "websocket.send", "bytes": b"\x02"},
        {"type": "websocket.send", "text": '{"k":"é"}'},
        {"type": "websocket.send", "bytes": b"[1]"},
        {"type": "websocket.close", "code": 1001, "reason": "bye"},
    ]
    assert ws.application_state is WebSocketState.DISCONNECTED
    with pytest.raises(RuntimeError, match="closed"):
        await ws.send_text("late")


async def test_iterators_stop_cleanly_on_disconnect() -> None:
    peer = Peer(
        {"type": "websocket.receive", "text": "a"},
        {"type": "websocket.receive", "text": "b"},
        {"type": "websocket.disconnect", "code": 1000},
    )
    ws = connect(peer)
    await ws.accept()
    assert [m async for m in ws.iter_text()] == ["a", "b"]
    assert ws.client_state is WebSocketState.DISCONNECTED
    with pytest.raises(RuntimeError, match="disconnect message has been received"):
        await ws.receive()

    peer = Peer(
        {"type": "websocket.receive", "bytes": b"x"}, {"type": "websocket.disconnect", "code": 1001}
    )
    ws = connect(peer)
    await ws.accept()
    assert [m async for m in ws.iter_bytes()] == [b"x"]

    peer = Peer(
        {"type": "websocket.receive", "text": "[1]"}, {"type": "websocket.receive", "text": "{}"}
    )
    ws = connect(peer)
    await ws.accept()
    assert [m async for m in ws.iter_json()] == [[1], {}]


async def test_receive_disconnect_raises_with_code_and_reason() -> None:
    peer = Peer({"type": "websocket.disconnect", "code": 4001, "reason": "gone"})
    ws = connect(peer)
    await ws.accept()
    with pytest.raises(WebSocketDisconnect) as exc:
        await ws.receive_text()
    assert (exc.value.code, exc.value.reason) == (4001, "gone")
    assert "4001" in str(exc.value) and "gone" in repr(exc.value)


async def test_misuse_errors() -> None:
    ws = connect(Peer())
    with pytest.raises(RuntimeError, match=r'call "accept\(\)"'):
        await ws.send_text("too early")
    with pytest.raises(RuntimeError, match=r'call "accept\(\)" first'):
        await ws.receive_text()
    with pytest.raises(ValueError, match="not offered"):
        await ws.accept(subprotocol="nope")
    with pytest.raises(ValueError, match="mode"):
        await ws.send_json({}, mode="xml")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        WebSocket({"type": "http"}, Peer().receive, Peer().send)

    bad_first = Peer()
    bad_first.incoming = [{"type": "websocket.receive", "text": "x"}]
    ws = connect(bad_first)
    with pytest.raises(RuntimeError, match=r"websocket\.connect"):
        await ws.accept()

    ws = connect(Peer())
    await ws.accept()
    with pytest.raises(RuntimeError, match=r"websocket\.send"):
        await ws.send({"type": "websocket.accept"})


async def test_wrong_frame_type_and_bad_json_close_codes() -> None:
    ws = connect(
        Peer(
            {"type": "websocket.receive", "bytes": b"x"}, {"type": "websocket.receive", "text": "x"}
        )
    )
    await ws.accept()
    with pytest.raises(WebSocketException) as exc:
        await ws.receive_text()
    assert exc.value.code == 1003
    with pytest.raises(WebSocketException) as exc:
        await ws.receive_bytes()
    assert exc.value.code == 1003

    ws = connect(Peer({"type": "websocket.receive", "text": "{bad"}))
    await ws.accept()
    with pytest.raises(WebSocketException) as exc:
        await ws.receive_json()
    assert exc.value.code == 1007


async def test_deep_json_message_rejected_before_parsing() -> None:
    class App:
        limits = Limits(max_json_depth=3)

    bomb = "[" * 100_000 + "]" * 100_000
    ws = connect(Peer({"type": "websocket.receive", "text": bomb}), app=App())
    await ws.accept()
    with pytest.raises(WebSocketException) as exc:
        await ws.receive_json()
    assert exc.value.code == 1009


async def test_reject_before_accept() -> None:
    peer = Peer()
    ws = connect(peer)
    await ws.close(code=1008)
    assert peer.sent == [{"type": "websocket.close", "code": 1008, "reason": ""}]
    assert ws.application_state is WebSocketState.DISCONNECTED


async def test_send_oserror_becomes_disconnect() -> None:
    async def broken_send(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            raise OSError("gone")

    ws = WebSocket(ws_scope(), Peer().receive, broken_send)
    await ws.accept()
    with pytest.raises(WebSocketDisconnect) as exc:
        await ws.send_text("x")
    assert exc.value.code == 1006
    assert ws.application_state is WebSocketState.DISCONNECTED


async def test_json_modes_match_codec() -> None:
    peer = Peer()
    ws = connect(peer)
    await ws.accept()
    await ws.send_json({"x": [1, None]})
    assert peer.sent[-1]["text"].encode() == _json.dumps({"x": [1, None]})


async def test_denial_response_before_accept() -> None:
    peer = Peer()
    ws = connect(peer)
    await ws.send({"type": "websocket.http.response.start", "status": 403, "headers": []})
    await ws.send({"type": "websocket.http.response.body", "body": b"no"})
    assert ws.application_state is WebSocketState.DISCONNECTED
    assert [m["type"] for m in peer.sent] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
    ]
    with pytest.raises(RuntimeError, match="closed"):
        await ws.send_text("x")
