from __future__ import annotations

from typing import Any

import pytest

from covet.exceptions import HTTPException
from covet.http.datastructures import UploadFile
from covet.http.forms import parse_multipart, parse_urlencoded
from covet.http.limits import Limits
from covet.http.multipart import MultipartParser, PartData, PartEnd, PartStart, parse_options_header
from covet.http.request import Request

BOUNDARY = "----covetBoundary7MA4YWxk"


class App:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits


def multipart(*parts: tuple[str, str | None, bytes, str | None], boundary: str = BOUNDARY) -> bytes:
    out = b""
    for name, filename, data, ctype in parts:
        out += f"--{boundary}\r\n".encode()
        disposition = f'Content-Disposition: form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        out += disposition.encode() + b"\r\n"
        if ctype:
            out += f"Content-Type: {ctype}\r\n".encode()
        out += b"\r\n" + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def form_request(
    asgi: Any,
    body: bytes,
    *,
    chunk: int = 7,
    limits: Limits | None = None,
    ctype: str | None = None,
) -> Request:
    headers = [
        (b"content-type", (ctype or f"multipart/form-data; boundary={BOUNDARY}").encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
    extra = {"app": App(limits)} if limits else {}
    return Request(asgi.scope("POST", headers=headers, **extra), asgi.body_receiver(*chunks))


async def test_urlencoded_form(asgi: Any) -> None:
    body = b"name=Ada+L&tags=a&tags=b&empty=&utf=%C3%A9"
    req = form_request(asgi, body, ctype="application/x-www-form-urlencoded")
    form = await req.form()
    assert form["name"] == "Ada L"
    assert form.getlist("tags") == ["a", "b"]
    assert form["empty"] == "" and form["utf"] == "é"
    assert await req.form() is form


async def test_urlencoded_too_many_fields(asgi: Any) -> None:
    body = b"&".join(b"f%d=1" % i for i in range(11))
    with pytest.raises(HTTPException) as exc:
        parse_urlencoded(body, Limits(max_form_fields=10))
    assert exc.value.status_code == 400
    assert len(parse_urlencoded(body[: body.rindex(b"&")], Limits(max_form_fields=10))) == 10


async def test_urlencoded_body_limit(asgi: Any) -> None:
    req = form_request(
        asgi,
        b"a=" + b"x" * 100,
        ctype="application/x-www-form-urlencoded",
        limits=Limits(max_body_size=50),
    )
    with pytest.raises(HTTPException) as exc:
        await req.form()
    assert exc.value.status_code == 413


async def test_other_content_type_gives_empty_form(asgi: Any) -> None:
    req = form_request(asgi, b'{"a": 1}', ctype="application/json")
    assert len(await req.form()) == 0


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 100_000])
async def test_multipart_fields_and_files_any_chunking(asgi: Any, chunk: int) -> None:
    payload = b"line1\r\n--not-the-boundary\r\n\r\nbinary\x00\xff" * 5
    body = multipart(
        ("title", None, "Hello \u00e9".encode(), None),
        ("doc", "../../etc/passwd", payload, "application/octet-stream"),
        ("title", None, b"second", None),
        ("empty", "empty.txt", b"", "text/plain"),
    )
    req = form_request(asgi, body, chunk=chunk)
    async with req.form() as form:
        assert form["title"] == "second"
        assert form.getlist("title") == ["Hello é", "second"]
        doc = form["doc"]
        assert isinstance(doc, UploadFile)
        assert doc.filename == "../../etc/passwd"  # raw, untrusted: never used as a path
        assert doc.content_type == "application/octet-stream"
        assert doc.size == len(payload)
        assert await doc.read() == payload
        await doc.seek(0)
        assert await doc.read(5) == b"line1"
        assert form["empty"].size == 0 and await form["empty"].read() == b""
    assert doc.file.closed


async def test_multipart_file_spools_to_disk_past_threshold(asgi: Any) -> None:
    big = b"z" * 5000
    body = multipart(("small", "s.bin", b"tiny", None), ("big", "b.bin", big, None))
    req = form_request(asgi, body, chunk=1000, limits=Limits(spool_max_size=1024))
    form = await req.form()
    small, large = form["small"], form["big"]
    assert small._in_memory and not large._in_memory
    assert await large.read() == big
    await large.seek(0)
    await large.write(b"!")
    assert large.size == 5001
    await form.close()
    assert large.file.closed and small.file.closed


async def test_multipart_windows_filename_and_rfc5987(asgi: Any) -> None:
    body = (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="f"; filename="C:\\Users\\me\\x.txt"\r\n\r\nA\r\n'
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="g"; filename="fallback"; filename*=UTF-8\'\'%E2%82%AC.txt\r\n\r\nB\r\n'
        f"--{BOUNDARY}--"
    ).encode()
    form = await form_request(asgi, body).form()
    assert form["f"].filename == "C:\\Users\\me\\x.txt"
    assert form["g"].filename == "€.txt"
    await form.close()


async def test_multipart_preamble_epilogue_and_quoted_boundary(asgi: Any) -> None:
    body = b"preamble text\r\n" + multipart(("a", None, b"1", None)) + b"epilogue junk"
    ctype = f'multipart/form-data; boundary="{BOUNDARY}"'
    form = await form_request(asgi, body, ctype=ctype).form()
    assert form["a"] == "1"


@pytest.mark.parametrize(
    ("limits", "parts", "status"),
    [
        (Limits(max_form_parts=3), [("f", None, b"x", None)] * 4, 400),
        (Limits(max_form_fields=2), [("f", None, b"x", None)] * 3, 400),
        (Limits(max_part_size=10), [("f", None, b"x" * 11, None)], 413),
        (Limits(max_file_size=10), [("f", "a.bin", b"x" * 11, None)], 413),
    ],
)
async def test_multipart_limits(asgi: Any, limits: Limits, parts: list[Any], status: int) -> None:
    req = form_request(asgi, multipart(*parts), limits=limits)
    with pytest.raises(HTTPException) as exc:
        await req.form()
    assert exc.value.status_code == status


async def test_files_closed_when_parse_fails(asgi: Any) -> None:
    body = multipart(("a", "a.bin", b"data", None), ("b", "b.bin", b"x" * 100, None))
    opened: list[UploadFile] = []
    original = UploadFile.__init__

    def tracking_init(self: UploadFile, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        opened.append(self)

    UploadFile.__init__ = tracking_init  # type: ignore[method-assign]
    try:
        with pytest.raises(HTTPException):
            await form_request(asgi, body, limits=Limits(max_file_size=50)).form()
    finally:
        UploadFile.__init__ = original  # type: ignore[method-assign]
    assert len(opened) == 2 and all(f.file.closed for f in opened)


@pytest.mark.parametrize(
    ("ctype", "body"),
    [
        ("multipart/form-data", multipart(("a", None, b"1", None))),  # missing boundary
        ("multipart/form-data; boundary=", multipart(("a", None, b"1", None))),
        ("multipart/form-data; boundary=" + "x" * 71, b""),  # boundary too long
        (None, multipart(("a", None, b"1", None))[:-20]),  # truncated
        (None, b""),  # empty body
        (None, f"--{BOUNDARY}\r\nno-colon-header\r\n\r\nx\r\n--{BOUNDARY}--".encode()),
        (None, f"--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nx\r\n--{BOUNDARY}--".encode()),
        (
            None,
            f"--{BOUNDARY}\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--{BOUNDARY}--".encode(),
        ),
        (
            None,
            f"--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nx\r\n--{BOUNDARY}--".encode(),
        ),
        (None, f"--{BOUNDARY}\r\n\r\nx\r\n--{BOUNDARY}--".encode()),
        (None, f"--{BOUNDARY}garbage\r\n".encode()),
        (None, f"junk--{BOUNDARY}\r\n".encode()),
        (None, b"no boundary anywhere " * 4000),
    ],
    ids=[
        "no-boundary",
        "empty-boundary",
        "long-boundary",
        "truncated",
        "empty-body",
        "header-no-colon",
        "no-disposition",
        "not-form-data",
        "no-name",
        "no-headers",
        "garbage-after-boundary",
        "boundary-mid-line",
        "huge-preamble",
    ],
)
async def test_malformed_multipart_is_400(asgi: Any, ctype: str | None, body: bytes) -> None:
    with pytest.raises(HTTPException) as exc:
        await form_request(asgi, body, ctype=ctype).form()
    assert exc.value.status_code == 400


async def test_oversized_part_headers_rejected(asgi: Any) -> None:
    body = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="a"\r\nX-Pad: {"p" * 300}\r\n\r\nx\r\n--{BOUNDARY}--'.encode()
    with pytest.raises(HTTPException) as exc:
        await form_request(asgi, body, limits=Limits(max_header_value_len=256)).form()
    assert exc.value.status_code == 400


def test_push_parser_events_and_bounded_buffer() -> None:
    parser = MultipartParser(BOUNDARY.encode())
    body = multipart(("f", "x.bin", b"A" * 100_000, None))
    events: list[Any] = []
    for i in range(0, len(body), 4096):
        events.extend(parser.feed(body[i : i + 4096]))
        assert len(parser._buffer) <= 4096 + len(BOUNDARY) + 4
    parser.close()
    assert parser.finished
    assert isinstance(events[0], PartStart) and events[0].filename == "x.bin"
    assert isinstance(events[-1], PartEnd)
    assert b"".join(e.data for e in events if isinstance(e, PartData)) == b"A" * 100_000
    assert parser.feed(b"ignored epilogue") == []


def test_parse_options_header() -> None:
    assert parse_options_header('text/HTML; Charset="utf-8"; q') == (
        "text/html",
        {"charset": "utf-8", "q": ""},
    )
    assert parse_options_header('form-data; name="a\\"b"; filename="c:\\dir\\f"') == (
        "form-data", {"name": 'a"b', "filename": "c:\\dir\\f"}
    )  # fmt: skip
    assert (
        parse_options_header("attachment; filename*=bogus-charset''%FF")[1]["filename"] == "\u00ff"
    )


async def test_parse_multipart_accepts_content_type_or_boundary() -> None:
    body = multipart(("a", None, b"1", None))

    async def stream() -> Any:
        yield body

    assert (await parse_multipart(stream(), BOUNDARY))["a"] == "1"
    assert (await parse_multipart(stream(), f"multipart/form-data; boundary={BOUNDARY}"))[
        "a"
    ] == "1"
    assert (await parse_multipart(stream(), BOUNDARY.encode()))["a"] == "1"


def test_byte_by_byte_feeding_stays_linear_and_bounded() -> None:
    import time

    preamble = b"p" * 60_000 + b"\r\n"
    header_pad = "h" * 7000
    body = preamble + multipart(("a", None, b"1", None)).replace(
        b'name="a"\r\n', f'name="a"\r\nX-Pad: {header_pad}\r\n'.encode()
    )
    parser = MultipartParser(BOUNDARY.encode())
    start = time.process_time()
    events: list[Any] = []
    for i in range(len(body)):
        events.extend(parser.feed(body[i : i + 1]))
        assert len(parser._buffer) <= 8192 + 64
    parser.close()
    assert time.process_time() - start < 5  # quadratic rescans would take minutes
    assert isinstance(events[0], PartStart) and events[0].name == "a"
    assert b"".join(e.data for e in events if isinstance(e, PartData)) == b"1"


def test_urlencoded_invalid_utf8_is_replaced_not_an_error() -> None:
    form = parse_urlencoded(b"name=%FF%FEx&ok=1")
    assert form["name"] == "\ufffd\ufffdx" and form["ok"] == "1"
