"""Review: hostile multipart charsets and boundaries give a form or a 400, never a 500."""

from __future__ import annotations

import pytest

from covet.exceptions import HTTPException
from covet.http.forms import parse_multipart
from covet.http.multipart import parse_options_header

BOUNDARY = "b0undary"


async def _stream(*chunks: bytes):  # type: ignore[no-untyped-def]
    for chunk in chunks:
        yield chunk


def _field(value: bytes, content_type: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + value
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


@pytest.mark.parametrize(
    "charset", ["idna", "undefined", "punycode", "utf-16", "no-such-codec", "rot13"]
)
async def test_any_field_charset_decodes_without_crashing(charset: str) -> None:
    body = _field(b"caf\xc3\xa9 \xff", f"text/plain; charset={charset}")
    form = await parse_multipart(_stream(body), BOUNDARY)
    assert isinstance(form["f"], str)


async def test_unknown_charset_falls_back_to_utf8() -> None:
    body = _field("café".encode(), "text/plain; charset=undefined")
    form = await parse_multipart(_stream(body), BOUNDARY)
    assert form["f"] == "café"


@pytest.mark.parametrize("charset", ["undefined", "idna", "utf-16", "nope", ""])
def test_extended_parameter_with_any_charset_never_raises(charset: str) -> None:
    _, params = parse_options_header(f"form-data; name=a; filename*={charset}''%ff%41")
    assert isinstance(params["filename"], str)


async def test_boundary_with_space_at_the_end_is_rejected_with_400() -> None:
    with pytest.raises(HTTPException) as info:
        await parse_multipart(_stream(b""), 'multipart/form-data; boundary="abc "')
    assert info.value.status_code == 400


@pytest.mark.parametrize(
    "header",
    [
        b'Content-Disposition: form-data; name="f"; filename="a.txt"\r\n'
        b"Content-Type: text/plain\nSet-Cookie: evil=1",
        b'Content-Disposition: form-data; name="f"; filename="a\nb.txt"',
        b'Content-Disposition: form-data; name="f"; filename="a\rb.txt"',
        b'Content-Disposition: form-data; name="f\x00"',
    ],
)
async def test_bare_cr_lf_nul_in_part_headers_is_a_400(header: bytes) -> None:
    body = (
        f"--{BOUNDARY}\r\n".encode() + header + b"\r\n\r\ndata\r\n" + f"--{BOUNDARY}--\r\n".encode()
    )
    with pytest.raises(HTTPException) as info:
        await parse_multipart(_stream(body), BOUNDARY)
    assert info.value.status_code == 400


async def test_escaped_newline_in_filename_is_kept_as_text() -> None:
    body = (
        f"--{BOUNDARY}\r\n".encode()
        + b'Content-Disposition: form-data; name="f"; filename="a%0Ab.txt"\r\n\r\ndata\r\n'
        + f"--{BOUNDARY}--\r\n".encode()
    )
    form = await parse_multipart(_stream(body), BOUNDARY)
    assert form["f"].filename == "a%0Ab.txt"
    await form.close()
