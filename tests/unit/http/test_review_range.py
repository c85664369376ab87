"""Review: FileResponse Range parsing and conditional requests never lose or crash."""

from __future__ import annotations

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
