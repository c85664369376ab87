from __future__ import annotations

import asyncio
import datetime
import decimal
import enum
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from covet import _json
from covet.background import BackgroundTask
from covet.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)


async def test_plain_response_sends_exactly_two_messages(asgi: Any) -> None:
    sent = await asgi.run(PlainTextResponse("Hello, World!"))
    assert sent == [
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-length", b"13"),
                (b"content-type", b"text/plain; charset=utf-8"),
            ],
        },
        {"type": "http.response.body", "body": b"Hello, World!"},
    ]


async def test_response_variants(asgi: Any) -> None:
    resp = Response(b"\x00\x01", media_type="application/octet-stream", status_code=201)
    sent = await asgi.run(resp)
    assert sent[0]["status"] == 201
    assert sent[0]["headers"] == [
        (b"content-length", b"2"),
        (b"content-type", b"application/octet-stream"),
    ]
    assert Response().body == b"" and Response().raw_headers == [(b"content-length", b"0")]
    assert HTMLResponse("<p>é</p>").raw_headers[1] == (b"content-type", b"text/html; charset=utf-8")
    assert HTMLResponse("<p>é</p>").body == "<p>é</p>".encode()
    assert Response("x", media_type="text/csv").raw_headers[1] == (
        b"content-type",
        b"text/csv; charset=utf-8",
    )
    assert (
        Response("x", media_type="text/plain; charset=latin-1").raw_headers[1][1]
        == b"text/plain; charset=latin-1"
    )
    assert Response(bytearray(b"ab")).body == b"ab"
    with pytest.raises(TypeError, match="JSONResponse"):
        Response({"a": 1})


async def test_user_headers_kept_and_validated(asgi: Any) -> None:
    resp = PlainTextResponse("x", headers={"X-Custom": "1", "Content-Type": "text/x-mine"})
    assert resp.raw_headers == [
        (b"x-custom", b"1"),
        (b"content-type", b"text/x-mine"),
        (b"content-length", b"1"),
    ]
    with pytest.raises(ValueError):
        Response("x", headers={"x-evil": "a\r\nSet-Cookie: s=1"})


async def test_headers_property_edits_raw(asgi: Any) -> None:
    resp = PlainTextResponse("x")
    resp.headers["x-a"] = "1"
    resp.headers.append("x-a", "2")
    assert resp.raw_headers[-2:] == [(b"x-a", b"1"), (b"x-a", b"2")]
    assert resp.headers is resp.headers


async def test_subclass_media_type_class_attribute(asgi: Any) -> None:
    class CSVResponse(Response):
        media_type = "text/csv"

    assert CSVResponse("a,b").media_type == "text/csv"
    assert CSVResponse("a,b").raw_headers[1] == (b"content-type", b"text/csv; charset=utf-8")
    assert CSVResponse("a", media_type="text/plain").media_type == "text/plain"


@pytest.mark.parametrize("status", [204, 304, 101])
async def test_no_body_statuses(asgi: Any, status: int) -> None:
    resp = Response(b"ignored", status_code=status, media_type="text/plain")
    sent = await asgi.run(resp)
    assert sent[0]["headers"] == []
    assert sent[1] == {"type": "http.response.body", "body": b""}


async def test_head_sends_headers_but_no_body(asgi: Any) -> None:
    sent = await asgi.run(PlainTextResponse("Hello"), asgi.scope("HEAD"))
    assert (b"content-length", b"5") in sent[0]["headers"]
    assert sent[1]["body"] == b""


async def test_background_runs_after_send(asgi: Any) -> None:
    order: list[str] = []

    async def send(message: dict[str, Any]) -> None:
        order.append(message["type"])

    def task(x: int) -> None:
        order.append(f"task{x}")

    await Response("x", background=BackgroundTask(task, 1))(asgi.scope(), asgi.receiver(), send)
    assert order == ["http.response.start", "http.response.body", "task1"]


async def test_websocket_denial_response(asgi: Any) -> None:
    sent = await asgi.run(
        PlainTextResponse("no", status_code=403), {"type": "websocket", "headers": []}
    )
    assert [m["type"] for m in sent] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
    ]


async def test_json_response(asgi: Any) -> None:
    resp = JSONResponse({"message": "Hello, World!", "n": [1, 2.5, None, True]}, status_code=201)
    sent = await asgi.run(resp)
    assert sent[0]["status"] == 201
    assert sent[0]["headers"] == [
        (b"content-length", b"49"),
        (b"content-type", b"application/json"),
    ]
    assert sent[1]["body"] == b'{"message":"Hello, World!","n":[1,2.5,null,true]}'


class Color(enum.Enum):
    RED = "red"


RICH = {
    "text": "caf\u00e9 \u2603",
    "when": datetime.datetime(2024, 1, 2, 3, 4, 5),
    "day": datetime.date(2024, 1, 2),
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "price": decimal.Decimal("1.5"),
    "color": Color.RED,
    "tuple": (1, 2),
    "nested": {"a": [{"b": None}]},
    "float": 0.1,
    "big": 2**53,
}


def test_json_backends_give_identical_bodies() -> None:
    default_body = JSONResponse(RICH).body
    backend = _json.backend()
    try:
        _json.use_stdlib()
        stdlib_body = JSONResponse(RICH).body
    finally:
        _json._install()
    assert _json.backend() == backend
    assert default_body == stdlib_body
    assert "café ☃".encode() in default_body


async def test_redirect_response(asgi: Any) -> None:
    sent = await asgi.run(RedirectResponse("/a b?x=1&y=ü"))
    assert sent[0]["status"] == 307
    assert (b"location", b"/a%20b?x=1&y=%C3%BC") in sent[0]["headers"]
    assert (b"content-length", b"0") in sent[0]["headers"]
    evil = RedirectResponse("https://ex.com/\r\nSet-Cookie: x=1", status_code=302)
    location = dict(evil.raw_headers)[b"location"]
    assert b"\r" not in location and b"\n" not in location and evil.status_code == 302


async def test_set_and_delete_cookie(asgi: Any) -> None:
    resp = Response("x")
    resp.set_cookie("sid", "abc", max_age=10, secure=True)
    resp.delete_cookie("old")
    cookies = [v for k, v in resp.raw_headers if k == b"set-cookie"]
    assert cookies[0] == b"sid=abc; Max-Age=10; Path=/; Secure; HttpOnly; SameSite=Lax"
    assert cookies[1].startswith(b"old=; Max-Age=0; Expires=")
    with pytest.raises(ValueError):
        resp.set_cookie("sid", "a;b")


async def test_streaming_async_iterator(asgi: Any) -> None:
    async def gen() -> AsyncIterator[str | bytes]:
        yield "héllo "
        yield b"world"

    resp = StreamingResponse(gen(), media_type="text/plain", headers={"x-a": "1"})
    sent = await asgi.run(resp, receive=asgi.receiver(block=True))
    assert sent[0] == {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"x-a", b"1"), (b"content-type", b"text/plain; charset=utf-8")],
    }
    assert sent[1:] == [
        {"type": "http.response.body", "body": "héllo ".encode(), "more_body": True},
        {"type": "http.response.body", "body": b"world", "more_body": True},
        {"type": "http.response.body", "body": b"", "more_body": False},
    ]


async def test_streaming_sync_iterator_runs_in_threadpool(asgi: Any) -> None:
    import threading

    threads: set[int] = set()

    def gen() -> Iterator[bytes]:
        for i in range(3):
            threads.add(threading.get_ident())
            yield b"%d" % i

    sent = await asgi.run(StreamingResponse(gen()), receive=asgi.receiver(block=True))
    assert asgi.body_of(sent) == b"012"
    assert threading.get_ident() not in threads


async def test_streaming_stops_on_disconnect(asgi: Any) -> None:
    produced: list[int] = []
    closed = asyncio.Event()

    async def forever() -> AsyncIterator[bytes]:
        try:
            i = 0
            while True:
                produced.append(i)
                yield b"x"
                i += 1
                await asyncio.sleep(0.001)
        finally:
            closed.set()

    disconnect = asyncio.Event()

    async def receive() -> dict[str, Any]:
        await disconnect.wait()
        return {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if len(sent) == 4:
            disconnect.set()

    ran = []
    resp = StreamingResponse(forever(), background=BackgroundTask(lambda: ran.append(1)))
    await asyncio.wait_for(resp(asgi.scope(), receive, send), 2)
    assert closed.is_set()
    assert len(produced) < 50
    assert ran == []  # the client is gone: no background work for it


async def test_streaming_stops_when_send_raises_oserror(asgi: Any) -> None:
    async def forever() -> AsyncIterator[bytes]:
        while True:
            yield b"x"

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body":
            raise OSError("client gone")

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(10)
        return {"type": "http.disconnect"}

    await asyncio.wait_for(StreamingResponse(forever())(asgi.scope(), receive, send), 2)


async def test_streaming_iterator_error_propagates(asgi: Any) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"a"
        raise ValueError("boom")

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(10)
        return {"type": "http.disconnect"}

    with pytest.raises(ValueError, match="boom"):
        await asgi.run(StreamingResponse(broken()), receive=receive)


async def test_streaming_head_does_not_iterate(asgi: Any) -> None:
    started = []

    async def gen() -> AsyncIterator[bytes]:
        started.append(1)
        yield b"x"

    sent = await asgi.run(StreamingResponse(gen()), asgi.scope("HEAD"))
    assert started == [] and sent[1] == {"type": "http.response.body", "body": b""}


@pytest.mark.parametrize(
    ("response", "start_headers", "body"),
    [
        (
            HTMLResponse("<b>hi</b>", status_code=404),
            [(b"content-length", b"9"), (b"content-type", b"text/html; charset=utf-8")],
            b"<b>hi</b>",
        ),
        (
            JSONResponse([1, "a"]),
            [(b"content-length", b"7"), (b"content-type", b"application/json")],
            b'[1,"a"]',
        ),
        (
            RedirectResponse("https://example.com/next", status_code=303),
            [(b"content-length", b"0"), (b"location", b"https://example.com/next")],
            b"",
        ),
        (Response(b"x", headers={"content-length": "1"}), [(b"content-length", b"1")], b"x"),
    ],
    ids=["html", "json", "redirect", "plain-bytes"],
)
async def test_exact_asgi_messages(
    asgi: Any, response: Response, start_headers: list[Any], body: bytes
) -> None:
    sent = await asgi.run(response)
    assert sent == [
        {"type": "http.response.start", "status": response.status_code, "headers": start_headers},
        {"type": "http.response.body", "body": body},
    ]


def test_headers_view_follows_reassigned_raw_headers() -> None:
    resp = Response("x")
    assert resp.headers["content-length"] == "1"
    resp.raw_headers = [(b"x-new", b"1")]
    assert resp.headers["x-new"] == "1" and "content-length" not in resp.headers


async def test_sync_iterator_closed_on_disconnect_and_completion(asgi: Any, tmp_path: Any) -> None:
    import threading

    finished = threading.Event()
    release = threading.Event()

    def rows() -> Iterator[bytes]:
        try:
            yield b"first"
            release.wait(2)
            yield b"second"
        finally:
            finished.set()

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    resp = StreamingResponse(rows())
    task = asyncio.ensure_future(resp(asgi.scope(), receive, asgi.sender()[1]))
    await asyncio.sleep(0.05)
    release.set()
    await asyncio.wait_for(task, 2)
    assert await asyncio.to_thread(finished.wait, 2)

    path = tmp_path / "data.txt"
    path.write_bytes(b"line1\nline2\n")
    handle = path.open("rb")
    sent = await asgi.run(StreamingResponse(handle), receive=asgi.receiver(block=True))
    assert asgi.body_of(sent) == b"line1\nline2\n"
    assert handle.closed
