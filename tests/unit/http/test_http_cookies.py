from __future__ import annotations

import datetime

import pytest

from covet.http.cookies import build_set_cookie, parse_cookie_header


def test_parse_cookie_header_browser_tolerant() -> None:
    assert parse_cookie_header("a=1; b=2") == {"a": "1", "b": "2"}
    assert parse_cookie_header(' a = "quoted" ;b=x=y; ; justvalue') == {
        "a": "quoted",
        "b": "x=y",
        "": "justvalue",
    }
    assert parse_cookie_header("a=1; a=2") == {"a": "1"}  # most specific first wins
    assert parse_cookie_header("") == {}
    assert parse_cookie_header("sess=abc%20def") == {"sess": "abc%20def"}


def test_build_set_cookie_secure_defaults() -> None:
    assert build_set_cookie("sid", "abc") == "sid=abc; Path=/; HttpOnly; SameSite=Lax"
    full = build_set_cookie(
        "__Host-sid", "v", max_age=60, secure=True, samesite="strict", partitioned=True,
        expires=datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
    )  # fmt: skip
    assert full == (
        "__Host-sid=v; Max-Age=60; Expires=Wed, 02 Jan 2030 03:04:05 GMT; Path=/; Secure; "
        "HttpOnly; SameSite=Strict; Partitioned"
    )
    assert (
        build_set_cookie("a", '"quoted"', httponly=False, samesite=None, path=None) == 'a="quoted"'
    )
    assert "Domain=.example.com" in build_set_cookie("a", "b", domain=".example.com")
    assert "Expires=" in build_set_cookie("a", "b", expires=0)


@pytest.mark.parametrize(
    "key",
    ["", "a b", "a;b", "a,b", "a=b", "a\r\nSet-Cookie: x", "a\nb", "caf\u00e9", 'a"b'],
)
def test_build_set_cookie_rejects_bad_names(key: str) -> None:
    with pytest.raises(ValueError, match="Invalid cookie name"):
        build_set_cookie(key, "v")


@pytest.mark.parametrize(
    "value",
    [
        "a b",
        "a;b",
        "a,b",
        "x\r\nSet-Cookie: evil=1",
        "a\nb",
        'a"b',
        "a\\b",
        "caf\u00e9",
        '"unterminated',
        "a\x00",
    ],
)
def test_build_set_cookie_rejects_bad_values(value: str) -> None:
    with pytest.raises(ValueError, match="Invalid cookie value"):
        build_set_cookie("k", value)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"domain": "evil.com; Secure"}, "domain"),
        ({"domain": "a..b"}, "domain"),
        ({"domain": "x\r\ny"}, "domain"),
        ({"path": "/a;b"}, "path"),
        ({"path": "/a\r\nb"}, "path"),
        ({"path": "relative"}, "path"),
        ({"path": "/a,b"}, "path"),
        ({"samesite": "none"}, "SameSite=None requires secure"),
        ({"samesite": "bogus"}, "samesite"),
        ({"partitioned": True}, "Partitioned"),
        ({"max_age": "10; Domain=x"}, "max_age"),
        ({"expires": "Wed; Domain=x"}, "expires"),
        ({"expires": True}, "expires"),
    ],
)
def test_build_set_cookie_rejects_bad_attributes(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        build_set_cookie("k", "v", **kwargs)


def test_cookie_prefix_rules() -> None:
    with pytest.raises(ValueError, match="__Secure-"):
        build_set_cookie("__Secure-a", "v")
    with pytest.raises(ValueError, match="__Host-"):
        build_set_cookie("__Host-a", "v", secure=True, domain="example.com")
    with pytest.raises(ValueError, match="__Host-"):
        build_set_cookie("__Host-a", "v", secure=True, path="/sub")
    assert build_set_cookie("__Secure-a", "v", secure=True).startswith("__Secure-a=v")
