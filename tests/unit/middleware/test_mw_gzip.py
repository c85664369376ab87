from __future__ import annotations

import gzip
import zlib

import brotli
import pytest
from mw_helpers import body_app, drive, start_headers, stream_app

from covet.exceptions import ImproperlyConfigured
from covet.middleware.gzip import GZipMiddleware, parse_accept_encoding
from covet.testing import TestClient

BIG = b"hello world, " * 200


def test_parse_accept_encoding() -> None:
    assert parse_accept_encoding("gzip, br;q=0.5, *;q=0") == {"gzip": 1.0, "br": 0.5, "*": 0.0}
    assert parse_accept_encoding("gzip;q=abc, br;q=7") == {"gzip": 0.0, "br": 0.0}
    assert parse_accept_encoding(" , identity") == {"identity": 1.0}


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip, br", "br"),
        ("br;q=0.5, gzip", "gzip"),
        ("br;q=1, gzip;q=0.9", "br"),
        ("gzip;q=0, br;q=0", None),
        ("identity", None),
        ("*", "br"),
        ("*;q=0.5, br;q=0", "gzip"),
        ("", None),
    ],
)
def test_choose_encoding_honours_q_values(accept: str, expected: str | None) -> None:
    mw = GZipMiddleware(body_app(b""))
    assert mw.choose_encoding(accept.encode()) == expected


def test_brotli_can_be_disabled() -> None:
    assert GZipMiddleware(body_app(b""), brotli=False).choose_encoding(b"br, gzip") == "gzip"


def test_gzip_response() -> None:
    c = TestClient(GZipMiddleware(body_app(BIG, headers=[(b"etag", b'"abc"')]), brotli=False))
    r = c.get("/", headers={"accept-encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["vary"] == "Accept-Encoding"
    assert r.headers["etag"] == 'W/"abc"'
    assert int(r.headers["content-length"]) == len(r.raw_content) < len(BIG)
    assert gzip.decompress(r.raw_content) == BIG and r.content == BIG


def test_brotli_response() -> None:
    c = TestClient(GZipMiddleware(body_app(BIG)))
    r = c.get("/", headers={"accept-encoding": "gzip, br"})
    assert r.headers["content-encoding"] == "br"
    assert brotli.decompress(r.raw_content) == BIG and r.content == BIG


def test_small_body_is_not_compressed_but_varies() -> None:
    c = TestClient(GZipMiddleware(body_app(b"tiny")))
    r = c.get("/", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in r.headers
    assert r.headers["vary"] == "Accept-Encoding"
    assert r.content == b"tiny"


def test_client_without_gzip_gets_identity_with_vary() -> None:
    c = TestClient(GZipMiddleware(body_app(BIG)))
    r = c.get("/", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in r.headers
    assert r.content == BIG
    assert r.headers["vary"] == "Accept-Encoding"


def test_content_type_outside_allow_list_is_untouched() -> None:
    c = TestClient(GZipMiddleware(body_app(BIG, content_type=b"image/png")))
    r = c.get("/", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in r.headers
    assert "vary" not in r.headers
    assert r.content == BIG


def test_custom_allow_list_glob() -> None:
    mw = GZipMiddleware(body_app(BIG, content_type=b"application/vnd.api+json"), content_types=["*/*+json"])
    r = TestClient(mw).get("/", headers={"accept-encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"


def test_no_double_encoding() -> None:
    already = gzip.compress(BIG)
    app = body_app(already, headers=[(b"content-encoding", b"gzip")])
    c = TestClient(GZipMiddleware(app))
    r = c.get("/", headers={"accept-encoding": "gzip, br"})
    assert r.headers.getlist("content-encoding") == ["gzip"]
    assert r.raw_content == already and r.content == BIG


def test_no_transform_and_partial_content_are_untouched() -> None:
    c = TestClient(GZipMiddleware(body_app(BIG, headers=[(b"cache-control", b"no-transform")])))
    assert "content-encoding" not in c.get("/", headers={"accept-encoding": "gzip"}).headers
    c = TestClient(GZipMiddleware(body_app(BIG, status=206)))
    assert "content-encoding" not in c.get("/", headers={"accept-encoding": "gzip"}).headers


def test_head_is_not_compressed() -> None:
    c = TestClient(GZipMiddleware(body_app(BIG)))
    r = c.head("/", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in r.headers
    assert r.headers["content-length"] == str(len(BIG))


async def test_streaming_is_compressed_chunk_by_chunk() -> None:
    chunks = [b"event: %d\n\n" % i for i in range(5)]
    mw = GZipMiddleware(stream_app(chunks), brotli=False)
    sent, _ = await drive(mw, headers=[(b"accept-encoding", b"gzip")])
    headers = start_headers(sent)
    assert headers["content-encoding"] == "gzip"
    assert "content-length" not in headers
    bodies = [m for m in sent if m["type"] == "http.response.body"]
    # every produced chunk was flushed: each one decodes incrementally to its input
    decoder = zlib.decompressobj(31)
    for chunk, message in zip(chunks, bodies, strict=False):
        assert decoder.decompress(message["body"]) == chunk
    assert bodies[-1]["more_body"] is False
    assert gzip.decompress(b"".join(m["body"] for m in bodies)) == b"".join(chunks)


async def test_streaming_brotli() -> None:
    chunks = [b"x" * 100, b"y" * 100, b"z" * 100]
    sent, _ = await drive(GZipMiddleware(stream_app(chunks)), headers=[(b"accept-encoding", b"br")])
    assert start_headers(sent)["content-encoding"] == "br"
    assert brotli.decompress(b"".join(m["body"] for m in sent[1:])) == b"".join(chunks)


async def test_websocket_and_lifespan_pass_through() -> None:
    seen: list[str] = []

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        seen.append(scope["type"])

    mw = GZipMiddleware(app)
    await drive(mw, scope_type="websocket")
    await mw({"type": "lifespan"}, None, None)  # type: ignore[arg-type]
    assert seen == ["websocket", "lifespan"]


@pytest.mark.parametrize(
    "options",
    [{"minimum_size": -1}, {"compresslevel": 0}, {"compresslevel": 10}, {"brotli_quality": 12}, {"content_types": []}],
)
def test_bad_configuration(options: dict[str, object]) -> None:
    with pytest.raises(ImproperlyConfigured):
        GZipMiddleware(body_app(b""), **options)  # type: ignore[arg-type]
