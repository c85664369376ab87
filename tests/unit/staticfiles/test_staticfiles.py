"""StaticFiles: serving, conditional requests, ranges, precompression, and hostile paths."""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Any

import pytest

from covet import Covet
from covet.exceptions import ImproperlyConfigured
from covet.staticfiles import StaticFiles, guess_media_type, safe_segments
from covet.testing import TestClient


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "sub").mkdir()
    (root / "empty").mkdir()
    (root / "index.html").write_text("<h1>home</h1>")
    (root / "404.html").write_text("<h1>missing</h1>")
    (root / "sub" / "index.html").write_text("<h1>sub</h1>")
    (root / "css" / "app.css").write_text("body { color: red }" * 50)
    (root / "css" / "app.css.gz").write_bytes(gzip.compress(b"body { color: red }" * 50))
    (root / "app.js").write_text("console.log(1)")
    (root / "app.js.br").write_bytes(b"fake-brotli")
    (root / "app.js.gz").write_bytes(gzip.compress(b"console.log(1)"))
    (root / "data.bin").write_bytes(bytes(range(256)) * 40)
    (root / "weird name ü.txt").write_text("unicode")
    (tmp_path / "secret.txt").write_text("TOP SECRET")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "x.txt").write_text("outside dir")
    os.symlink(tmp_path / "secret.txt", root / "escape.txt")
    os.symlink(tmp_path / "outside", root / "escape-dir")
    os.symlink(root / "app.js", root / "alias.js")
    return root


async def call(app: Any, path: str, method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None,
               root_path: str = "") -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    """Drive the raw ASGI app with an arbitrary (unnormalised) path."""
    messages: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)

    scope = {
        "type": "http", "method": method, "path": path, "root_path": root_path,
        "raw_path": path.encode("utf-8", "surrogateescape"), "query_string": b"",
        "headers": headers or [], "scheme": "http", "server": ("t", 80), "client": ("1.2.3.4", 5),
    }  # fmt: skip
    await app(scope, receive, send)
    start = messages[0]
    body = b"".join(m.get("body", b"") for m in messages[1:])
    return start["status"], {k.decode(): v.decode("latin-1") for k, v in start["headers"]}, body


async def test_serves_file_with_type_cache_and_validators(tree: Path) -> None:
    status, headers, body = await call(StaticFiles(directory=tree), "/css/app.css")
    assert status == 200 and body == (tree / "css/app.css").read_bytes()
    assert headers["content-type"] == "text/css; charset=utf-8"
    assert headers["cache-control"] == "public, max-age=3600"
    assert headers["etag"] and headers["last-modified"] and headers["accept-ranges"] == "bytes"
    assert headers["vary"] == "Accept-Encoding"
    status, _, body = await call(
        StaticFiles(directory=tree),
        "/css/app.css",
        headers=[(b"if-none-match", headers["etag"].encode())],
    )
    assert status == 304 and body == b""


async def test_head_and_method_not_allowed(tree: Path) -> None:
    app = StaticFiles(directory=tree)
    status, headers, body = await call(app, "/app.js", "HEAD")
    assert status == 200 and body == b"" and headers["content-length"] == "14"
    status, headers, body = await call(app, "/app.js", "POST")
    assert status == 405 and headers["allow"] == "GET, HEAD" and b"Method Not Allowed" in body


@pytest.mark.parametrize(
    ("accept", "encoding", "content"),
    [
        (b"gzip, deflate, br", "br", b"fake-brotli"),
        (b"gzip", "gzip", None),
        (b"br;q=0, gzip;q=0.5", "gzip", None),
        (b"identity", None, b"console.log(1)"),
        (b"*", "br", b"fake-brotli"),
    ],
)
async def test_precompressed_siblings(
    tree: Path, accept: bytes, encoding: str | None, content: bytes | None
) -> None:
    status, headers, body = await call(
        StaticFiles(directory=tree), "/app.js", headers=[(b"accept-encoding", accept)]
    )
    assert status == 200
    assert headers.get("content-encoding") == encoding
    assert headers["content-type"] == "text/javascript; charset=utf-8"
    assert headers["vary"] == "Accept-Encoding"
    if content is not None:
        assert body == content
    else:
        assert gzip.decompress(body) == b"console.log(1)"


async def test_precompressed_can_be_disabled_and_is_skipped_for_ranges(tree: Path) -> None:
    _, headers, _ = await call(
        StaticFiles(directory=tree, precompressed=False),
        "/app.js",
        headers=[(b"accept-encoding", b"br")],
    )
    assert "content-encoding" not in headers and "vary" not in headers
    status, headers, body = await call(
        StaticFiles(directory=tree),
        "/app.js",
        headers=[(b"accept-encoding", b"br"), (b"range", b"bytes=0-6")],
    )
    assert status == 206 and body == b"console" and "content-encoding" not in headers


async def test_single_and_multiple_ranges(tree: Path) -> None:
    app = StaticFiles(directory=tree)
    status, headers, body = await call(app, "/data.bin", headers=[(b"range", b"bytes=10-19")])
    assert (
        status == 206
        and body == bytes(range(10, 20))
        and headers["content-range"] == "bytes 10-19/10240"
    )
    status, headers, body = await call(
        app, "/data.bin", headers=[(b"range", b"bytes=0-1, 100-101")]
    )
    assert status == 206 and headers["content-type"].startswith("multipart/byteranges")
    status, _, _ = await call(app, "/data.bin", headers=[(b"range", b"bytes=99999-")])
    assert status == 416


@pytest.mark.parametrize(
    "range_header",
    [
        b"bytes=" + b",".join(b"%d-%d" % (i, i) for i in range(5000)),  # thousands of ranges
        b"bytes=0-" + b"9" * 5000,  # enormous number, long header
        b"bytes=" + b"9" * 400 + b"-" + b"9" * 400,  # enormous start beyond the file
        b"bytes=0-0," * 10 + b"0-0",  # overlapping
        b"items=0-10",
    ],
)
async def test_hostile_ranges_never_crash(tree: Path, range_header: bytes) -> None:
    status, _, body = await call(
        StaticFiles(directory=tree), "/data.bin", headers=[(b"range", range_header)]
    )
    assert status in (200, 416)
    assert len(body) in (0, 10240)


async def test_huge_single_range_numbers(tree: Path) -> None:
    status, headers, body = await call(
        StaticFiles(directory=tree), "/data.bin", headers=[(b"range", b"bytes=10240-" + b"9" * 300)]
    )
    assert status == 416 and headers["content-range"] == "bytes */10240"
    status, _, body = await call(
        StaticFiles(directory=tree), "/data.bin", headers=[(b"range", b"bytes=-" + b"9" * 300)]
    )
    assert status == 206 and len(body) == 10240


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/css/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/..%2fsecret.txt",
        "/..%2Fsecret.txt",
        "/css/%2e%2e/%2e%2e/secret.txt",
        "/..\\secret.txt",
        "/css\\..\\..\\secret.txt",
        "/app.js\x00.png",
        "/%00",
        "//etc/passwd",
        "/" + str(Path("/etc/passwd")),
        "/C:/Windows/win.ini",
        "/C:\\Windows\\win.ini",
        "/app.js::$DATA",
        "/./index.html",
        "/css/./app.css",
        "/\x1b[31m",
        "/%252e%252e/secret.txt",
        "/" + "a" * 5000,
        "/" + "/".join(["d"] * 2000),
        "/\udcff.txt",
        "/caf\u00e9\u202e.txt",
    ],
)
async def test_traversal_and_hostile_paths_are_refused(tree: Path, path: str) -> None:
    status, _, body = await call(StaticFiles(directory=tree, html=True), path)
    assert status == 404
    assert b"TOP SECRET" not in body and b"root:" not in body


def test_safe_segments() -> None:
    assert safe_segments("/a/b.css") == ["a", "b.css"]
    assert safe_segments("/dir/") == ["dir", ""]
    assert safe_segments("/") == [""]
    for bad in ["/a//b", "/a/../b", "/%2e%2e", "/a%5cb", "/a%2fb", "/c:", "/a\x00"]:
        assert safe_segments(bad) is None, bad


async def test_symlinks_escaping_the_directory_are_refused(tree: Path) -> None:
    strict = StaticFiles(directory=tree)
    assert (await call(strict, "/escape.txt"))[0] == 404
    assert (await call(strict, "/escape-dir/x.txt"))[0] == 404
    status, _, body = await call(strict, "/alias.js")  # a link that stays inside is fine
    assert status == 200 and body == b"console.log(1)"
    trusting = StaticFiles(directory=tree, follow_symlinks=True)
    status, _, body = await call(trusting, "/escape.txt")
    assert status == 200 and body == b"TOP SECRET"
    assert (await call(trusting, "/../secret.txt"))[0] == 404  # traversal stays refused


async def test_precompressed_sibling_symlinked_outside_is_ignored(tree: Path) -> None:
    (tree / "app.js.br").unlink()
    os.symlink(tree.parent / "secret.txt", tree / "app.js.br")
    status, headers, body = await call(
        StaticFiles(directory=tree), "/app.js", headers=[(b"accept-encoding", b"br")]
    )
    assert status == 200 and "content-encoding" not in headers and body == b"console.log(1)"


async def test_html_mode(tree: Path) -> None:
    app = StaticFiles(directory=tree, html=True)
    status, headers, body = await call(app, "/")
    assert (
        status == 200
        and body == b"<h1>home</h1>"
        and headers["content-type"] == "text/html; charset=utf-8"
    )
    status, headers, _ = await call(app, "/sub", root_path="/static")
    assert status == 307 and headers["location"] == "/static/sub/"
    assert (await call(app, "/sub/"))[2] == b"<h1>sub</h1>"
    status, _, body = await call(app, "/nope.css")
    assert status == 404 and body == b"<h1>missing</h1>"
    assert (await call(app, "/empty/"))[0] == 404


async def test_without_html_directories_are_not_listed(tree: Path) -> None:
    app = StaticFiles(directory=tree)
    for path in ["/", "/sub/", "/sub", "/missing"]:
        status, headers, body = await call(app, path)
        assert (
            status == 404
            and headers["content-type"] == "application/json"
            and body == b'{"error":"Not Found"}'
        )


async def test_packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "pkgs" / "myassets"
    (pkg / "static").mkdir(parents=True)
    (pkg / "public").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "static" / "a.txt").write_text("from package")
    (pkg / "public" / "b.txt").write_text("from public")
    monkeypatch.syspath_prepend(str(tmp_path / "pkgs"))
    app = StaticFiles(packages=["myassets", ("myassets", "public")])
    assert (await call(app, "/a.txt"))[2] == b"from package"
    assert (await call(app, "/b.txt"))[2] == b"from public"
    assert (await call(app, "/../__init__.py"))[0] == 404
    with pytest.raises(ImproperlyConfigured):
        StaticFiles(packages=["no_such_package_xyz"])
    with pytest.raises(ImproperlyConfigured):
        StaticFiles(packages=[("myassets", "nope")])


def test_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured):
        StaticFiles(directory=tmp_path / "missing")
    with pytest.raises(ImproperlyConfigured):
        StaticFiles()
    StaticFiles(directory=tmp_path / "missing", check_dir=False)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.js", "text/javascript; charset=utf-8"),
        ("a.css", "text/css; charset=utf-8"),
        ("a.svg", "image/svg+xml; charset=utf-8"),
        ("a.json", "application/json; charset=utf-8"),
        ("a.wasm", "application/wasm"),
        ("a.woff2", "font/woff2"),
        ("a.png", "image/png"),
        ("noext", "application/octet-stream"),
    ],
)
def test_media_types(name: str, expected: str) -> None:
    assert guess_media_type(name) == expected


def test_file_hash(tree: Path) -> None:
    app = StaticFiles(directory=tree)
    first = app.file_hash("css/app.css")
    assert first is not None and len(first) == 12
    assert app.file_hash("/css/app.css") == first
    (tree / "css" / "app.css").write_text("changed")
    os.utime(tree / "css" / "app.css", ns=(1, 1))
    assert app.file_hash("css/app.css") not in (None, first)
    assert app.file_hash("missing.css") is None and app.file_hash("../secret.txt") is None


def test_mounted_in_app_through_test_client(tree: Path) -> None:
    app = Covet()
    app.mount("/static", StaticFiles(directory=tree, html=True), name="static")
    with TestClient(app) as client:
        r = client.get("/static/css/app.css")
        assert r.status_code == 200 and r.headers["content-type"] == "text/css; charset=utf-8"
        assert client.get("/static/weird%20name%20%C3%BC.txt").text == "unicode"
        r = client.get("/static/sub", follow_redirects=False)
        assert r.status_code == 307 and r.headers["location"] == "/static/sub/"
        assert client.get("/static/sub").text == "<h1>sub</h1>"
        assert client.get("/static/nope").status_code == 404
        assert client.get("/static/%2e%2e/%2e%2e/secret.txt").status_code == 404
        r = client.get("/static/data.bin", headers={"range": "bytes=0-3"})
        assert r.status_code == 206 and r.content == bytes(range(4))
    assert app.url_path_for("static", path="/css/app.css") == "/static/css/app.css"
