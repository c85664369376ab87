"""A streaming ``multipart/form-data`` push-parser (sans-IO).

Feed body chunks as they arrive; ``feed`` returns events and keeps at most one
delimiter's worth of unparsed body (plus one part's header block) in memory::

    parser = MultipartParser(boundary, limits)
    for chunk in chunks:
        for event in parser.feed(chunk):
            ...  # PartStart, PartData, PartEnd
    parser.close()  # raises if the body was truncated

Malformed input (bad boundary, bad part headers, a part header block longer than
``limits.max_header_value_len``, truncation) raises ``HTTPException(400)``. Size limits on field and file content are enforced by
the consumer (:func:`covet.http.forms.parse_multipart`), which knows which part is a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from covet.exceptions import HTTPException
from covet.http.limits import DEFAULT_LIMITS, Limits

__all__ = (
    "MultipartParser",
    "PartData",
    "PartEnd",
    "PartStart",
    "parse_options_header",
)

# RFC 2046 bchars: digits, letters and '()+_,-./:=? and space (not last).
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_MAX_PREAMBLE = 64 * 1024
_MAX_PADDING = 64


@dataclass(slots=True)
class PartStart:
    """A part begins: its headers (lower-case names) and Content-Disposition fields."""

    headers: list[tuple[str, str]]
    name: str
    filename: str | None
    content_type: str | None


@dataclass(slots=True)
class PartData:
    """A chunk of the current part's content."""

    data: bytes


@dataclass(slots=True)
class PartEnd:
    """The current part is complete."""


Event = PartStart | PartData | PartEnd

_PREAMBLE, _AFTER_DELIMITER, _HEADERS, _BODY, _EPILOGUE = range(5)


def _bad(detail: str) -> HTTPException:
    return HTTPException(400, f"Malformed multipart body: {detail}")


def parse_options_header(value: str) -> tuple[str, dict[str, str]]:
    """Split ``text/html; charset="utf-8"`` into ``("text/html", {"charset": "utf-8"})``.

    Parameter names are lower-cased; quoted values are unquoted (a backslash escapes
    only ``"`` and ``\\``, so Windows paths survive); RFC 5987 ``name*=UTF-8''...``
    values are decoded and win over the plain form.
    """
    main, _, rest = value.partition(";")
    params: dict[str, str] = {}
    extended: dict[str, str] = {}
    i, n = 0, len(rest)
    while i < n:
        while i < n and rest[i] in " \t;":
            i += 1
        start = i
        while i < n and rest[i] not in "=;":
            i += 1
        key = rest[start:i].strip().lower()
        if i >= n or rest[i] == ";":
            if key:
                params.setdefault(key, "")
            continue
        i += 1  # '='
        while i < n and rest[i] in " \t":
            i += 1
        if i < n and rest[i] == '"':
            i += 1
            out: list[str] = []
            while i < n and rest[i] != '"':
                if rest[i] == "\\" and i + 1 < n and rest[i + 1] in '"\\':
                    i += 1
                out.append(rest[i])
                i += 1
            i += 1  # closing quote (tolerate its absence)
            val = "".join(out)
        else:
            start = i
            while i < n and rest[i] != ";":
                i += 1
            val = rest[start:i].strip()
        if key.endswith("*"):
            charset, sep, encoded = val.partition("'")
            if sep:
                _, _, encoded = encoded.partition("'")
                try:
                    extended[key[:-1]] = unquote(
                        encoded, encoding=charset or "utf-8", errors="strict"
                    )
                except (LookupError, UnicodeError):  # e.g. charset "undefined"
                    extended[key[:-1]] = unquote(encoded, encoding="latin-1")
        elif key:
            params[key] = val
    params.update(extended)
    return main.strip().lower(), params


def boundary_from_content_type(content_type: str) -> bytes:
    """The boundary of a ``multipart/form-data`` Content-Type; 400 if missing/invalid."""
    _, params = parse_options_header(content_type)
    boundary = params.get("boundary")
    if not boundary:
        raise _bad("missing boundary in Content-Type")
    if not _BOUNDARY.fullmatch(boundary):
        raise _bad("invalid boundary in Content-Type")
    return boundary.encode("latin-1")


class MultipartParser:
    """Incremental parser for one multipart body with the given ``boundary``."""

    __slots__ = (
        "_buffer",
        "_delimiter",
        "_discarded",
        "_first_delimiter",
        "_max_headers",
        "_scanned",
        "_state",
        "_tail",
    )

    def __init__(self, boundary: bytes, limits: Limits = DEFAULT_LIMITS) -> None:
        if not _BOUNDARY.fullmatch(boundary.decode("latin-1")):
            raise _bad("invalid boundary")
        self._first_delimiter = b"--" + boundary
        self._delimiter = b"\r\n--" + boundary
        self._tail = len(self._delimiter) - 1
        self._max_headers = limits.max_header_value_len
        self._buffer = bytearray()
        self._state = _PREAMBLE
        self._discarded = 0  # preamble bytes dropped so far
        self._scanned = 0  # header bytes already searched for the blank line

    @property
    def finished(self) -> bool:
        """True once the closing delimiter has been seen."""
        return self._state == _EPILOGUE

    def feed(self, data: bytes) -> list[Event]:
        """Consume ``data``; return the events it completes."""
        if self._state == _EPILOGUE:
            return []  # the epilogue is ignored, never buffered
        buf = self._buffer
        buf += data
        events: list[Event] = []
        while True:
            state = self._state
            if state == _BODY:
                idx = buf.find(self._delimiter)
                if idx < 0:
                    keep = self._tail
                    if len(buf) > keep:
                        cut = len(buf) - keep
                        # Only keep bytes that may begin a delimiter.
                        cr = buf.find(b"\r", cut)
                        cut = cr if cr >= 0 else len(buf)
                        if cut:
                            events.append(PartData(bytes(buf[:cut])))
                            del buf[:cut]
                    return events
                if idx:
                    events.append(PartData(bytes(buf[:idx])))
                events.append(PartEnd())
                del buf[: idx + len(self._delimiter)]
                self._state = _AFTER_DELIMITER
            elif state == _AFTER_DELIMITER:
                if len(buf) < 2:
                    return events
                if buf[:2] == b"--":
                    self._state = _EPILOGUE
                    buf.clear()
                    return events
                idx = buf.find(b"\r\n")
                if idx < 0:
                    if len(buf) > _MAX_PADDING or buf.strip(b" \t"):
                        raise _bad("garbage after boundary")
                    return events
                if buf[:idx].strip(b" \t"):
                    raise _bad("garbage after boundary")
                del buf[: idx + 2]
                self._state = _HEADERS
            elif state == _HEADERS:
                if buf[:2] == b"\r\n":
                    raise _bad("part without headers")
                # Resume the search where the previous feed stopped (1-byte feeds stay linear).
                idx = buf.find(b"\r\n\r\n", max(self._scanned - 3, 0))
                if idx < 0:
                    if len(buf) > self._max_headers:
                        raise HTTPException(400, "Multipart part headers too large")
                    self._scanned = len(buf)
                    return events
                if idx > self._max_headers:
                    raise HTTPException(400, "Multipart part headers too large")
                events.append(self._parse_headers(bytes(buf[:idx])))
                del buf[: idx + 4]
                self._scanned = 0
                self._state = _BODY
            elif state == _PREAMBLE:
                idx = buf.find(self._first_delimiter)
                if idx < 0:
                    # Keep only what could still start a delimiter (plus its CRLF).
                    drop = len(buf) - len(self._first_delimiter) - 2
                    if drop > 0:
                        self._discarded += drop
                        if self._discarded > _MAX_PREAMBLE:
                            raise _bad("no boundary found")
                        del buf[:drop]
                    return events
                if (idx or self._discarded) and buf[max(idx - 2, 0) : idx] != b"\r\n":
                    raise _bad("boundary not at the start of a line")
                del buf[: idx + len(self._first_delimiter)]
                self._state = _AFTER_DELIMITER
            else:
                return events

    def close(self) -> None:
        """Signal the end of the body; raises 400 if the closing delimiter is missing."""
        if self._state != _EPILOGUE:
            raise _bad("body truncated before the closing boundary")

    @staticmethod
    def _parse_headers(block: bytes) -> PartStart:
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError:
            text = block.decode("latin-1")
        headers: list[tuple[str, str]] = []
        for line in text.split("\r\n"):
            name, colon, value = line.partition(":")
            name = name.strip().lower()
            if not colon or not name or " " in name or "\t" in name:
                raise _bad(f"invalid part header line {line[:100]!r}")
            if "\n" in line or "\r" in line or "\x00" in line:
                # A bare CR/LF/NUL would ride along in upload.content_type / filename
                # and could split a response header an app builds from them.
                raise _bad("control character in a part header")
            headers.append((name, value.strip()))
        disposition = next((v for k, v in headers if k == "content-disposition"), None)
        if disposition is None:
            raise _bad("part without Content-Disposition")
        kind, params = parse_options_header(disposition)
        if kind != "form-data" or "name" not in params:
            raise _bad("Content-Disposition must be form-data with a name")
        content_type = next((v for k, v in headers if k == "content-type"), None)
        return PartStart(headers, params["name"], params.get("filename"), content_type)
