from __future__ import annotations

import pytest
from mw_helpers import drive, echo_app

from covet.exceptions import ImproperlyConfigured
from covet.middleware.proxy import ProxyHeadersMiddleware, parse_forwarded


async def seen(mw: ProxyHeadersMiddleware, headers: list[tuple[bytes, bytes]], peer: str = "10.0.0.1", scope_type: str = "http"):
    _, scope = await drive(mw, headers=[(b"host", b"internal:8000"), *headers], client=(peer, 5555), scope_type=scope_type)
    host = next(v for k, v in scope["headers"] if k == b"host").decode()
    return scope["client"], scope["scheme"], host


def mw(trusted: list[str] | None = None, **options: object) -> ProxyHeadersMiddleware:
    return ProxyHeadersMiddleware(echo_app, trusted_hosts=trusted or ["10.0.0.0/8"], **options)  # type: ignore[arg-type]


async def test_trusted_peer_x_forwarded() -> None:
    client, scheme, host = await seen(
        mw(),
        [(b"x-forwarded-for", b"198.51.100.7"), (b"x-forwarded-proto", b"https"), (b"x-forwarded-host", b"shop.example")],
    )
    assert client == ("198.51.100.7", 0)
    assert scheme == "https"
    assert host == "shop.example"


async def test_untrusted_peer_is_ignored() -> None:
    client, scheme, host = await seen(
        mw(),
        [(b"x-forwarded-for", b"1.2.3.4"), (b"x-forwarded-proto", b"https"), (b"x-forwarded-host", b"evil")],
        peer="203.0.113.50",
    )
    assert client == ("203.0.113.50", 5555)
    assert scheme == "http"
    assert host == "internal:8000"


async def test_spoofed_left_entries_do_not_win() -> None:
    # the client sent "X-Forwarded-For: 6.6.6.6"; our proxy appended the real address
    client, _, _ = await seen(mw(), [(b"x-forwarded-for", b"6.6.6.6, 198.51.100.7")])
    assert client == ("198.51.100.7", 0)


async def test_right_most_untrusted_through_a_proxy_chain() -> None:
    headers = [(b"x-forwarded-for", b"6.6.6.6, 198.51.100.7, 10.1.1.1"), (b"x-forwarded-for", b"10.2.2.2")]
    client, _, _ = await seen(mw(), headers)
    assert client == ("198.51.100.7", 0)


async def test_all_trusted_uses_left_most() -> None:
    client, _, _ = await seen(mw(), [(b"x-forwarded-for", b"10.9.9.9, 10.1.1.1")])
    assert client == ("10.9.9.9", 0)


async def test_garbage_entry_stops_the_walk() -> None:
    client, _, _ = await seen(mw(), [(b"x-forwarded-for", b"<script>, 10.1.1.1")])
    assert client == ("10.1.1.1", 0)
    client, _, _ = await seen(mw(), [(b"x-forwarded-for", b"not-an-ip")])
    assert client == ("10.0.0.1", 5555)


async def test_forwarded_rfc7239() -> None:
    header = b'for=6.6.6.6, for="[2001:db8::17]:4711";proto=https;host="shop.example:8443", for=10.3.3.3'
    client, scheme, host = await seen(mw(), [(b"forwarded", header), (b"x-forwarded-for", b"9.9.9.9")])
    assert client == ("2001:db8::17", 4711)
    assert scheme == "https"
    assert host == "shop.example:8443"


async def test_forwarded_ignored_when_disabled() -> None:
    client, _, _ = await seen(
        mw(use_forwarded=False), [(b"forwarded", b"for=6.6.6.6"), (b"x-forwarded-for", b"198.51.100.8")]
    )
    assert client == ("198.51.100.8", 0)


async def test_bad_proto_and_host_are_ignored() -> None:
    client, scheme, host = await seen(
        mw(), [(b"x-forwarded-proto", b"javascript"), (b"x-forwarded-host", b"evil.com/\r\nx")]
    )
    assert scheme == "http"
    assert host == "internal:8000"
    assert client == ("10.0.0.1", 5555)


async def test_websocket_scheme_becomes_wss() -> None:
    _, scope = await drive(
        mw(),
        scope_type="websocket",
        scheme="ws",
        headers=[(b"x-forwarded-proto", b"https")],
        client=("10.0.0.2", 1),
    )
    assert scope["scheme"] == "wss"


async def test_trust_all_and_missing_client() -> None:
    client, _, _ = await seen(mw(["*"]), [(b"x-forwarded-for", b"198.51.100.9")], peer="203.0.113.1")
    assert client == ("198.51.100.9", 0)
    _, scope = await drive(mw(), headers=[(b"x-forwarded-for", b"1.1.1.1")], client=None)
    assert scope["client"] is None


def test_parse_forwarded_quotes_and_escapes() -> None:
    hops = parse_forwarded(['for="\\"odd;,name\\"";proto=http', "for=unknown;by=_proxy"])
    assert hops == [{"for": '"odd;,name"', "proto": "http"}, {"for": "unknown", "by": "_proxy"}]


@pytest.mark.parametrize("trusted", ["127.0.0.1", ["not-an-ip"], ["10.0.0.0/33"]])
def test_bad_configuration(trusted: object) -> None:
    with pytest.raises(ImproperlyConfigured):
        ProxyHeadersMiddleware(echo_app, trusted_hosts=trusted)  # type: ignore[arg-type]


async def test_huge_forwarded_header_is_handled() -> None:
    header = ", ".join(["for=10.1.1.1"] * 5000) + ", for=198.51.100.30"
    client, _, _ = await seen(mw(), [(b"forwarded", header.encode())])
    assert client == ("198.51.100.30", 0)
