from __future__ import annotations

import email.utils
import os
from pathlib import Path
from typing import Any

import pytest

from covet.background import BackgroundTask
from covet.http.files import CHUNK_SIZE, MAX_RANGES
from covet.responses import FileResponse

CONTENT = bytes(range(256)) * 1024  # 256 KiB: several 64 KiB chunks


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(CONTENT)
    return path


def hdrs(message: dict[str, Any]) -> dict[bytes, bytes]:
    return dict(message["headers"])


async def test_full_file_in_64k_chunks(asgi: Any, data_file: Path) -> None:
    ran: list[int] = []
    resp = FileResponse(data_file, background=BackgroundTask(lambda: ran.append(1)))
    sent = await asgi.run(resp)
    start = sent[0]
    assert start["status"] == 200
    h = hdrs(start)
    assert h[b"content-length"] == str(len(CONTENT)).encode()
    assert h[b"content-type"] == b"application/octet-stream"
    assert h[b"accept-ranges"] == b"bytes"
    assert h[b"etag"].startswith(b'"') and h[b"last-modified"].endswith(b"GMT")
    bodies = sent[1:]
    assert all(len(m["body"]) <= CHUNK_SIZE for m in bodies)
    assert len(bodies) == 4 and bodies[-1]["more_body"] is False
    assert asgi.body_of(sent) == CONTENT
    assert ran == [1]


async def test_small_text_file_media_type_and_disposition(asgi: Any, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hi")
    sent = await asgi.run(FileResponse(path, filename='résumé "final".txt'))
    h = hdrs(sent[0])
    assert h[b"content-type"] == b"text/plain; charset=utf-8"
    assert h[b"content-disposition"] == (
        b'attachment; filename="r_sum_ _final_.txt"; '
        b"filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.txt"
    )
    assert sent[1] == {"type": "http.response.body", "body": b"hi", "more_body": False}
    inline = FileResponse(path, filename="a b.txt", content_disposition_type="inline")
    assert dict(inline.raw_headers)[b"content-disposition"] == b'inline; filename="a b.txt"'
    evil = FileResponse(path, filename="x\r\nSet-Cookie: a=1.txt")
    assert b"\r" not in dict(evil.raw_headers)[b"content-disposition"]


async def test_head_has_headers_no_body(asgi: Any, data_file: Path) -> None:
    sent = await asgi.run(FileResponse(data_file), asgi.scope("HEAD"))
    assert hdrs(sent[0])[b"content-length"] == str(len(CONTENT)).encode()
    assert sent[1:] == [{"type": "http.response.body", "body": b""}]


async def test_pathsend_when_advertised(asgi: Any, data_file: Path) -> None:
    scope = asgi.scope(extensions={"http.response.pathsend": {}})
    sent = await asgi.run(FileResponse(data_file), scope)
    assert sent[1] == {"type": "http.response.pathsend", "path": str(data_file)}


async def test_zerocopy_when_advertised(asgi: Any, data_file: Path) -> None:
    scope = asgi.scope(extensions={"http.response.zerocopy": {}})
    sent = await asgi.run(FileResponse(data_file), scope)
    assert sent[1]["type"] == "http.response.zerocopy"
    assert (sent[1]["offset"], sent[1]["count"], sent[1]["more_body"]) == (0, len(CONTENT), False)


async def test_if_none_match_and_if_modified_since_give_304(asgi: Any, data_file: Path) -> None:
    first = await asgi.run(FileResponse(data_file))
    etag = hdrs(first[0])[b"etag"]
    last_modified = hdrs(first[0])[b"last-modified"]
    for header in [
        (b"if-none-match", etag),
        (b"if-none-match", b'"other", W/' + etag),
        (b"if-none-match", b"*"),
        (b"if-modified-since", last_modified),
    ]:
        sent = await asgi.run(
            FileResponse(data_file, headers={"cache-control": "max-age=60"}),
            asgi.scope(headers=[header]),
        )
        assert sent[0]["status"] == 304, header
        h = hdrs(sent[0])
        assert b"content-length" not in h and b"content-type" not in h
        assert h[b"etag"] == etag and h[b"cache-control"] == b"max-age=60"
        assert sent[1] == {"type": "http.response.body", "body": b""}
    stale = await asgi.run(
        FileResponse(data_file), asgi.scope(headers=[(b"if-none-match", b'"nope"')])
    )
    assert stale[0]["status"] == 200
    older = email.utils.formatdate(os.stat(data_file).st_mtime - 3600, usegmt=True).encode()
    changed = await asgi.run(
        FileResponse(data_file), asgi.scope(headers=[(b"if-modified-since", older)])
    )
    assert changed[0]["status"] == 200
    garbage = await asgi.run(
        FileResponse(data_file), asgi.scope(headers=[(b"if-modified-since", b"yesterday")])
    )
    assert garbage[0]["status"] == 200


@pytest.mark.parametrize(
    ("spec", "start", "end"),
    [("bytes=0-99", 0, 99), ("bytes=100-", 100, len(CONTENT) - 1), ("bytes=-10", len(CONTENT) - 10, len(CONTENT) - 1),
     ("bytes=5-5", 5, 5), ("bytes=200000-999999999", 200000, len(CONTENT) - 1), ("bytes=0-70000", 0, 70000)],
)  # fmt: skip
async def test_single_range_206(
    asgi: Any, data_file: Path, spec: str, start: int, end: int
) -> None:
    sent = await asgi.run(FileResponse(data_file), asgi.scope(headers=[(b"range", spec.encode())]))
    assert sent[0]["status"] == 206
    h = hdrs(sent[0])
    assert h[b"content-range"] == f"bytes {start}-{end}/{len(CONTENT)}".encode()
    assert h[b"content-length"] == str(end - start + 1).encode()
    assert h[b"content-type"] == b"application/octet-stream"
    assert asgi.body_of(sent) == CONTENT[start : end + 1]
    assert sent[-1]["more_body"] is False


async def test_multiple_ranges_multipart_byteranges(asgi: Any, data_file: Path) -> None:
    sent = await asgi.run(
        FileResponse(data_file), asgi.scope(headers=[(b"range", b"bytes=0-9, 100-199,-5")])
    )
    assert sent[0]["status"] == 206
    h = hdrs(sent[0])
    ctype = h[b"content-type"].decode()
    assert ctype.startswith("multipart/byteranges; boundary=")
    boundary = ctype.split("boundary=")[1].encode()
    body = asgi.body_of(sent)
    assert len(body) == int(h[b"content-length"])
    size = len(CONTENT)
    expected = (
        b"".join(
            b"--%s\r\ncontent-type: application/octet-stream\r\ncontent-range: bytes %d-%d/%d\r\n\r\n%s\r\n"
            % (boundary, s, e, size, CONTENT[s : e + 1])
            for s, e in [(0, 9), (100, 199), (size - 5, size - 1)]
        )
        + b"--%s--\r\n" % boundary
    )
    assert body == expected
    head = await asgi.run(
        FileResponse(data_file), asgi.scope("HEAD", headers=[(b"range", b"bytes=0-9,20-29")])
    )
    assert head[0]["status"] == 206 and asgi.body_of(head) == b""


@pytest.mark.parametrize(
    "spec", ["bytes=999999-", "bytes=5-2", "bytes=abc", "bytes=-", "bytes=1-2-3", "bytes=-0"]
)
async def test_unsatisfiable_or_invalid_416(asgi: Any, data_file: Path, spec: str) -> None:
    sent = await asgi.run(FileResponse(data_file), asgi.scope(headers=[(b"range", spec.encode())]))
    assert sent[0]["status"] == 416
    h = hdrs(sent[0])
    assert h[b"content-range"] == f"bytes */{len(CONTENT)}".encode()
    assert asgi.body_of(sent) == b""


@pytest.mark.parametrize(
    "spec",
    [
        "items=0-5",  # unknown unit
        "bytes=" + ",".join(f"{i * 10}-{i * 10 + 1}" for i in range(MAX_RANGES + 1)),  # too many
        "bytes=0-100,50-150",  # overlapping
        "bytes=0-1," + "9" * 2000,  # huge header
    ],
)
async def test_abusive_range_headers_get_full_200(asgi: Any, data_file: Path, spec: str) -> None:
    sent = await asgi.run(FileResponse(data_file), asgi.scope(headers=[(b"range", spec.encode())]))
    assert sent[0]["status"] == 200
    assert asgi.body_of(sent) == CONTENT


async def test_if_range(asgi: Any, data_file: Path) -> None:
    first = await asgi.run(FileResponse(data_file))
    etag = hdrs(first[0])[b"etag"]
    ok = await asgi.run(
        FileResponse(data_file), asgi.scope(headers=[(b"range", b"bytes=0-1"), (b"if-range", etag)])
    )
    assert ok[0]["status"] == 206
    stale = await asgi.run(
        FileResponse(data_file),
        asgi.scope(headers=[(b"range", b"bytes=0-1"), (b"if-range", b'"old"')]),
    )
    assert stale[0]["status"] == 200


async def test_range_ignored_for_post_and_non_200(asgi: Any, data_file: Path) -> None:
    sent = await asgi.run(
        FileResponse(data_file), asgi.scope("POST", headers=[(b"range", b"bytes=0-1")])
    )
    assert sent[0]["status"] == 200
    sent = await asgi.run(
        FileResponse(data_file, status_code=404), asgi.scope(headers=[(b"range", b"bytes=0-1")])
    )
    assert sent[0]["status"] == 404


async def test_empty_file(asgi: Any, tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    sent = await asgi.run(FileResponse(path))
    assert hdrs(sent[0])[b"content-length"] == b"0" and asgi.body_of(sent) == b""
    sent = await asgi.run(FileResponse(path), asgi.scope(headers=[(b"range", b"bytes=-5")]))
    assert sent[0]["status"] == 416


async def test_missing_file_and_directory(asgi: Any, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="does not exist"):
        await asgi.run(FileResponse(tmp_path / "nope"))
    with pytest.raises(RuntimeError, match="is not a file"):
        await asgi.run(FileResponse(tmp_path))


async def test_stat_result_reused(asgi: Any, data_file: Path) -> None:
    st = os.stat(data_file)
    resp = FileResponse(data_file, stat_result=st)
    sent = await asgi.run(resp, asgi.scope("HEAD"))
    assert hdrs(sent[0])[b"content-length"] == str(st.st_size).encode()


async def test_same_response_object_answers_several_requests(asgi: Any, data_file: Path) -> None:
    resp = FileResponse(data_file)
    partial = await asgi.run(resp, asgi.scope(headers=[(b"range", b"bytes=0-9")]))
    full = await asgi.run(resp)
    again = await asgi.run(resp, asgi.scope(headers=[(b"range", b"bytes=0-1,5-6")]))
    assert partial[0]["status"] == 206 and full[0]["status"] == 200 and again[0]["status"] == 206
    assert hdrs(full[0])[b"content-length"] == str(len(CONTENT)).encode()
    assert b"content-range" not in hdrs(full[0])
    assert asgi.body_of(full) == CONTENT
    assert resp.raw_headers == []
