"""``FileResponse``: conditional requests, byte ranges and efficient sending."""

from __future__ import annotations

import datetime
import email.utils
import itertools
import mimetypes
import os
import re
import secrets
import stat
from collections.abc import Mapping
from typing import IO, Literal
from urllib.parse import quote

from covet._types import Receive, Scope, Send
from covet.background import BackgroundTask
from covet.concurrency import run_in_threadpool
from covet.http.datastructures import MutableHeaders
from covet.http.response import RawHeaders, Response, _content_type, encode_headers

__all__ = ("FileResponse",)

CHUNK_SIZE = 64 * 1024
MAX_RANGES = 16
MAX_RANGE_HEADER_LEN = 1024
_DIGITS = re.compile(r"[0-9]*")


class _Unsatisfiable(Exception):
    """The Range header is invalid or no range can be served: answer 416."""


def _parse_range(header: str, size: int) -> list[tuple[int, int]] | None:
    """Parse ``Range``; return inclusive ``(start, end)`` pairs, or None to ignore it.

    Ignored (full 200): non-``bytes`` units, more than ``MAX_RANGES`` ranges, an
    over-long header, overlapping ranges. Raises ``_Unsatisfiable`` (416) for invalid
    syntax or when no range overlaps the file.
    """
    if len(header) > MAX_RANGE_HEADER_LEN:
        return None
    unit, sep, spec = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    pieces = spec.split(",")
    if len(pieces) > MAX_RANGES:
        return None
    ranges: list[tuple[int, int]] = []
    for piece in pieces:
        first, dash, last = piece.strip().partition("-")
        # ASCII digits only: str.isdigit() also accepts "²", which int() refuses.
        if not dash or not _DIGITS.fullmatch(first) or not _DIGITS.fullmatch(last):
            raise _Unsatisfiable
        if first == "":
            if last == "":
                raise _Unsatisfiable
            suffix = int(last)
            if suffix == 0 or size == 0:
                continue
            ranges.append((max(size - suffix, 0), size - 1))
            continue
        start = int(first)
        end = int(last) if last else size - 1
        if end < start:
            raise _Unsatisfiable
        if start >= size:
            continue
        ranges.append((start, min(end, size - 1)))
    if not ranges:
        raise _Unsatisfiable
    ordered = sorted(ranges)
    for (_, prev_end), (next_start, _) in itertools.pairwise(ordered):
        if next_start <= prev_end:
            return None
    return ranges


def _etag_matches(header: str, etag: str) -> bool:
    """Weak comparison of ``If-None-Match`` against ``etag``."""
    target = etag.removeprefix("W/")
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == target:
            return True
    return False


def _content_disposition(disposition: str, filename: str) -> str:
    """``attachment; filename="..."`` plus RFC 5987 ``filename*`` for non-ASCII names."""
    cleaned = "".join(ch for ch in filename if ch >= " " and ch != "\x7f")
    if cleaned.isascii():
        escaped = cleaned.replace("\\", "\\\\").replace('"', '\\"')
        return f'{disposition}; filename="{escaped}"'
    fallback = "".join(ch if ch.isascii() and ch not in '"\\' else "_" for ch in cleaned)
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(cleaned, safe='')}"


class FileResponse(Response):
    """Send a file from disk.

    The file is stat-ed once per response (in the threadpool unless ``stat_result``
    is given). Answers ``304`` to matching ``If-None-Match``/``If-Modified-Since``,
    ``206`` to a satisfiable ``Range`` (``multipart/byteranges`` for several ranges),
    ``416`` to an unsatisfiable one. With ``filename`` a ``Content-Disposition`` is
    added (RFC 5987 ``filename*`` for non-ASCII names).
    """

    __slots__ = ("content_disposition_type", "filename", "path", "stat_result")

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
        filename: str | None = None,
        stat_result: os.stat_result | None = None,
        content_disposition_type: Literal["attachment", "inline"] = "attachment",
    ) -> None:
        self.path = os.fspath(path)
        self.status_code = status_code
        self.filename = filename
        self.stat_result = stat_result
        self.content_disposition_type = content_disposition_type
        self.background = background
        self._headers = None
        self.body = b""
        if media_type is None:
            media_type = (
                mimetypes.guess_type(filename or self.path)[0] or "application/octet-stream"
            )
        self.media_type = media_type
        raw = encode_headers(headers) if headers is not None else []
        if filename is not None:
            disposition = _content_disposition(content_disposition_type, filename)
            raw.append((b"content-disposition", disposition.encode("latin-1")))
        self.raw_headers = raw

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        st = self.stat_result
        if st is None:
            try:
                st = await run_in_threadpool(os.stat, self.path)
            except FileNotFoundError:
                raise RuntimeError(f"File at path {self.path} does not exist.") from None
        if not stat.S_ISREG(st.st_mode):
            raise RuntimeError(f"File at path {self.path} is not a file.")
        size = st.st_size
        # Work on a copy: the same FileResponse may answer several requests.
        raw = list(self.raw_headers)
        headers = MutableHeaders(raw=raw)
        etag = f'"{st.st_mtime_ns:x}-{size:x}"'
        last_modified = email.utils.formatdate(st.st_mtime, usegmt=True)
        headers.setdefault("etag", etag)
        headers.setdefault("last-modified", last_modified)
        headers.setdefault("accept-ranges", "bytes")
        ctype = headers.get("content-type") or _content_type(
            self.media_type or "application/octet-stream", self.charset
        ).decode("latin-1")
        method = scope.get("method", "GET")
        request_headers = _request_headers(scope)

        if self.status_code == 200 and method in ("GET", "HEAD"):
            if self._not_modified(request_headers, headers["etag"], st.st_mtime):
                await self._send_not_modified(send, raw)
                return
            range_header = request_headers.get(b"range")
            if range_header is not None and self._if_range_ok(
                request_headers, headers["etag"], last_modified
            ):
                try:
                    ranges = _parse_range(range_header.decode("latin-1"), size)
                except _Unsatisfiable:
                    await self._send_unsatisfiable(send, raw, size)
                    return
                if ranges is not None:
                    await self._send_ranges(send, raw, ranges, size, ctype, method == "HEAD")
                    if self.background is not None:
                        await self.background()
                    return

        headers.setdefault("content-length", str(size))
        headers.setdefault("content-type", ctype)
        await send({"type": "http.response.start", "status": self.status_code, "headers": raw})
        if method == "HEAD":
            await send({"type": "http.response.body", "body": b""})
        else:
            extensions = scope.get("extensions") or {}
            if "http.response.pathsend" in extensions:
                await send({"type": "http.response.pathsend", "path": os.path.abspath(self.path)})
            else:
                await self._send_file_range(send, extensions, 0, size, last=True)
        if self.background is not None:
            await self.background()

    @staticmethod
    def _not_modified(request_headers: dict[bytes, bytes], etag: str, mtime: float) -> bool:
        if_none_match = request_headers.get(b"if-none-match")
        if if_none_match is not None:
            return _etag_matches(if_none_match.decode("latin-1"), etag)
        if_modified_since = request_headers.get(b"if-modified-since")
        if if_modified_since is not None:
            try:
                since = email.utils.parsedate_to_datetime(if_modified_since.decode("latin-1"))
                if since.tzinfo is None:  # "-0000": UTC, not the server's local time
                    since = since.replace(tzinfo=datetime.timezone.utc)
                return int(mtime) <= since.timestamp()
            except (TypeError, ValueError, IndexError, OverflowError):
                return False
        return False

    @staticmethod
    def _if_range_ok(request_headers: dict[bytes, bytes], etag: str, last_modified: str) -> bool:
        if_range = request_headers.get(b"if-range")
        if if_range is None:
            return True
        value = if_range.decode("latin-1").strip()
        if value.startswith(('"', "W/")):
            # Strong comparison (RFC 9110 13.1.5): a weak tag never matches.
            return value == etag and not etag.startswith("W/")
        return value == last_modified

    @staticmethod
    async def _send_not_modified(send: Send, raw: RawHeaders) -> None:
        keep = {
            b"etag",
            b"last-modified",
            b"cache-control",
            b"content-location",
            b"date",
            b"expires",
            b"vary",
            b"set-cookie",  # a cookie set on the response must survive the 304
        }
        kept = [(k, v) for k, v in raw if k in keep]
        await send({"type": "http.response.start", "status": 304, "headers": kept})
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    async def _send_unsatisfiable(send: Send, raw: RawHeaders, size: int) -> None:
        kept = [
            (k, v)
            for k, v in raw
            if k not in (b"content-disposition", b"content-type", b"content-length")
        ]
        kept.append((b"content-range", b"bytes */%d" % size))
        kept.append((b"content-length", b"0"))
        await send({"type": "http.response.start", "status": 416, "headers": kept})
        await send({"type": "http.response.body", "body": b""})

    async def _send_ranges(
        self,
        send: Send,
        raw: RawHeaders,
        ranges: list[tuple[int, int]],
        size: int,
        content_type: str,
        head: bool,
    ) -> None:
        headers = MutableHeaders(raw=raw)
        del headers["content-length"]
        del headers["content-type"]
        ctype = content_type.encode("latin-1")
        if len(ranges) == 1:
            start, end = ranges[0]
            raw.append((b"content-type", ctype))
            raw.append((b"content-range", b"bytes %d-%d/%d" % (start, end, size)))
            raw.append((b"content-length", b"%d" % (end - start + 1)))
            await send({"type": "http.response.start", "status": 206, "headers": raw})
            if head:
                await send({"type": "http.response.body", "body": b""})
            else:
                await self._send_file_range(send, {}, start, end - start + 1, last=True)
            return
        boundary = secrets.token_hex(16).encode("ascii")
        part_heads = [
            b"--%s\r\ncontent-type: %s\r\ncontent-range: bytes %d-%d/%d\r\n\r\n"
            % (boundary, ctype, s, e, size)
            for s, e in ranges
        ]
        closing = b"--%s--\r\n" % boundary
        length = sum(
            len(h) + (e - s + 1) + 2 for h, (s, e) in zip(part_heads, ranges, strict=True)
        ) + len(closing)
        raw.append((b"content-type", b"multipart/byteranges; boundary=" + boundary))
        raw.append((b"content-length", b"%d" % length))
        await send({"type": "http.response.start", "status": 206, "headers": raw})
        if head:
            await send({"type": "http.response.body", "body": b""})
            return
        for head_bytes, (start, end) in zip(part_heads, ranges, strict=True):
            await send({"type": "http.response.body", "body": head_bytes, "more_body": True})
            await self._send_file_range(send, {}, start, end - start + 1, last=False)
            await send({"type": "http.response.body", "body": b"\r\n", "more_body": True})
        await send({"type": "http.response.body", "body": closing})

    async def _send_file_range(
        self, send: Send, extensions: Mapping[str, object], offset: int, count: int, *, last: bool
    ) -> None:
        """Send ``count`` bytes from ``offset``; the final message has ``more_body=last`` off."""
        if count <= CHUNK_SIZE:
            data = await run_in_threadpool(_read_at, self.path, offset, count)
            await send({"type": "http.response.body", "body": data, "more_body": not last})
            return
        file: IO[bytes] = await run_in_threadpool(open, self.path, "rb")
        try:
            if "http.response.zerocopy" in extensions:
                await send({
                    "type": "http.response.zerocopy", "file": file, "offset": offset,
                    "count": count, "more_body": not last,
                })  # fmt: skip
                return
            await run_in_threadpool(file.seek, offset)
            remaining = count
            while remaining > 0:
                data = await run_in_threadpool(file.read, min(CHUNK_SIZE, remaining))
                if not data:
                    raise RuntimeError(f"File at path {self.path} shrank while being sent.")
                remaining -= len(data)
                await send(
                    {
                        "type": "http.response.body",
                        "body": data,
                        "more_body": remaining > 0 or not last,
                    }
                )
        finally:
            await run_in_threadpool(file.close)


def _read_at(path: str, offset: int, count: int) -> bytes:
    with open(path, "rb") as f:
        if offset:
            f.seek(offset)
        data = f.read(count)
    if len(data) != count:
        raise RuntimeError(f"File at path {path} shrank while being sent.")
    return data


def _request_headers(scope: Scope) -> dict[bytes, bytes]:
    wanted = (b"range", b"if-range", b"if-none-match", b"if-modified-since")
    return {k: v for k, v in scope.get("headers", ()) if k in wanted}
