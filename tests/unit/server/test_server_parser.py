"""Both request parsers (pure Python and httptools) fed bytes, with the same strictness."""

from __future__ import annotations

from typing import Any

import pytest

from covet.server.parser import KNOWN_METHODS, ParseError


def feed_all(parser_cls: Any, recorder: Any, data: bytes, step: int = 0, **limits: Any) -> Any:
    parser = parser_cls(recorder, **limits)
    if step:
        result = None
        for i in range(0, len(data), step):
            result = parser.feed(data[i : i + step])
        return result
    return parser.feed(data)


def test_simple_get(parser_cls: Any, recorder: Any) -> None:
    feed_all(parser_cls, recorder, b"GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Thing:  v a l \r\n\r\n")
    (head,) = recorder.heads
    assert head.method == "GET"
    assert head.target == b"/a?b=1"
    assert head.http_version == "1.1"
    assert head.headers == [(b"host", b"x"), (b"x-thing", b"v a l")]
    assert head.keep_alive and not head.expect_continue and head.upgrade is None
    assert recorder.complete == 1


@pytest.mark.parametrize("step", [1, 3, 7])
def test_byte_by_byte_content_length_body(parser_cls: Any, recorder: Any, step: int) -> None:
    data = b"POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world"
    feed_all(parser_cls, recorder, data, step=step)
    assert bytes(recorder.bodies[0]) == b"hello world"
    assert recorder.complete == 1


@pytest.mark.parametrize("step", [0, 1, 5])
def test_chunked_with_extensions_and_trailers(parser_cls: Any, recorder: Any, step: int) -> None:
    data = (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;name=val\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n"
    )
    feed_all(parser_cls, recorder, data, step=step)
    assert bytes(recorder.bodies[0]) == b"hello world"
    assert recorder.heads[0].chunked
    assert recorder.complete == 1


def test_pipelined_requests(parser_cls: Any, recorder: Any) -> None:
    data = (
        b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
        b"GET /3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    feed_all(parser_cls, recorder, data)
    assert [h.target for h in recorder.heads] == [b"/1", b"/2", b"/3"]
    assert [bytes(b) for b in recorder.bodies] == [b"", b"abc", b""]
    assert [h.keep_alive for h in recorder.heads] == [True, True, False]
    assert recorder.complete == 3


def test_http10_keep_alive_rules(parser_cls: Any, recorder: Any) -> None:
    feed_all(
        parser_cls,
        recorder,
        b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\nGET / HTTP/1.0\r\n\r\n",
    )
    assert [h.keep_alive for h in recorder.heads] == [True, False]
    assert recorder.heads[0].http_version == "1.0"


def test_data_after_close_is_dropped(parser_cls: Any, recorder: Any) -> None:
    parser = parser_cls(recorder)
    parser.feed(b"GET /1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\n")
    parser.feed(b"Host: x\r\n\r\ngarbage\x00")
    assert [h.target for h in recorder.heads] == [b"/1"]


def test_expect_continue(parser_cls: Any, recorder: Any) -> None:
    feed_all(
        parser_cls,
        recorder,
        b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
    )
    assert recorder.heads[0].expect_continue
    assert recorder.complete == 0


def test_websocket_upgrade_returns_tail(parser_cls: Any, recorder: Any) -> None:
    data = (
        b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, Upgrade\r\n"
        b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n\x81\x80"
    )
    tail = feed_all(parser_cls, recorder, data)
    assert tail == b"\x81\x80"
    assert recorder.heads[0].upgrade == b"websocket"
    assert recorder.complete == 0


def test_other_upgrade_is_ignored(parser_cls: Any, recorder: Any) -> None:
    data = (
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
        b"GET /2 HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    assert feed_all(parser_cls, recorder, data) is None
    assert [h.target for h in recorder.heads] == [b"/", b"/2"]
    assert recorder.complete == 2


def test_leading_empty_line_tolerated(parser_cls: Any, recorder: Any) -> None:
    feed_all(parser_cls, recorder, b"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert recorder.complete == 1


def test_obs_text_in_value_and_absolute_form(parser_cls: Any, recorder: Any) -> None:
    feed_all(parser_cls, recorder, b"GET http://x/a HTTP/1.1\r\nHost: x\r\nX: caf\xc3\xa9\r\n\r\n")
    assert recorder.heads[0].target == b"http://x/a"
    assert recorder.heads[0].headers[1] == (b"x", b"caf\xc3\xa9")


@pytest.mark.parametrize("method", sorted(KNOWN_METHODS - {"CONNECT"}))
def test_known_methods_accepted(parser_cls: Any, recorder: Any, method: str) -> None:
    feed_all(parser_cls, recorder, method.encode() + b" / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert recorder.heads[0].method == method


SMUGGLING = {
    "cl-and-te": (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    "te-and-cl": (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
        400,
    ),
    "conflicting-cl": (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        400,
    ),
    "repeated-equal-cl": (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
        400,
    ),
    "cl-list": (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc", 400),
    "cl-plus-sign": (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc", 400),
    "cl-negative": (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
    "cl-hex": (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x3\r\n\r\nabc", 400),
    "te-not-chunked": (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    "te-chunked-not-last": (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
        400,
    ),
    "te-gzip-chunked": (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        501,
    ),
    "te-repeated": (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    "te-http10": (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
    "chunk-size-invalid": (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
        400,
    ),
    "chunk-size-negative": (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n",
        400,
    ),
    "chunk-size-overflow": (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\nabc\r\n",
        400,
    ),
    "chunk-size-space": (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n 3\r\nabc\r\n0\r\n\r\n",
        400,
    ),
    "chunk-bare-lf": (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
        400,
    ),
    "chunk-data-too-long": (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n",
        400,
    ),
    "chunk-trailer-bare-lf": (
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: a\nY: b\r\n\r\n",
        400,
    ),
    "obs-fold": (b"GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", 400),
    "obs-fold-tab": (b"GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n\tb\r\n\r\n", 400),
    "bare-lf-header": (b"GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", 400),
    "bare-lf-request-line": (b"GET / HTTP/1.1\nHost: x\r\n\r\n", 400),
    "bare-lf-everywhere": (b"GET / HTTP/1.1\nHost: x\n\n", 400),
    "bare-cr-value": (b"GET / HTTP/1.1\r\nHost: x\rY\r\n\r\n", 400),
    "space-before-colon": (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
    "invalid-header-name": (b"GET / HTTP/1.1\r\nHost: x\r\nBad(Name): y\r\n\r\n", 400),
    "empty-header-name": (b"GET / HTTP/1.1\r\nHost: x\r\n: y\r\n\r\n", 400),
    "nul-in-value": (b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n", 400),
    "ctl-in-value": (b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x01b\r\n\r\n", 400),
    "del-in-value": (b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x7fb\r\n\r\n", 400),
    "missing-host": (b"GET / HTTP/1.1\r\n\r\n", 400),
    "repeated-host": (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    "space-in-target": (b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    "ctl-in-target": (b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    "trailing-space-version": (b"GET / HTTP/1.1 \r\nHost: x\r\n\r\n", 400),
    "lowercase-method": (b"get / HTTP/1.1\r\nHost: x\r\n\r\n", 501),
    "unknown-method": (b"FROB / HTTP/1.1\r\nHost: x\r\n\r\n", 501),
    "http-2": (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    "http-1.2": (b"GET / HTTP/1.2\r\nHost: x\r\n\r\n", 505),
    "http-0.9": (b"GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505),
    "expect-other": (
        b"POST / HTTP/1.1\r\nHost: x\r\nExpect: magic\r\nContent-Length: 0\r\n\r\n",
        417,
    ),
}


@pytest.mark.parametrize("case", sorted(SMUGGLING))
def test_smuggling_rejected(parser_cls: Any, recorder: Any, case: str) -> None:
    data, status = SMUGGLING[case]
    with pytest.raises(ParseError) as info:
        feed_all(parser_cls, recorder, data)
    assert info.value.status == status, info.value.detail


@pytest.mark.parametrize("case", ["chunk-bare-lf", "obs-fold", "bare-lf-header", "cl-and-te"])
def test_smuggling_rejected_when_fed_bytewise(parser_cls: Any, recorder: Any, case: str) -> None:
    data, status = SMUGGLING[case]
    with pytest.raises(ParseError) as info:
        feed_all(parser_cls, recorder, data, step=1)
    assert info.value.status == status


def test_smuggled_second_request_never_surfaces(parser_cls: Any, recorder: Any) -> None:
    data = (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    with pytest.raises(ParseError):
        feed_all(parser_cls, recorder, data)
    assert all(h.target != b"/admin" for h in recorder.heads)


def test_request_line_too_long(parser_cls: Any, recorder: Any) -> None:
    with pytest.raises(ParseError) as info:
        feed_all(parser_cls, recorder, b"GET /" + b"a" * 200, max_request_line=100)
    assert info.value.status == 414


def test_request_line_too_long_complete(parser_cls: Any, recorder: Any) -> None:
    data = b"GET /" + b"a" * 200 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    with pytest.raises(ParseError) as info:
        feed_all(parser_cls, recorder, data, max_request_line=100)
    assert info.value.status == 414


def test_header_section_too_large(parser_cls: Any, recorder: Any) -> None:
    data = b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"v" * 3000 + b"\r\n\r\n"
    with pytest.raises(ParseError) as info:
        feed_all(parser_cls, recorder, data, max_header_size=1024)
    assert info.value.status == 431


def test_header_section_too_large_without_end(parser_cls: Any, recorder: Any) -> None:
    parser = parser_cls(recorder, max_header_size=1024, max_request_line=100)
    parser.feed(b"GET / HTTP/1.1\r\nHost: x\r\n")
    with pytest.raises(ParseError) as info:
        for _ in range(20):
            parser.feed(b"X-Filler: " + b"v" * 200 + b"\r\n")
    assert info.value.status == 431


def test_too_many_headers(parser_cls: Any, recorder: Any) -> None:
    data = (
        b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(20)) + b"\r\n"
    )
    with pytest.raises(ParseError) as info:
        feed_all(parser_cls, recorder, data, max_headers=10)
    assert info.value.status == 431


def test_body_limit_content_length(parser_cls: Any, recorder: Any) -> None:
    data = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
    with pytest.raises(ParseError) as info:
        feed_all(parser_cls, recorder, data, max_body_size=10)
    assert info.value.status == 413


def test_body_limit_chunked(parser_cls: Any, recorder: Any) -> None:
    data = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n"
    with pytest.raises(ParseError) as info:
        feed_all(parser_cls, recorder, data, max_body_size=10)
    assert info.value.status == 413
