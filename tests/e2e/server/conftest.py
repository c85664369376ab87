"""Fixtures for the server end-to-end tests: real servers on loopback, raw-socket helpers.

``serve(app, **config)`` starts the built-in server in a background thread (its own
event loop) and yields ``(host, port)``. Every test runs twice: with the pure-Python
parser on asyncio and with httptools on uvloop (``stack`` fixture).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from covet.server import Config, Server
from covet.server.server import new_event_loop

STACKS = {
    "pure": {"http_parser": "python", "loop": "asyncio"},
    "fast": {"http_parser": "httptools", "loop": "uvloop"},
}


@pytest.fixture(params=sorted(STACKS))
def stack(request: pytest.FixtureRequest) -> dict[str, str]:
    return STACKS[request.param]


@contextlib.contextmanager
def _serve(app: Any, **options: Any) -> Iterator[tuple[str, int]]:
    options.setdefault("port", 0)
    options.setdefault("lifespan", "off")
    options.setdefault("access_log", False)
    options.setdefault("timeout_graceful_shutdown", 2.0)
    config = Config(**options)
    server = Server(app, config)
    loop = new_event_loop(config.loop)
    error: list[BaseException] = []

    def target() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.serve())
        except BaseException as exc:  # surfaced in the test thread
            error.append(exc)
        finally:
            loop.close()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.005)
    if not server.started:
        raise RuntimeError(f"server did not start: {error}")
    try:
        yield "127.0.0.1", server.bound_port or 0
    finally:
        server.should_exit = True
        thread.join(10)
        assert not thread.is_alive(), "server thread did not stop"
        if error:
            raise error[0]


@pytest.fixture
def serve(stack: dict[str, str]) -> Callable[..., Any]:
    """``with serve(app, **config) as (host, port): ...`` on the current stack."""

    def factory(app: Any, **options: Any) -> Any:
        return _serve(app, **{**stack, **options})

    return factory


class RawClient:
    """A blocking socket with helpers to read HTTP responses byte-exactly."""

    def __init__(self, host: str, port: int, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buffer = bytearray()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def read_until(self, marker: bytes) -> bytes:
        while (index := self.buffer.find(marker)) < 0:
            if not self._fill():
                raise ConnectionError(f"closed before {marker!r}; got {bytes(self.buffer)!r}")
        end = index + len(marker)
        data = bytes(self.buffer[:end])
        del self.buffer[:end]
        return data

    def read_exact(self, n: int) -> bytes:
        while len(self.buffer) < n:
            if not self._fill():
                raise ConnectionError("closed early")
        data = bytes(self.buffer[:n])
        del self.buffer[:n]
        return data

    def read_response(self) -> tuple[int, dict[bytes, bytes], bytes]:
        """Read one response (Content-Length or chunked framed)."""
        head = self.read_until(b"\r\n\r\n")
        lines = head[:-4].split(b"\r\n")
        status = int(lines[0].split(b" ")[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if status < 200 and status != 101:
            return status, headers, b""
        if b"content-length" in headers:
            return status, headers, self.read_exact(int(headers[b"content-length"]))
        if headers.get(b"transfer-encoding") == b"chunked":
            parts = []
            while True:
                size = int(self.read_until(b"\r\n")[:-2].split(b";")[0], 16)
                if size == 0:
                    self.read_until(b"\r\n")
                    return status, headers, b"".join(parts)
                parts.append(self.read_exact(size))
                assert self.read_exact(2) == b"\r\n"
        return status, headers, b""

    def is_closed(self, timeout: float = 2.0) -> bool:
        """True when the server closed the connection (EOF or reset) within ``timeout``."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buffer += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except TimeoutError:
            return False

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw_client() -> Iterator[Callable[..., RawClient]]:
    clients: list[RawClient] = []

    def factory(host: str, port: int, timeout: float = 5.0) -> RawClient:
        client = RawClient(host, port, timeout)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


async def echo_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Echoes method, path, query and body; ``/stream`` answers in chunks."""
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"] == "/stream":
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        for part in (b"one,", b"two,", b"three"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    text = f"{scope['method']} {scope['path']} {scope['query_string'].decode()} ".encode() + body
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/plain"),
                (b"x-body-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": text})


@pytest.fixture
def echo() -> Any:
    return echo_app


async def ws_echo_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """WebSocket echo; the text ``close:<code>`` makes the server close with that code."""
    if scope["type"] != "websocket":
        return
    await receive()
    subprotocols = scope["subprotocols"]
    await send(
        {"type": "websocket.accept", "subprotocol": subprotocols[0] if subprotocols else None}
    )
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is not None and text.startswith("close:"):
            await send({"type": "websocket.close", "code": int(text[6:]), "reason": "bye"})
            return
        await send({"type": "websocket.send", "text": text, "bytes": message.get("bytes")})


@pytest.fixture
def ws_echo() -> Any:
    return ws_echo_app


class RawWebSocket:
    """A client speaking raw RFC 6455 frames (masked), for conformance tests."""

    def __init__(
        self, host: str, port: int, path: str = "/", extensions: str | None = None
    ) -> None:
        import base64
        import os

        self.raw = RawClient(host, port)
        key = base64.b64encode(os.urandom(16))
        request = (
            b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Key: "
            + key
            + b"\r\nSec-WebSocket-Version: 13\r\n"
        )
        if extensions:
            request += b"Sec-WebSocket-Extensions: " + extensions.encode() + b"\r\n"
        self.raw.send(request + b"\r\n")
        head = self.raw.read_until(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        self.response_head = head

    def send_frame(
        self,
        opcode: int,
        payload: bytes = b"",
        fin: bool = True,
        rsv: int = 0,
        mask: bytes = b"\x11\x22\x33\x44",
    ) -> None:
        import struct

        from covet.server.ws_frames import unmask

        first = (0x80 if fin else 0) | (rsv << 4) | opcode
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", first, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", first, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", first, 0x80 | 127, n)
        self.raw.send(header + mask + unmask(payload, mask))

    def recv_frame(self) -> tuple[int, bool, int, bytes]:
        """Return ``(opcode, fin, rsv, payload)`` of the next server frame."""
        b0, b1 = self.raw.read_exact(2)
        length = b1 & 0x7F
        if length == 126:
            length = int.from_bytes(self.raw.read_exact(2), "big")
        elif length == 127:
            length = int.from_bytes(self.raw.read_exact(8), "big")
        assert not b1 & 0x80, "server frames must not be masked"
        return b0 & 0x0F, bool(b0 & 0x80), (b0 >> 4) & 0x7, self.raw.read_exact(length)

    def expect_close(self, code: int | None) -> None:
        """The server sends a close frame with ``code`` (None: empty) and closes TCP."""
        opcode, _, _, payload = self.recv_frame()
        while opcode in (0x9, 0xA):
            opcode, _, _, payload = self.recv_frame()
        assert opcode == 0x8, (opcode, payload)
        got = int.from_bytes(payload[:2], "big") if payload else None
        assert got == code, (got, payload)
        assert self.raw.is_closed(timeout=3)

    def close(self) -> None:
        self.raw.close()


@pytest.fixture
def raw_ws() -> Iterator[Callable[..., RawWebSocket]]:
    sockets: list[RawWebSocket] = []

    def factory(host: str, port: int, **kwargs: Any) -> RawWebSocket:
        ws = RawWebSocket(host, port, **kwargs)
        sockets.append(ws)
        return ws

    yield factory
    for ws in sockets:
        ws.close()


@pytest.fixture(scope="module", params=sorted(STACKS))
def ws_echo_server(request: pytest.FixtureRequest) -> Iterator[tuple[str, int]]:
    """One WebSocket echo server per test module and stack (no deflate, 8 MiB limit)."""
    options = {
        **STACKS[request.param],
        "ws_per_message_deflate": False,
        "ws_max_message_size": 8 * 1024 * 1024,
    }
    with _serve(ws_echo_app, **options) as address:
        yield address
