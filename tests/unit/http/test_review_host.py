"""Review: a hostile Host header can neither crash ``request.url`` nor steer its host."""

from __future__ import annotations

from typing import Any

import pytest

from covet.http import Request
from covet.http.datastructures import URL


def _scope(host: bytes | None, path: str = "/p", server: Any = ("backend", 8000)) -> dict[str, Any]:
    headers = [] if host is None else [(b"host", host)]
    return {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "server": server,
    }


@pytest.mark.parametrize("host", [b"[", b"a]b", b"[::1", b"[:::]", b"[1.2.3.4]", b"[zz]:80"])
def test_malformed_host_does_not_make_url_raise(host: bytes) -> None:
    url = URL(scope=_scope(host))
    assert url.path == "/p"
    assert url.hostname == "backend"
    assert url.port == 8000


@pytest.mark.parametrize(
    "host",
    [
        b"good.com@evil.com",
        b"good.com:80@evil.com",
        b"evil.com/x",
        b"evil.com\\x",
        b"a?b",
        b"a#b",
        b"",
    ],
)
def test_host_with_url_delimiters_is_ignored(host: bytes) -> None:
    url = URL(scope=_scope(host))
    assert str(url) == "http://backend:8000/p"


@pytest.mark.parametrize(
    ("host", "hostname", "port"),
    [(b"example.com", "example.com", None), (b"example.com:8080", "example.com", 8080),
     (b"[::1]:9000", "::1", 9000), (b"127.0.0.1", "127.0.0.1", None)],
)  # fmt: skip
def test_valid_hosts_are_used(host: bytes, hostname: str, port: int | None) -> None:
    url = URL(scope=_scope(host))
    assert (url.hostname, url.port, url.path) == (hostname, port, "/p")


def test_url_for_cannot_be_pointed_at_another_host() -> None:
    class App:
        def url_path_for(self, name: str, **params: Any) -> str:
            return "/reset"

    scope = _scope(b"good.com:80@evil.com")
    scope["app"] = App()
    assert str(Request(scope).url_for("reset")) == "http://backend:8000/reset"


def test_decoded_question_mark_and_hash_stay_in_the_path() -> None:
    url = URL(scope={**_scope(b"example.com", path="/a?b#c"), "query_string": b"x=1"})
    assert url.path == "/a%3Fb%23c"
    assert url.query == "x=1"
    assert url.fragment == ""


def test_ipv6_server_address_is_bracketed() -> None:
    url = URL(scope=_scope(None, server=("::1", 8000)))
    assert (url.hostname, url.port) == ("::1", 8000)


def test_include_query_params_keeps_repeated_values_of_other_keys() -> None:
    url = URL("http://example.com/p?tag=a&tag=b&page=1")
    assert str(url.include_query_params(page=2)) == "http://example.com/p?tag=a&tag=b&page=2"


def test_include_query_params_replaces_every_value_of_a_named_key() -> None:
    url = URL("http://example.com/p?tag=a&tag=b")
    assert str(url.include_query_params(tag="c")) == "http://example.com/p?tag=c"
