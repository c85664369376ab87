"""Form parsing: ``application/x-www-form-urlencoded`` and ``multipart/form-data``.

Both enforce :class:`~covet.http.limits.Limits`: too many fields or parts answer 400,
too-large fields or files answer 413 (``HTTPException``). Uploaded files are spooled to
a temporary file past ``limits.spool_max_size``; on any error every file opened so far
is closed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qsl

from covet.exceptions import HTTPException
from covet.http.datastructures import Headers
from covet.http.limits import DEFAULT_LIMITS, Limits
from covet.http.multipart import (
    MultipartParser,
    PartData,
    PartEnd,
    PartStart,
    boundary_from_content_type,
    parse_options_header,
)
from covet.http.uploads import FormData, UploadFile

__all__ = ("parse_multipart", "parse_options_header", "parse_urlencoded")


def parse_urlencoded(body: bytes, limits: Limits = DEFAULT_LIMITS) -> FormData:
    """Parse an urlencoded body (UTF-8, invalid bytes replaced); 400 past ``max_form_fields``."""
    if body.count(b"&") >= limits.max_form_fields:
        # parse_qsl's own limit counts separators too; check cheaply first.
        pieces = sum(1 for p in body.split(b"&") if p)
        if pieces > limits.max_form_fields:
            raise HTTPException(400, f"Too many form fields (limit {limits.max_form_fields})")
    text = body.decode("latin-1")
    pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace")
    return FormData(pairs)


async def parse_multipart(
    stream: AsyncIterator[bytes], boundary: bytes | str, limits: Limits = DEFAULT_LIMITS
) -> FormData:
    """Parse a multipart body from ``stream`` chunk by chunk, never buffering it whole.

    ``boundary`` is the raw boundary or the full ``Content-Type`` header value.
    """
    if isinstance(boundary, str):
        boundary = (
            boundary_from_content_type(boundary)
            if "boundary=" in boundary.lower() or ";" in boundary
            else boundary.encode("latin-1")
        )
    parser = MultipartParser(boundary, limits)
    items: list[tuple[str, str | UploadFile]] = []
    fields = parts = 0
    current_name = ""
    current_file: UploadFile | None = None
    field_chunks: list[bytes] = []
    field_size = 0
    field_charset = "utf-8"
    try:
        async for chunk in stream:
            for event in parser.feed(chunk):
                if isinstance(event, PartData):
                    if current_file is not None:
                        size = (current_file.size or 0) + len(event.data)
                        if size > limits.max_file_size:
                            raise HTTPException(
                                413, f"Uploaded file too large (limit {limits.max_file_size} bytes)"
                            )
                        await current_file.write(event.data)
                    else:
                        field_size += len(event.data)
                        if field_size > limits.max_part_size:
                            raise HTTPException(
                                413, f"Form field too large (limit {limits.max_part_size} bytes)"
                            )
                        field_chunks.append(event.data)
                elif isinstance(event, PartStart):
                    parts += 1
                    if parts > limits.max_form_parts:
                        raise HTTPException(
                            400, f"Too many multipart parts (limit {limits.max_form_parts})"
                        )
                    current_name = event.name
                    if event.filename is not None:
                        current_file = UploadFile(
                            filename=event.filename,
                            size=0,
                            headers=Headers(
                                raw=[
                                    (k.encode("latin-1", "replace"), v.encode("latin-1", "replace"))
                                    for k, v in event.headers
                                ]
                            ),
                            spool_max_size=limits.spool_max_size,
                        )
                        items.append((current_name, current_file))
                    else:
                        fields += 1
                        if fields > limits.max_form_fields:
                            raise HTTPException(
                                400, f"Too many form fields (limit {limits.max_form_fields})"
                            )
                        field_chunks = []
                        field_size = 0
                        field_charset = "utf-8"
                        if event.content_type:
                            field_charset = parse_options_header(event.content_type)[1].get(
                                "charset", "utf-8"
                            )
                elif isinstance(event, PartEnd):
                    if current_file is not None:
                        await current_file.seek(0)
                        current_file = None
                    else:
                        items.append((current_name, _decode(b"".join(field_chunks), field_charset)))
                        field_chunks = []
        parser.close()
    except BaseException:
        for _, value in items:
            if isinstance(value, UploadFile):
                await value.close()
        raise
    return FormData(items)


def _decode(data: bytes, charset: str) -> str:
    try:
        return data.decode(charset, errors="replace")
    except (LookupError, UnicodeError):
        # Unknown charset, or a codec that refuses errors="replace" ("idna", "undefined").
        return data.decode("utf-8", errors="replace")
