"""Review: rate-limit keys for IPv4-mapped IPv6 peers (dual-stack listeners)."""

from __future__ import annotations

from typing import Any

import httpx

from covet._types import Receive, Scope, Send
from covet.ratelimit import MemoryBackend, RateLimitMiddleware
from covet.ratelimit.keys import client_ip


def test_ipv4_mapped_addresses_are_keyed_by_their_ipv4_address() -> None:
    assert client_ip({"client": ("::ffff:1.2.3.4", 1)}) == "1.2.3.4"
    assert client_ip({"client": ("::ffff:5.6.7.8", 1)}) == "5.6.7.8"
    assert client_ip({"client": ("::FFFF:0102:0304", 1)}) == "1.2.3.4"


def test_mapped_and_plain_ipv4_share_a_key() -> None:
    assert client_ip({"client": ("::ffff:9.9.9.9", 1)}) == client_ip({"client": ("9.9.9.9", 1)})


def test_ipv6_still_grouped_and_odd_hosts_kept() -> None:
    assert client_ip({"client": ("2001:db8::1", 1)}) == "2001:db8::/64"
    assert client_ip({"client": ("fe80::1%eth0", 1)}) == "fe80::/64"
    assert client_ip({"client": ("unix:/tmp/sock", 1)}) == "unix:/tmp/sock"


async def _ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _get(app: Any, client: tuple[str, int]) -> int:
    transport = httpx.ASGITransport(app=app, client=client)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        return (await c.get("/")).status_code


async def test_one_ipv4_client_on_a_dual_stack_listener_does_not_block_the_others() -> None:
    app = RateLimitMiddleware(_ok, "2/minute", backend=MemoryBackend())
    assert [await _get(app, ("::ffff:10.0.0.1", 1)) for _ in range(3)] == [200, 200, 429]
    assert await _get(app, ("::ffff:10.0.0.2", 1)) == 200
