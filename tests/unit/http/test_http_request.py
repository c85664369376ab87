from __future__ import annotations

import json
from typing import Any

import pytest

from covet import _json
from covet.exceptions import HTTPException
from covet.http.limits import DEFAULT_LIMITS, Limits
from covet.http.request import ClientDisconnect, HTTPConnection, Request


class App:
    def __init__(self, limits: Limits | None = None) -> None:
        if limits is not None:
            self.limits = limits

    def url_path_for(self, name: str, **params: Any) -> str:
        if name != "user":
            raise LookupError(name)
        return f"/users/{params['user_id']}"


def test_connection_properties_are_lazy_and_cached(asgi: Any) -> None:
    scope = asgi.scope(
        path="/items",
        query=b"a=1&a=2",
        headers=[
            (b"cookie", b"sid=abc; theme=dark"),
            (b"cookie", b"sid=later; x=1"),
            (b"x-h", b"v"),
        ],
        path_params={"id": 3},
    )
    req = Request(scope)
    assert "headers" not in req.__dict__
    assert req.headers["X-H"] == "v"
    assert req.__dict__["headers"] is req.headers
    assert req.method == "GET"
    assert str(req.url) == "http://testserver/items?a=1&a=2"
    assert str(req.base_url) == "http://testserver/"
    assert req.query_params.getlist("a") == ["1", "2"]
    assert req.path_params == {"id": 3}
    assert req.cookies == {"sid": "abc", "theme": "dark", "x": "1"}
    assert req.client == ("127.0.0.1", 5000) and req.client.host == "127.0.0.1"
    assert req.scheme == "http"
    assert req["path"] == "/items" and req.get("nope", 1) == 1
    assert req.limits is DEFAULT_LIMITS


def test_state_shares_scope_state(asgi: Any) -> None:
    scope = asgi.scope(state={"db": "pool"})
    req = Request(scope)
    assert req.state.db == "pool"
    req.state.user = "u"
    assert scope["state"]["user"] == "u"
    assert Request(scope).state.user == "u"
    bare = asgi.scope()
    Request(bare).state.x = 1
    assert bare["state"] == {"x": 1}


def test_session_user_auth_need_middleware(asgi: Any) -> None:
    req = Request(asgi.scope())
    with pytest.raises(AssertionError, match="SessionMiddleware"):
        _ = req.session
    with pytest.raises(AssertionError, match="AuthenticationMiddleware"):
        _ = req.user
    with pytest.raises(AssertionError, match="AuthenticationMiddleware"):
        _ = req.auth
    req2 = Request(asgi.scope(session={"a": 1}, user="bob", auth=["read"]))
    assert req2.session == {"a": 1} and req2.user == "bob" and req2.auth == ["read"]


def test_url_for_and_client_none(asgi: Any) -> None:
    req = Request(asgi.scope(app=App(), root_path="/api", path="/api/x", client=None))
    assert str(req.url_for("user", user_id=7)) == "http://testserver/api/users/7"
    assert req.client is None
    with pytest.raises(RuntimeError, match="url_path_for"):
        Request(asgi.scope()).url_for("user")


def test_request_needs_http_scope_and_connection_for_websocket() -> None:
    with pytest.raises(ValueError):
        Request({"type": "websocket"})
    conn = HTTPConnection(
        {
            "type": "websocket",
            "headers": [(b"host", b"h")],
            "path": "/ws",
            "scheme": "ws",
            "query_string": b"",
        }
    )
    assert str(conn.url) == "ws://h/ws"


async def test_body_complete_on_content_length_without_trailing_message(asgi: Any) -> None:
    receive = asgi.receiver(
        {"type": "http.request", "body": b"hel", "more_body": True},
        {"type": "http.request", "body": b"lo", "more_body": True},
        then_disconnect=False,  # granian-style: the empty final message has not arrived
    )
    req = Request(asgi.scope("POST", headers=[(b"content-length", b"5")]), receive)
    assert await req.body() == b"hello"
    assert await req.body() == b"hello"  # cached
    assert receive.calls["n"] == 2
    assert [c async for c in req.stream()] == [b"hello"]


async def test_body_chunked_until_more_body_false(asgi: Any) -> None:
    req = Request(asgi.scope("POST"), asgi.body_receiver(b"a", b"", b"b", b""))
    assert await req.body() == b"ab"


async def test_zero_content_length_reads_nothing(asgi: Any) -> None:
    receive = asgi.receiver(then_disconnect=False)
    req = Request(asgi.scope("POST", headers=[(b"content-length", b"0")]), receive)
    assert await req.body() == b""
    assert receive.calls["n"] == 0


async def test_stream_then_body_is_an_error(asgi: Any) -> None:
    req = Request(asgi.scope("POST"), asgi.body_receiver(b"ab", b"cd"))
    assert [c async for c in req.stream()] == [b"ab", b"cd"]
    with pytest.raises(RuntimeError, match="already been consumed"):
        await req.body()


async def test_413_declared_before_reading(asgi: Any) -> None:
    receive = asgi.receiver(then_disconnect=False)
    req = Request(asgi.scope("POST", headers=[(b"content-length", b"1048577")]), receive)
    with pytest.raises(HTTPException) as exc:
        await req.body()
    assert exc.value.status_code == 413
    assert receive.calls["n"] == 0


async def test_413_streamed_without_content_length(asgi: Any) -> None:
    app = App(Limits(max_body_size=10))
    req = Request(asgi.scope("POST", app=app), asgi.body_receiver(b"123456", b"7890", b"X", b""))
    with pytest.raises(HTTPException) as exc:
        await req.body()
    assert exc.value.status_code == 413


async def test_413_when_content_length_lies(asgi: Any) -> None:
    app = App(Limits(max_body_size=10))
    scope = asgi.scope("POST", app=app, headers=[(b"content-length", b"5")])
    req = Request(scope, asgi.body_receiver(b"1234", b"5678901234"))
    with pytest.raises(HTTPException) as exc:
        await req.body()
    assert exc.value.status_code == 413


async def test_invalid_content_length_is_400(asgi: Any) -> None:
    req = Request(
        asgi.scope("POST", headers=[(b"content-length", b"-1")]), asgi.body_receiver(b"x")
    )
    with pytest.raises(HTTPException) as exc:
        await req.body()
    assert exc.value.status_code == 400


async def test_disconnect_while_reading(asgi: Any) -> None:
    req = Request(
        asgi.scope("POST"), asgi.receiver({"type": "http.request", "body": b"x", "more_body": True})
    )
    with pytest.raises(ClientDisconnect):
        await req.body()
    assert await req.is_disconnected()


async def test_json(asgi: Any) -> None:
    req = Request(asgi.scope("POST"), asgi.body_receiver(b'{"a": [1, 2, {"b": null}]}'))
    assert await req.json() == {"a": [1, 2, {"b": None}]}
    assert await req.json() == {"a": [1, 2, {"b": None}]}


@pytest.mark.parametrize("body", [b"", b"{", b"{'a': 1}", b"\xff\xfe", b"[1,]", b"NaNx"])
async def test_malformed_json_is_400(asgi: Any, body: bytes) -> None:
    req = Request(asgi.scope("POST"), asgi.body_receiver(body))
    with pytest.raises(HTTPException) as exc:
        await req.json()
    assert exc.value.status_code == 400


@pytest.mark.parametrize("backend", ["default", "stdlib"])
async def test_deep_json_is_400(asgi: Any, backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if backend == "stdlib":
        monkeypatch.setattr(_json, "dumps", _json._std_dumps)
        monkeypatch.setattr(_json, "loads", _json._std_loads)
    limits = Limits(max_json_depth=5)
    ok = json.dumps([[[[{"a": 1}]]]]).encode()
    req = Request(asgi.scope("POST", app=App(limits)), asgi.body_receiver(ok))
    assert await req.json() == [[[[{"a": 1}]]]]
    too_deep = json.dumps([[[[[{"a": 1}]]]]]).encode()
    req = Request(asgi.scope("POST", app=App(limits)), asgi.body_receiver(too_deep))
    with pytest.raises(HTTPException, match="nested too deeply"):
        await req.json()
    # Far past any recursion limit: still a clean 400.
    bomb = b"[" * 200_000 + b"]" * 200_000
    app = App(Limits(max_body_size=1_000_000))
    req = Request(asgi.scope("POST", app=app), asgi.body_receiver(bomb))
    with pytest.raises(HTTPException) as exc:
        await req.json()
    assert exc.value.status_code == 400


async def test_brackets_inside_strings_do_not_count(asgi: Any) -> None:
    body = json.dumps({"s": "[[[[[[[[[[[[[[[[["}).encode()
    req = Request(asgi.scope("POST", app=App(Limits(max_json_depth=2))), asgi.body_receiver(body))
    assert await req.json() == {"s": "[[[[[[[[[[[[[[[[["}


async def test_is_disconnected_does_not_lose_body(asgi: Any) -> None:
    receive = asgi.receiver({"type": "http.request", "body": b"data", "more_body": False})
    req = Request(asgi.scope("POST"), receive)
    assert not await req.is_disconnected()
    assert await req.body() == b"data"
    assert await req.is_disconnected()
    assert await req.is_disconnected()


async def test_is_disconnected_with_pending_receive(asgi: Any) -> None:
    import asyncio

    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    req = Request(asgi.scope(), queue.get)
    assert not await req.is_disconnected()  # nothing ready: does not block
    await queue.put({"type": "http.disconnect"})
    assert await req.is_disconnected()


async def test_empty_receive_send_raise(asgi: Any) -> None:
    req = Request(asgi.scope("POST"))
    with pytest.raises(RuntimeError, match="Receive channel"):
        await req.body()


@pytest.mark.parametrize(
    ("text", "depth", "exceeds"),
    [
        (b"[[1]]", 2, False),
        (b"[[[1]]]", 2, True),
        (b'{"a": "[[[[\\"[[[[", "b": [{}]}', 3, False),
        (b'{"a": "\\\\", "b": [[[[]]]]}', 4, True),
        (b'[{"k": "}}}}"}, {"k": "]]]"}, [], [], []]', 2, False),
        ("[[[\u00e9]]]", 3, False),
    ],
)
def test_json_nesting_exceeds(text: bytes | str, depth: int, exceeds: bool) -> None:
    from covet.http.limits import json_nesting_exceeds

    assert json_nesting_exceeds(text, depth) is exceeds


async def test_is_disconnected_with_plain_iterator_awaitable(asgi: Any) -> None:
    class Pending:
        """An awaitable whose iterator has no send/close (like some native servers)."""

        def __await__(self) -> Any:
            return iter([None])

    req = Request(asgi.scope(), lambda: Pending())
    assert not await req.is_disconnected()

    class Done:
        def __await__(self) -> Any:
            if False:
                yield
            return {"type": "http.disconnect"}

    assert await Request(asgi.scope(), lambda: Done()).is_disconnected()
