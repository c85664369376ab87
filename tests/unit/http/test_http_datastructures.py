from __future__ import annotations

import pytest

from covet.http.datastructures import URL, Address, Headers, MutableHeaders, QueryParams, State


def test_headers_case_insensitive_multi_values() -> None:
    h = Headers(raw=[(b"content-type", b"text/plain"), (b"x-a", b"1"), (b"x-a", b"2")])
    assert h["Content-Type"] == "text/plain"
    assert h["X-A"] == "1"
    assert h.getlist("x-a") == ["1", "2"]
    assert "X-a" in h and "missing" not in h and 3 not in h
    assert h.get("missing", "d") == "d"
    assert len(h) == 3
    assert h.keys() == ["content-type", "x-a", "x-a"]
    assert h.items()[2] == ("x-a", "2")
    with pytest.raises(KeyError):
        h["nope"]


def test_headers_from_mapping_and_scope_and_latin1() -> None:
    assert Headers({"X-Token": "abc"}).raw == [(b"x-token", b"abc")]
    scope = {"headers": [(b"x-name", "café".encode("latin-1"))]}
    assert Headers(scope=scope)["x-name"] == "café"
    assert Headers() == Headers(raw=[])
    with pytest.raises(TypeError):
        Headers({"a": "b"}, raw=[])


def test_mutable_headers_edit_raw_list_in_place() -> None:
    raw: list[tuple[bytes, bytes]] = [(b"x-a", b"1"), (b"x-a", b"2"), (b"x-b", b"3")]
    h = MutableHeaders(raw=raw)
    h["X-A"] = "9"
    assert raw == [(b"x-a", b"9"), (b"x-b", b"3")]
    h.append("set-cookie", "a=1")
    h.append("set-cookie", "b=2")
    assert h.getlist("set-cookie") == ["a=1", "b=2"]
    assert h.setdefault("x-b", "zzz") == "3"
    assert h.setdefault("x-c", "4") == "4"
    del h["x-a"]
    del h["never-there"]
    assert "x-a" not in h
    h.update({"x-d": "5"})
    h |= {"x-e": "6"}
    assert h["x-d"] == "5" and h["x-e"] == "6"
    assert raw is h.raw


@pytest.mark.parametrize("bad", ["a\r\nSet-Cookie: evil=1", "a\nb", "a\x00"])
def test_mutable_headers_reject_response_splitting(bad: str) -> None:
    h = MutableHeaders()
    with pytest.raises(ValueError):
        h["x-v"] = bad
    with pytest.raises(ValueError):
        h.append("x-v", bad)
    with pytest.raises(ValueError):
        h[bad] = "v"
    assert h.raw == []


def test_add_vary_header() -> None:
    h = MutableHeaders()
    h.add_vary_header("Origin")
    h.add_vary_header("Accept-Encoding")
    h.add_vary_header("origin")
    assert h["vary"] == "Origin, Accept-Encoding"


def test_query_params() -> None:
    q = QueryParams(b"a=1&a=2&b=&c=%20x+y")
    assert q["a"] == "2"
    assert q.getlist("a") == ["1", "2"]
    assert q["b"] == ""
    assert q["c"] == " x y"
    assert q.multi_items() == [("a", "1"), ("a", "2"), ("b", ""), ("c", " x y")]
    assert "zzz" not in q and len(q) == 3
    assert str(QueryParams({"x": 1})) == "x=1"
    assert QueryParams([("k", "v")]) == QueryParams("k=v")
    assert QueryParams("") == QueryParams()


def test_url_components_and_replace() -> None:
    url = URL("https://user:pw@example.com:8443/a/b?x=1&y=2#frag")
    assert (url.scheme, url.hostname, url.port, url.path, url.query, url.fragment) == (
        "https",
        "example.com",
        8443,
        "/a/b",
        "x=1&y=2",
        "frag",
    )
    assert url.username == "user" and url.password == "pw" and url.is_secure
    assert "pw" not in repr(url)
    assert (
        str(url.replace(scheme="http", fragment=""))
        == "http://user:pw@example.com:8443/a/b?x=1&y=2"
    )
    assert str(url.replace(port=9000)) == "https://user:pw@example.com:9000/a/b?x=1&y=2#frag"
    assert str(URL("http://[::1]:80/").replace(port=81)) == "http://[::1]:81/"
    assert str(url.include_query_params(y=3, z="a b")).endswith("?x=1&y=3&z=a+b#frag")
    assert str(url.replace_query_params(k="v")).endswith("/a/b?k=v#frag")
    assert str(url.remove_query_params("x")).endswith("?y=2#frag")
    assert url == str(url) and hash(url) == hash(URL(str(url)))


def test_url_from_scope() -> None:
    scope = {
        "type": "http", "scheme": "https", "path": "/api/items", "root_path": "/api",
        "query_string": b"q=1", "headers": [(b"host", b"example.org")], "server": ("x", 443),
    }  # fmt: skip
    assert str(URL(scope=scope)) == "https://example.org/api/items?q=1"
    scope2 = {
        "scheme": "http",
        "path": "/items",
        "root_path": "/api",
        "query_string": b"",
        "headers": [],
        "server": ("10.0.0.1", 8000),
    }
    assert str(URL(scope=scope2)) == "http://10.0.0.1:8000/api/items"
    scope3 = {
        "scheme": "http",
        "path": "/p",
        "query_string": b"",
        "headers": [],
        "server": ("h", 80),
    }
    assert str(URL(scope=scope3)) == "http://h/p"


def test_state_and_address() -> None:
    backing: dict[str, object] = {}
    state = State(backing)
    state.user = "alice"
    assert backing == {"user": "alice"} and state.user == "alice" and "user" in state
    del state.user
    with pytest.raises(AttributeError, match="no attribute 'user'"):
        _ = state.user
    with pytest.raises(AttributeError):
        del state.user
    addr = Address("1.2.3.4", 80)
    assert addr.host == "1.2.3.4" and addr.port == 80 and tuple(addr) == ("1.2.3.4", 80)


@pytest.mark.parametrize(
    "query", ["a=1&a=2&b=&c", "&&a==b&", "x=1;y=2", "", "=v", "a=%20+&b=%zz", "k=v&k2", "é=ü"]
)
def test_query_fast_path_matches_parse_qsl(query: str) -> None:
    from urllib.parse import parse_qsl

    assert QueryParams(query).multi_items() == parse_qsl(query, keep_blank_values=True)


def test_mutablecopy_and_limits_validation() -> None:
    from covet.http.limits import DEFAULT_LIMITS, Limits

    original = Headers(raw=[(b"a", b"1")])
    copy = original.mutablecopy()
    copy["a"] = "2"
    assert original["a"] == "1" and copy["a"] == "2"
    assert Headers({"a": "1"}) == original and repr(original) == "Headers({'a': '1'})"
    assert DEFAULT_LIMITS.max_body_size == 1_048_576 and DEFAULT_LIMITS.max_json_depth == 64
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="positive integer"):
            Limits(max_body_size=bad)  # type: ignore[arg-type]
    assert Limits(max_file_size=10).max_file_size == 10
