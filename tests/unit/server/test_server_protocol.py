"""The HTTP protocol shell with an in-memory transport (no sockets), config, lifespan."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from covet.exceptions import ImproperlyConfigured
from covet.server import Config
from covet.server._common import split_target
from covet.server.http11 import HTTPProtocol
from covet.server.lifespan import Lifespan, LifespanFailed
from covet.server.state import ServerState


class MemoryTransport(asyncio.Transport):
    """Collects writes; records close and pause/resume calls."""

    def __init__(self) -> None:
        super().__init__()
        self.data = bytearray()
        self.closed = False
        self.reading = True
        self.protocol: Any = None

    def write(self, data: bytes) -> None:  # type: ignore[override]
        self.data += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5555), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def set_protocol(self, protocol: Any) -> None:
        self.protocol = protocol


async def hello(scope: Any, receive: Any, send: Any) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"x-path", scope["path"].encode())],
        }
    )
    await send({"type": "http.response.body", "body": b"got:" + body})


@pytest.fixture(params=["python", "httptools"])
def make(request: pytest.FixtureRequest) -> Any:
    def factory(app: Any = hello, **options: Any) -> tuple[HTTPProtocol, MemoryTransport]:
        config = Config(http_parser=request.param, access_log=False, **options)
        protocol = HTTPProtocol(app, config, ServerState(), asyncio.get_running_loop())
        transport = MemoryTransport()
        protocol.connection_made(transport)
        return protocol, transport

    return factory


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


async def test_bytes_in_bytes_out(make: Any) -> None:
    protocol, transport = make()
    protocol.data_received(b"POST /a%20b?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc")
    await settle()
    out = bytes(transport.data)
    assert out.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"x-path: /a b\r\n" in out and b"content-length: 7\r\n" in out
    assert b"server: covet\r\n" in out and b"date: " in out
    assert out.endswith(b"\r\n\r\ngot:abc")
    assert not transport.closed


async def test_parse_error_answered_and_closed(make: Any) -> None:
    protocol, transport = make()
    protocol.data_received(
        b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"
    )
    assert bytes(transport.data).startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"connection: close" in transport.data and transport.closed


async def test_pipelined_error_waits_for_in_flight_response(make: Any) -> None:
    protocol, transport = make()
    protocol.data_received(
        b"GET /ok HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nX: a\x00\r\n\r\n"
    )
    await settle()
    out = bytes(transport.data)
    assert out.index(b"HTTP/1.1 200") < out.index(b"HTTP/1.1 400")
    assert transport.closed


async def test_body_backpressure_pauses_reading(make: Any) -> None:
    gate = asyncio.Event()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        await gate.wait()
        await hello(scope, receive, send)

    protocol, transport = make(slow, flow_control_high_water=1024)
    protocol.data_received(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n")
    for _ in range(5):
        protocol.data_received(b"x" * 1000)
    assert not transport.reading
    gate.set()
    await settle()
    assert transport.reading
    assert bytes(transport.data).endswith(b"got:" + b"x" * 5000)


async def test_http10_response_framing_without_length(make: Any) -> None:
    async def streaming(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"a", "more_body": True})
        await send({"type": "http.response.body", "body": b"b"})

    protocol, transport = make(streaming)
    protocol.data_received(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    await settle()
    out = bytes(transport.data)
    assert b"transfer-encoding" not in out and b"connection: close" in out
    assert out.endswith(b"\r\n\r\nab") and transport.closed


async def test_send_protocol_misuse_raises(make: Any) -> None:
    errors: list[BaseException] = []

    async def wrong(scope: Any, receive: Any, send: Any) -> None:
        for message in (
            {"type": "http.response.body", "body": b""},
            {"type": "websocket.send", "text": "x"},
        ):
            try:
                await send(message)
            except RuntimeError as exc:
                errors.append(exc)
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
        )
        try:
            await send({"type": "http.response.body", "body": b"too long"})
        except RuntimeError as exc:
            errors.append(exc)

    protocol, transport = make(wrong)
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    await settle()
    assert len(errors) == 3 and transport.closed


async def test_disconnect_reaches_app(make: Any) -> None:
    seen: list[Any] = []

    async def waits(scope: Any, receive: Any, send: Any) -> None:
        seen.append(await receive())
        seen.append(await receive())

    protocol, _transport = make(waits)
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n")
    await settle()
    protocol.connection_lost(None)
    await settle()
    assert seen == [
        {"type": "http.request", "body": b"", "more_body": False},
        {"type": "http.disconnect"},
    ]


def test_split_target() -> None:
    assert split_target(b"/a%2Fb?x=1#frag", "") == ("/a/b", b"/a%2Fb", b"x=1")
    assert split_target(b"http://example.com/p?q", "") == ("/p", b"/p", b"q")
    assert split_target(b"http://example.com", "") == ("/", b"/", b"")
    assert split_target(b"/x", "/prefix") == ("/prefix/x", b"/x", b"")


@pytest.mark.parametrize(
    "options",
    [
        {"workers": 0},
        {"loop": "tokio"},
        {"http_parser": "h2"},
        {"lifespan": "maybe"},
        {"log_level": "loud"},
        {"max_headers": 0},
    ],
)
def test_config_validation(options: dict[str, Any]) -> None:
    with pytest.raises(ImproperlyConfigured):
        Config(**options)


def test_state_date_header_cached() -> None:
    state = ServerState()
    state.tick(0)
    assert state.date_header == b"date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
    assert ServerState(date_header=False, server_header=False).date_header == b""


async def test_lifespan_failure_and_unsupported() -> None:
    async def failing(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    with pytest.raises(LifespanFailed):
        await Lifespan(failing).startup()

    async def unsupported(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("http only")

    lifespan = Lifespan(unsupported, "auto")
    await lifespan.startup()
    assert not lifespan.supported
    await lifespan.shutdown()
    with pytest.raises(LifespanFailed):
        await Lifespan(unsupported, "on").startup()


def test_pure_python_fallback_without_extras(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from covet.exceptions import MissingDependency
    from covet.server.server import new_event_loop

    monkeypatch.setitem(sys.modules, "httptools", None)
    monkeypatch.setitem(sys.modules, "uvloop", None)
    assert not Config().use_httptools()
    with pytest.raises(MissingDependency):
        Config(http_parser="httptools").use_httptools()
    loop = new_event_loop("auto")
    try:
        assert type(loop).__module__.startswith("asyncio")
    finally:
        loop.close()
    with pytest.raises(MissingDependency):
        new_event_loop("uvloop")


def test_server_package_imports_no_extras() -> None:
    import subprocess
    import sys

    code = (
        "import sys, covet.server, covet.server.http11, covet.server.websocket, covet.cli.main; "
        "bad = [m for m in ('httptools', 'uvloop', 'uvicorn', 'granian', 'watchfiles') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
