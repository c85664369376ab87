"""``decode_session``: what every server-side store makes of a stored payload."""

from __future__ import annotations

import pytest

from covet.sessions.stores import decode_session


@pytest.mark.parametrize(
    "payload",
    [None, b"", b"not json", "{\"a\": 1", b"[1, 2]", b"\"text\"", b"42", b"null", b"\xff\xfe"],
)
def test_missing_corrupt_or_non_object_is_no_session(payload: bytes | str | None) -> None:
    assert decode_session(payload) is None


@pytest.mark.parametrize("payload", [b'{"user": 7, "tags": ["a"]}', '{"user": 7, "tags": ["a"]}'])
def test_object_payload_is_the_session(payload: bytes | str) -> None:
    assert decode_session(payload) == {"user": 7, "tags": ["a"]}
