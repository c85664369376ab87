"""``covet._redis.redis_client``: the one place Redis clients are created (no server needed)."""

from __future__ import annotations

import sys

import pytest

from covet._redis import redis_client
from covet.exceptions import MissingDependency


async def test_timeout_bounds_connect_and_replies() -> None:
    client = redis_client("redis://127.0.0.1:6379/3", socket_timeout=1.5)
    try:
        kwargs = client.connection_pool.connection_kwargs
        assert kwargs["socket_timeout"] == 1.5
        assert kwargs["socket_connect_timeout"] == 1.5
        assert kwargs["db"] == 3
    finally:
        await client.aclose()


async def test_no_timeout_leaves_the_url_in_charge() -> None:
    client = redis_client("redis://127.0.0.1:6379/0?socket_timeout=4")
    try:
        kwargs = client.connection_pool.connection_kwargs
        assert kwargs["socket_timeout"] == 4.0
        assert kwargs.get("socket_connect_timeout") is None
    finally:
        await client.aclose()


def test_missing_redis_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(MissingDependency) as info:
        redis_client("redis://127.0.0.1:6379/0")
    assert "redis" in str(info.value)
