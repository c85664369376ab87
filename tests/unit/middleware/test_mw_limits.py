"""TimeoutMiddleware and BodySizeLimitMiddleware."""

from __future__ import annotations

import asyncio
import json

import pytest
from mw_helpers import body_app, drive, echo_app

from covet.exceptions import ImproperlyConfigured
from covet.middleware.bodylimit import BodySizeLimitMiddleware, RequestBodyTooLarge
from covet.middleware.timeout import TimeoutMiddleware
from covet.testing import TestClient


async def test_timeout_cancels_the_handler_and_answers_504() -> None:
    events: list[str] = []

    async def slow(scope, receive, send):  # type: ignore[no-untyped-def]
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            events.append("cancelled")
            raise
        finally:
            events.append("cleanup")

    sent, _ = await drive(TimeoutMiddleware(slow, timeout=0.05), extra={"request_id": "rid-9"})
    assert sent[0]["status"] == 504
    assert json.loads(sent[1]["body"]) == {"error": "Request timed out", "trace_id": "rid-9"}
    assert events == ["cancelled", "cleanup"]
    # the task is not left in a cancelled state
    task = asyncio.current_task()
    assert task is not None and task.cancelling() == 0


async def test_fast_handler_is_untouched() -> None:
    sent, _ = await drive(TimeoutMiddleware(body_app(b"ok"), timeout=1))
    assert sent[0]["status"] == 200


async def test_started_stream_is_not_cut() -> None:
    async def streaming(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for _ in range(3):
            await asyncio.sleep(0.04)
            await send({"type": "http.response.body", "body": b"x", "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    sent, _ = await drive(TimeoutMiddleware(streaming, timeout=0.05))
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"xxx"


async def test_handler_swallowing_cancellation_still_gets_504() -> None:
    async def stubborn(scope, receive, send):  # type: ignore[no-untyped-def]
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            pass
        await body_app(b"late")(scope, receive, send)

    sent, _ = await drive(TimeoutMiddleware(stubborn, timeout=0.05))
    assert [m.get("status") for m in sent if m["type"] == "http.response.start"] == [504]


async def test_outer_cancellation_propagates() -> None:
    async def slow(scope, receive, send):  # type: ignore[no-untyped-def]
        await asyncio.sleep(5)

    task = asyncio.ensure_future(drive(TimeoutMiddleware(slow, timeout=10)))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_timeout_bad_configuration() -> None:
    with pytest.raises(ImproperlyConfigured):
        TimeoutMiddleware(echo_app, timeout=0)


def test_declared_content_length_over_limit_is_413_before_the_app() -> None:
    called: list[bool] = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        called.append(True)
        await echo_app(scope, receive, send)

    c = TestClient(BodySizeLimitMiddleware(app, max_body_size=10))
    r = c.post("/", content=b"x" * 11)
    assert r.status_code == 413
    assert "10 bytes" in r.json()["error"]
    assert called == []
    assert c.post("/", content=b"x" * 10).json()["body"] == "x" * 10


async def test_streamed_body_over_limit_stops_reading() -> None:
    chunks = [b"a" * 4, b"b" * 4, b"c" * 4, b"d" * 4]
    pulled: list[int] = []
    sent_chunks = list(chunks)

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        while True:
            message = await receive()
            pulled.append(len(message.get("body", b"")))
            if not message.get("more_body"):
                break
        await body_app(b"never")(scope, receive, send)

    sent, _ = await drive(BodySizeLimitMiddleware(app, max_body_size=10), method="POST", body_chunks=sent_chunks)
    assert sent[0]["status"] == 413
    assert len(sent) == 2
    assert pulled == [4, 4]  # the third chunk raised; the fourth was never read


async def test_app_that_handles_the_exception_itself() -> None:
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        try:
            await receive()
            await receive()
        except RequestBodyTooLarge as exc:
            await body_app(exc.detail.encode(), status=exc.status_code)(scope, receive, send)
            return

    sent, _ = await drive(BodySizeLimitMiddleware(app, max_body_size=3), method="POST", body_chunks=[b"12", b"34"])
    assert sent[0]["status"] == 413


async def test_exceeding_after_response_started_reraises() -> None:
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await receive()
        await receive()

    with pytest.raises(RequestBodyTooLarge):
        await drive(BodySizeLimitMiddleware(app, max_body_size=3), method="POST", body_chunks=[b"12", b"34"])


async def test_invalid_content_length_is_400() -> None:
    sent, _ = await drive(
        BodySizeLimitMiddleware(echo_app), method="POST", headers=[(b"content-length", b"-1")]
    )
    assert sent[0]["status"] == 400


def test_body_limit_bad_configuration() -> None:
    with pytest.raises(ImproperlyConfigured):
        BodySizeLimitMiddleware(echo_app, max_body_size=-1)
