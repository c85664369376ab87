"""Behaviour the fast paths of the header-adding middleware must keep.

The middleware add headers through plain (non-async) send wrappers, scan header lists
once and remember per-value results (allowed origins, hosts, trusted peers). These
tests pin what that must not change: the app's own messages and header lists are never
mutated (a response may reuse them), headers the handler set in any case are kept,
header lists may be tuples, and the caches never turn a refusal into an acceptance.
"""

from __future__ import annotations

import inspect
import os
from typing import Any

import pytest
from mw_helpers import drive, echo_app, start_headers

from covet._types import Receive, Scope, Send
from covet.middleware import (
    CORSMiddleware,
    GZipMiddleware,
    ProxyHeadersMiddleware,
    RateLimitMiddleware,
    RequestIDMiddleware,
    SecurityHeadersMiddleware,
    TrustedHostMiddleware,
)
from covet.middleware import _util as util_module
from covet.middleware import requestid as requestid_module
from covet.middleware._util import add_vary

ORIGIN = b"https://app.example.com"
FROZEN_HEADERS = ((b"content-type", b"application/json"), (b"content-length", b"2"))


def reused_message_app(headers: Any = FROZEN_HEADERS) -> tuple[Any, dict[str, Any]]:
    """An app that sends the same start message object on every call (as a cache might)."""
    start = {"type": "http.response.start", "status": 200, "headers": headers}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send(start)
        await send({"type": "http.response.body", "body": b"{}"})

    return app, start


WRAPPERS = [
    ("security", lambda app: SecurityHeadersMiddleware(app)),
    ("requestid", lambda app: RequestIDMiddleware(app)),
    ("cors", lambda app: CORSMiddleware(app, allow_origins=[ORIGIN.decode()], allow_credentials=True)),
    ("gzip", lambda app: GZipMiddleware(app, minimum_size=0)),
    ("ratelimit", lambda app: RateLimitMiddleware(app, limit="1000/minute")),
]


@pytest.mark.parametrize(("name", "wrap"), WRAPPERS, ids=[n for n, _ in WRAPPERS])
@pytest.mark.parametrize("as_list", [False, True], ids=["tuple-headers", "list-headers"])
async def test_app_messages_are_never_mutated(name: str, wrap: Any, as_list: bool) -> None:
    headers = list(FROZEN_HEADERS) if as_list else FROZEN_HEADERS
    app, start = reused_message_app(headers)
    mw = wrap(app)
    for _ in range(3):  # added headers must not pile up across requests
        sent, _ = await drive(mw, headers=[(b"host", b"testserver"), (b"origin", ORIGIN)])
        names = [k for k, _ in sent[0]["headers"]]
        assert len(names) == len(set(names)), names
    assert start == {"type": "http.response.start", "status": 200, "headers": headers}
    assert list(headers) == list(FROZEN_HEADERS)


async def test_wrapped_send_returns_an_awaitable_for_every_message() -> None:
    """The wrappers are plain functions now: callers still just ``await send(...)``."""
    seen: list[bool] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        pending = send({"type": "http.response.start", "status": 200, "headers": []})
        seen.append(inspect.isawaitable(pending))
        await pending
        await send({"type": "http.response.body", "body": b"x"})

    mw = RequestIDMiddleware(SecurityHeadersMiddleware(CORSMiddleware(GZipMiddleware(app), allow_origins=["*"])))
    sent, _ = await drive(mw)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert seen == [True]


@pytest.mark.parametrize(
    ("wrap", "name", "value"),
    [
        (SecurityHeadersMiddleware, b"X-Frame-Options", b"SAMEORIGIN"),
        (RequestIDMiddleware, b"X-Request-ID", b"from-handler"),
        (
            lambda app: CORSMiddleware(app, allow_origins=[ORIGIN.decode()]),
            b"Access-Control-Allow-Origin",
            b"https://handler.example",
        ),
    ],
)
async def test_headers_set_by_the_handler_in_any_case_are_kept(wrap: Any, name: bytes, value: bytes) -> None:
    app, _ = reused_message_app((*FROZEN_HEADERS, (name, value)))
    sent, _ = await drive(wrap(app), headers=[(b"host", b"testserver"), (b"origin", ORIGIN)])
    matching = [v for k, v in sent[0]["headers"] if k.lower() == name.lower()]
    assert matching == [value]


async def test_cors_cache_never_allows_a_refused_origin() -> None:
    mw = CORSMiddleware(echo_app, allow_origins=["https://a.example"], allow_origin_regex=r"https://\w+\.b\.example")
    for _ in range(2):
        for origin, allowed in [
            (b"https://a.example", True),
            (b"https://x.b.example", True),
            (b"https://evil.example", False),
            (b"https://a.example.evil", False),
        ]:
            sent, _ = await drive(mw, headers=[(b"host", b"t"), (b"origin", origin)])
            headers = start_headers(sent)
            assert (headers.get("access-control-allow-origin") == origin.decode()) is allowed
            assert headers["vary"] == "Origin"


async def test_cors_origin_cache_is_bounded() -> None:
    mw = CORSMiddleware(echo_app, allow_origin_regex=r"https://[0-9]+\.example")
    for i in range(300):
        origin = f"https://{i}.example".encode()
        sent, _ = await drive(mw, headers=[(b"host", b"t"), (b"origin", origin)])
        assert start_headers(sent)["access-control-allow-origin"] == origin.decode()
    assert len(mw._allowed) <= 256


async def test_trusted_host_cache_never_allows_a_refused_host() -> None:
    mw = TrustedHostMiddleware(echo_app, allowed_hosts=["*.example.com"], www_redirect=False)
    for _ in range(2):
        assert (await drive(mw, headers=[(b"host", b"a.example.com:8000")]))[0][0]["status"] == 200
        assert (await drive(mw, headers=[(b"host", b"example.com")]))[0][0]["status"] == 400
        assert (await drive(mw, headers=[(b"host", b"a.example.com.evil")]))[0][0]["status"] == 400
        assert (await drive(mw, headers=[]))[0][0]["status"] == 400
    for i in range(300):
        host = f"h{i}.example.com".encode()
        assert (await drive(mw, headers=[(b"host", host)]))[0][0]["status"] == 200
    assert len(mw._allowed_raw) <= 256


async def test_proxy_trust_cache_is_bounded_and_consistent() -> None:
    mw = ProxyHeadersMiddleware(echo_app, trusted_hosts=["10.0.0.0/8"])
    forwarded = [(b"host", b"t"), (b"x-forwarded-for", b"203.0.113.5")]
    for i in range(1100):
        peer = f"10.0.{i // 256}.{i % 256}"
        assert mw.is_trusted(peer)
    assert len(mw._trusted_cache) <= 1024
    assert not mw.is_trusted("11.0.0.1") and not mw.is_trusted("11.0.0.1")
    assert not mw.is_trusted("not-an-ip") and not mw.is_trusted("")
    _, scope = await drive(mw, headers=forwarded, client=("10.1.2.3", 1))
    assert scope["client"] == ("203.0.113.5", 0)
    _, scope = await drive(mw, headers=forwarded, client=("11.1.2.3", 1))
    assert scope["client"] == ("11.1.2.3", 1)


def test_generated_request_ids_are_unique_hex() -> None:
    ids = {requestid_module._default_generator() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_worker_does_not_reuse_the_parents_request_ids() -> None:
    requestid_module._default_generator()  # the parent has ids ready
    upcoming = list(requestid_module._ids)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.write(write_end, requestid_module._default_generator().encode())
        finally:
            os._exit(0)
    os.close(write_end)
    child_id = os.read(read_end, 64).decode()
    os.close(read_end)
    os.waitpid(pid, 0)
    assert len(child_id) == 32 and child_id not in upcoming


@pytest.mark.parametrize(
    ("existing", "value", "expected"),
    [
        (b"Accept-Encoding", "Origin", b"Accept-Encoding, Origin"),
        (b"accept-encoding, origin", "Origin", b"accept-encoding, origin"),
        (b"*", "Origin", b"*"),
        (b" Cookie ,ORIGIN ", "Origin", b" Cookie ,ORIGIN "),
        (b"", "Origin", b", Origin"),
    ],
)
def test_add_vary_merges_the_same_way_every_time(existing: bytes, value: str, expected: bytes) -> None:
    for _ in range(3):  # the second and third answers come from the merge cache
        headers = [(b"content-type", b"text/plain"), (b"Vary", existing)]
        add_vary(headers, value)
        assert headers == [(b"content-type", b"text/plain"), (b"Vary", expected)]


def test_add_vary_cache_is_bounded() -> None:
    for i in range(300):
        headers = [(b"vary", f"X-{i}".encode())]
        add_vary(headers, "Origin")
        assert headers == [(b"vary", f"X-{i}, Origin".encode())]
    assert len(util_module._VARY_MERGED) <= 256
