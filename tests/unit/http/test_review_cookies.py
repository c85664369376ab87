"""Review: Set-Cookie ``expires`` given as an HTTP date string."""

from __future__ import annotations

import pytest

from covet.http import Response
from covet.http.cookies import build_set_cookie


def test_http_date_string_is_accepted() -> None:
    header = build_set_cookie("a", "b", expires="Wed, 21 Oct 2015 07:28:00 GMT")
    assert "; Expires=Wed, 21 Oct 2015 07:28:00 GMT;" in header


def test_date_string_is_normalised_to_gmt() -> None:
    header = build_set_cookie("a", "b", expires="Wed, 21 Oct 2015 09:28:00 +0200")
    assert "; Expires=Wed, 21 Oct 2015 07:28:00 GMT;" in header


def test_response_set_cookie_with_date_string() -> None:
    response = Response()
    response.set_cookie("a", "b", expires="Thu, 01 Jan 1970 00:00:00 GMT")
    assert dict(response.raw_headers)[b"set-cookie"].startswith(
        b"a=b; Expires=Thu, 01 Jan 1970 00:00:00 GMT"
    )


@pytest.mark.parametrize(
    "bad", ["Wed; Domain=evil", "tomorrow", "", "Wed, 21 Oct 2015 07:28:00 GMT; Secure"]
)
def test_anything_but_a_date_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="expires"):
        build_set_cookie("a", "b", expires=bad)
