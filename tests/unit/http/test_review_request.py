"""Review: hostile Content-Length values and body edge cases on ``Request``."""

from __future__ import annotations

from typing import Any

import pytest

from covet.exceptions import HTTPException
from covet.http import Request


def _request(asgi: Any, content_length: bytes, body: bytes = b"hello") -> Request:
    scope = asgi.scope("POST", headers=[(b"content-length", content_length)])
    return Request(scope, asgi.body_receiver(body))


async def test_content_length_with_thousands_of_leading_zeros_is_read(asgi: Any) -> None:
    request = _request(asgi, b"0" * 5000 + b"5")
    assert await request.body() == b"hello"


async def test_content_length_with_thousands_of_digits_is_too_large(asgi: Any) -> None:
    with pytest.raises(HTTPException) as info:
        await _request(asgi, b"9" * 5000).body()
    assert info.value.status_code == 413


async def test_zero_content_length_reads_nothing(asgi: Any) -> None:
    request = _request(asgi, b"000", b"")
    assert await request.body() == b""
    assert len(await request.form()) == 0
