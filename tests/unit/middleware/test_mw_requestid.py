"""RequestIDMiddleware and AccessLogMiddleware."""

from __future__ import annotations

import json
import logging

import pytest
from mw_helpers import body_app, drive, echo_app, start_headers

from covet.exceptions import ImproperlyConfigured
from covet.middleware.requestid import (
    AccessLogMiddleware,
    RequestIDLogFilter,
    RequestIDMiddleware,
    get_request_id,
)
from covet.testing import TestClient


def test_generates_an_id_and_sets_scope_and_header() -> None:
    r = TestClient(RequestIDMiddleware(echo_app)).get("/")
    rid = r.headers["x-request-id"]
    assert len(rid) == 32
    assert r.json()["request_id"] == rid


def test_keeps_a_valid_incoming_id() -> None:
    r = TestClient(RequestIDMiddleware(echo_app)).get("/", headers={"x-request-id": "abc-123:upstream.1"})
    assert r.headers["x-request-id"] == "abc-123:upstream.1"
    assert r.json()["request_id"] == "abc-123:upstream.1"


@pytest.mark.parametrize("bad", ["x" * 129, "has space", "semi;colon", "quote\"", "ünïcode", ""])
async def test_replaces_a_bad_incoming_id(bad: str) -> None:
    sent, scope = await drive(RequestIDMiddleware(echo_app), headers=[(b"x-request-id", bad.encode("utf-8"))])
    assert scope["request_id"] != bad
    assert len(scope["request_id"]) == 32
    assert start_headers(sent)["x-request-id"] == scope["request_id"]


def test_untrusted_incoming_and_custom_header_and_generator() -> None:
    mw = RequestIDMiddleware(echo_app, header_name="X-Correlation-ID", trust_incoming=False, generator=lambda: "fixed")
    r = TestClient(mw).get("/", headers={"x-correlation-id": "from-client"})
    assert r.headers["x-correlation-id"] == "fixed"


async def test_contextvar_and_log_filter() -> None:
    captured: list[str | None] = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        captured.append(get_request_id())
        record = logging.LogRecord("x", logging.INFO, __file__, 1, "m", None, None)
        RequestIDLogFilter().filter(record)
        captured.append(record.request_id)  # type: ignore[attr-defined]
        await body_app(b"ok")(scope, receive, send)

    await drive(RequestIDMiddleware(app), headers=[(b"x-request-id", b"rid-1")])
    assert captured == ["rid-1", "rid-1"]
    assert get_request_id() is None


async def test_websocket_gets_scope_id_only() -> None:
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "websocket.accept"})

    sent, scope = await drive(RequestIDMiddleware(app), scope_type="websocket")
    assert len(scope["request_id"]) == 32
    assert sent == [{"type": "websocket.accept"}]


def test_request_id_bad_configuration() -> None:
    with pytest.raises(ImproperlyConfigured):
        RequestIDMiddleware(echo_app, header_name="X Bad")
    with pytest.raises(ImproperlyConfigured):
        RequestIDMiddleware(echo_app, max_length=0)


def test_access_log_one_json_line(caplog: pytest.LogCaptureFixture) -> None:
    app = RequestIDMiddleware(AccessLogMiddleware(body_app(b"hello")))
    with caplog.at_level(logging.INFO, logger="covet.access"):
        r = TestClient(app).get("/items?x=1", headers={"user-agent": "pytest-agent", "x-request-id": "rid-7"})
    assert r.status_code == 200
    records = [rec for rec in caplog.records if rec.name == "covet.access"]
    assert len(records) == 1
    entry = json.loads(records[0].getMessage())
    assert entry["method"] == "GET"
    assert entry["path"] == "/items"
    assert entry["status"] == 200
    assert entry["bytes"] == 5
    assert entry["request_id"] == "rid-7"
    assert entry["user_agent"] == "pytest-agent"
    assert entry["client"].startswith("testclient:")
    assert entry["duration_ms"] >= 0
    assert records[0].access == entry  # type: ignore[attr-defined]


async def test_access_log_records_errors_and_skips_paths(caplog: pytest.LogCaptureFixture) -> None:
    async def boom(scope, receive, send):  # type: ignore[no-untyped-def]
        raise RuntimeError("kaput")

    logger = logging.getLogger("test.access")
    mw = AccessLogMiddleware(boom, logger=logger, skip_paths=["/health"])
    with caplog.at_level(logging.INFO, logger="test.access"):
        with pytest.raises(RuntimeError):
            await drive(mw, path="/x", headers=[(b"x-request-id", b"from-header")])
        with pytest.raises(RuntimeError):
            await drive(mw, path="/health")
    entries = [json.loads(r.getMessage()) for r in caplog.records if r.name == "test.access"]
    assert len(entries) == 1
    assert entries[0]["status"] == 500
    assert entries[0]["error"] == "RuntimeError"
    assert entries[0]["request_id"] == "from-header"


async def test_access_log_disabled_logger_costs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.access.quiet")
    logger.setLevel(logging.WARNING)
    sent, _ = await drive(AccessLogMiddleware(body_app(b"ok"), logger=logger))
    assert sent[0]["status"] == 200
    assert not [r for r in caplog.records if r.name == "test.access.quiet"]
