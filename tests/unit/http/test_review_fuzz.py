"""Review: property tests for the client-input parsers (small example budgets).

Needs hypothesis (``covetpy[test]``); skipped where it is not installed.
"""

from __future__ import annotations

import pytest

from covet.exceptions import HTTPException
from covet.http.cookies import parse_cookie_header
from covet.http.datastructures import URL, QueryParams
from covet.http.files import _parse_range, _Unsatisfiable
from covet.http.forms import parse_urlencoded
from covet.http.multipart import MultipartParser, parse_options_header

hypothesis = pytest.importorskip("hypothesis")
st = pytest.importorskip("hypothesis.strategies")
given, settings = hypothesis.given, hypothesis.settings

latin1_text = st.text(alphabet=st.characters(max_codepoint=255), max_size=60)


@settings(max_examples=300, deadline=None)
@given(header=latin1_text, size=st.integers(0, 50))
def test_parse_range_returns_valid_ranges_or_raises_unsatisfiable(header: str, size: int) -> None:
    try:
        ranges = _parse_range("bytes=" + header, size)
    except _Unsatisfiable:
        return
    if ranges is not None:
        assert all(0 <= start <= end < size for start, end in ranges)


@settings(max_examples=200, deadline=None)
@given(header=latin1_text)
def test_cookie_header_never_raises(header: str) -> None:
    assert isinstance(parse_cookie_header(header), dict)


@settings(max_examples=200, deadline=None)
@given(query=st.binary(max_size=60))
def test_query_string_never_raises(query: bytes) -> None:
    params = QueryParams(query)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.multi_items())


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=60))
def test_urlencoded_never_crashes(body: bytes) -> None:
    parse_urlencoded(body)


@settings(max_examples=200, deadline=None)
@given(value=latin1_text)
def test_options_header_never_raises(value: str) -> None:
    parse_options_header("form-data; " + value)


@settings(max_examples=200, deadline=None)
@given(host=latin1_text)
def test_url_from_any_host_header_is_usable(host: str) -> None:
    scope = {"type": "http", "path": "/p", "headers": [(b"host", host.encode("latin-1"))]}
    url = URL(scope=scope)
    assert url.path == "/p"
    _ = (url.hostname, url.port, url.netloc)


@settings(max_examples=200, deadline=None)
@given(chunks=st.lists(st.binary(max_size=40), max_size=6))
def test_multipart_parser_raises_only_http_400(chunks: list[bytes]) -> None:
    parser = MultipartParser(b"xyz")
    try:
        for chunk in [b"--xyz\r\n", *chunks]:
            parser.feed(chunk)
        parser.close()
    except HTTPException as exc:
        assert exc.status_code == 400
