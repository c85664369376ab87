"""RateLimitMiddleware's fast path for built-in keys: same keys, limits and headers."""

from __future__ import annotations

import hashlib
from typing import Any

from mw_helpers import body_app, drive, start_headers

from covet.middleware import RateLimitMiddleware
from covet.ratelimit.backends import MemoryBackend


class RecordingBackend(MemoryBackend):
    """A memory backend that remembers the keys it was asked about."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str] = []

    async def hit(self, key: str, rate: Any, algorithm: str = "fixed_window", cost: int = 1) -> Any:
        self.keys.append(key)
        return await super().hit(key, rate, algorithm, cost)


async def test_builtin_ip_key_and_limit() -> None:
    backend = RecordingBackend()
    mw = RateLimitMiddleware(body_app(b"ok"), limit="2/minute", backend=backend)
    statuses = [(await drive(mw))[0][0]["status"] for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert backend.keys == ["app:ip:203.0.113.9"] * 3


async def test_long_builtin_keys_are_hashed_as_before() -> None:
    backend = RecordingBackend()
    path = "/" + "a" * 300  # client-chosen: key="route" on an unmatched path
    mw = RateLimitMiddleware(body_app(b"ok"), limit="5/minute", key="route", backend=backend)
    assert (await drive(mw, path=path))[0][0]["status"] == 200
    digest = hashlib.sha256(("route:" + path).encode()).hexdigest()
    assert backend.keys == ["app:sha256:" + digest]


async def test_headers_added_once_and_app_headers_kept() -> None:
    mw = RateLimitMiddleware(body_app(b"ok"), limit="10/minute")
    sent, _ = await drive(mw)
    headers = start_headers(sent)
    assert (headers["ratelimit-limit"], headers["ratelimit-remaining"]) == ("10", "9")
    assert [k for k, _ in sent[0]["headers"]].count(b"ratelimit-limit") == 1

    own = RateLimitMiddleware(body_app(b"ok", headers=[(b"RateLimit-Limit", b"7")]), limit="10/minute")
    sent, _ = await drive(own)
    assert [(k, v) for k, v in sent[0]["headers"] if k.lower() == b"ratelimit-limit"] == [(b"RateLimit-Limit", b"7")]


async def test_exempt_paths_skip_the_backend() -> None:
    backend = RecordingBackend()
    mw = RateLimitMiddleware(body_app(b"ok"), limit="1/minute", backend=backend, exempt=["/health", "/static/*"])
    for path in ("/health", "/static/app.js", "/health", "/static/x"):
        assert (await drive(mw, path=path))[0][0]["status"] == 200
    assert backend.keys == []
