"""Size and count limits applied to incoming requests."""

from __future__ import annotations

import array
import itertools
from dataclasses import dataclass

__all__ = ("DEFAULT_LIMITS", "Limits", "json_nesting_exceeds")

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """Limits on what a request may send; exceeding one answers 413 (size) or 400.

    The app exposes its limits as ``app.limits``; ``Request`` reads them from
    ``scope["app"]`` and falls back to ``DEFAULT_LIMITS``.
    """

    #: largest body ``request.body()`` / ``json()`` / urlencoded ``form()`` accept
    max_body_size: int = MiB
    #: most non-file fields in one form (urlencoded or multipart)
    max_form_fields: int = 1000
    #: most parts (fields + files) in one multipart body
    max_form_parts: int = 1000
    #: largest non-file multipart field
    max_part_size: int = MiB
    #: largest uploaded file
    max_file_size: int = 100 * MiB
    #: an uploaded file moves from memory to a temporary file past this size
    spool_max_size: int = MiB
    #: deepest JSON nesting ``request.json()`` accepts
    max_json_depth: int = 64
    #: longest header block of one multipart part, and of a single header value parsed here
    max_header_value_len: int = 8192

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Limits.{name} must be a positive integer, got {value!r}")


DEFAULT_LIMITS = Limits()


_BRACKET_VALUES = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_STRUCTURAL = bytes(b for b in range(256) if b not in b'[]{}"')


def json_nesting_exceeds(data: bytes | str, max_depth: int) -> bool:
    """Whether JSON text nests arrays/objects deeper than ``max_depth``, checked
    before parsing (some parsers crash on very deep input).

    C-speed passes only: a bracket count short-circuits the common case; otherwise
    escapes are dropped, everything but brackets and quotes deleted, string contents
    removed and the running depth's maximum taken. Malformed input (e.g. an
    unterminated string) may be misjudged, but the parser rejects it anyway.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else bytes(data)
    if raw.count(b"[") + raw.count(b"{") <= max_depth:
        return False
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(raw.translate(None, _NOT_STRUCTURAL).split(b'"')[::2])
    steps = outside.translate(_BRACKET_VALUES)
    return max(itertools.accumulate(array.array("b", steps)), default=0) > max_depth
