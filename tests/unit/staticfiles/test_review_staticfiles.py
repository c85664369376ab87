"""Review: StaticFiles hostile paths (open redirect through the directory redirect)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from covet import Covet
from covet.staticfiles import StaticFiles, safe_segments


async def _get(app: Any, path: str) -> dict[str, Any]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": [(b"host", b"site")], "server": ("site", 80),
        "client": ("1.2.3.4", 5),
    }  # fmt: skip
    await app(scope, receive, send)
    return sent[0]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "evil.example").mkdir()
    (tmp_path / "evil.example" / "index.html").write_text("<p>x</p>")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.html").write_text("<p>docs</p>")
    return tmp_path


@pytest.mark.parametrize("path", ["//evil.example", "///evil.example", "//docs"])
async def test_double_slash_cannot_make_a_protocol_relative_redirect(site: Path, path: str) -> None:
    app = Covet()
    app.mount("/", StaticFiles(directory=site, html=True), name="static")
    start = await _get(app, path)
    location = dict(start["headers"]).get(b"location", b"")
    assert not location.startswith(b"//")
    assert start["status"] == 404


async def test_single_slash_directory_redirect_still_works(site: Path) -> None:
    start = await _get(StaticFiles(directory=site, html=True), "/docs")
    assert start["status"] == 307
    assert dict(start["headers"])[b"location"] == b"/docs/"


def test_leading_double_slash_is_a_hostile_path() -> None:
    assert safe_segments("//etc/passwd") is None
    assert safe_segments("/docs/") == ["docs", ""]


@pytest.mark.parametrize(
    ("name", "media_type"),
    [("app.js.gz", "application/gzip"), ("icon.svg.gz", "application/gzip"),
     ("app.css.br", "application/x-brotli"), ("data.tar.gz", "application/gzip")],
)  # fmt: skip
async def test_compressed_file_requested_directly_is_not_labelled_as_its_inner_type(
    tmp_path: Path, name: str, media_type: str
) -> None:
    (tmp_path / name).write_bytes(b"\x1f\x8b compressed")
    start = await _get(StaticFiles(directory=tmp_path), "/" + name)
    headers = dict(start["headers"])
    assert headers[b"content-type"] == media_type.encode()
    assert b"content-encoding" not in headers


async def test_precompressed_sibling_keeps_the_original_type(tmp_path: Path) -> None:
    (tmp_path / "app.js").write_text("console.log(1)")
    (tmp_path / "app.js.gz").write_bytes(b"\x1f\x8b fake")
    app = StaticFiles(directory=tmp_path)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/app.js", "root_path": "",
             "query_string": b"", "headers": [(b"accept-encoding", b"gzip")]}  # fmt: skip
    await app(scope, receive, send)
    headers = dict(sent[0]["headers"])
    assert headers[b"content-type"] == b"text/javascript; charset=utf-8"
    assert headers[b"content-encoding"] == b"gzip"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("gzip;q=0, *", {"br"}), ("*", {"br", "gzip"}), ("br;q=0, gzip;q=0, *;q=1", set()),
     ("gzip, *;q=0", {"gzip"}), ("GZIP;Q=0.5", {"gzip"})],
)  # fmt: skip
def test_explicit_q0_is_not_overridden_by_a_wildcard(accept: str, expected: set[str]) -> None:
    from covet.staticfiles import _accepted_encodings

    assert _accepted_encodings(accept) - {"*"} == expected
