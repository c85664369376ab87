"""Review: FileResponse Range parsing and conditional requests never lose or crash."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from covet.http.files import _parse_range, _Unsatisfiable
from covet.responses import FileResponse


@pytest.mark.parametrize("header", ["bytes=²-", "bytes=0-³", "bytes=-¹", "bytes=\u0661-\u0662"])
def test_non_ascii_digits_are_unsatisfiable_not_a_crash(header: str) -> None:
    with pytest.raises(_Unsatisfiable):
        _parse_range(header, 100)


async def test_superscript_digit_range_answers_416(asgi: Any, tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789")
    scope = asgi.scope(headers=[(b"range", "bytes=²-".encode("latin-1"))])
    sent = await asgi.run(FileResponse(path), scope)
    assert sent[0]["status"] == 416


async def test_not_modified_keeps_set_cookie(asgi: Any, tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789")
    response = FileResponse(path)
    response.set_cookie("seen", "1")
    first = await asgi.run(response)
    etag = dict(first[0]["headers"])[b"etag"]
    sent = await asgi.run(response, asgi.scope(headers=[(b"if-none-match", etag)]))
    assert sent[0]["status"] == 304
    assert dict(sent[0]["headers"])[b"set-cookie"].startswith(b"seen=1")


@pytest.mark.parametrize(
    "value", ["1 Jan 99999999999 00:00:00 GMT", "Mon, 32 Jan 2020 00:00:00 GMT", "garbage", ""]
)
async def test_absurd_if_modified_since_is_ignored(asgi: Any, tmp_path: Path, value: str) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789")
    scope = asgi.scope(headers=[(b"if-modified-since", value.encode())])
    sent = await asgi.run(FileResponse(path), scope)
    assert sent[0]["status"] == 200


async def test_if_modified_since_minus_0000_is_utc(
    asgi: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789")
    os.utime(path, (1_000_000_000, 1_000_000_000))  # Sun, 09 Sep 2001 01:46:40 GMT
    monkeypatch.setenv("TZ", "America/New_York")  # a local time 4 hours behind UTC
    time.tzset()
    try:
        exact = asgi.scope(headers=[(b"if-modified-since", b"Sun, 09 Sep 2001 01:46:40 -0000")])
        assert (await asgi.run(FileResponse(path), exact))[0]["status"] == 304
        earlier = asgi.scope(headers=[(b"if-modified-since", b"Sun, 09 Sep 2001 00:46:40 -0000")])
        assert (await asgi.run(FileResponse(path), earlier))[0]["status"] == 200
    finally:
        monkeypatch.undo()
        time.tzset()


async def test_if_range_with_a_weak_etag_sends_the_whole_file(asgi: Any, tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789")
    response = FileResponse(path, headers={"ETag": 'W/"v1"'})
    headers = [(b"range", b"bytes=0-1"), (b"if-range", b'W/"v1"')]
    sent = await asgi.run(response, asgi.scope(headers=headers))
    assert sent[0]["status"] == 200
    assert asgi.body_of(sent) == b"0123456789"


async def test_if_range_with_the_strong_etag_sends_the_range(asgi: Any, tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789")
    response = FileResponse(path, headers={"ETag": '"v1"'})
    headers = [(b"range", b"bytes=0-1"), (b"if-range", b'"v1"')]
    sent = await asgi.run(response, asgi.scope(headers=headers))
    assert sent[0]["status"] == 206
    assert asgi.body_of(sent) == b"01"
