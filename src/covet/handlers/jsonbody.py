"""Decoding JSON bodies safely: malformed input and hostile nesting become 400s."""

from __future__ import annotations

import re
from itertools import accumulate
from typing import Any

from covet import _json
from covet.exceptions import HTTPException

__all__ = ("BadJSON", "data_depth_exceeds", "loads", "loads_limited", "raw_depth_exceeds")


class BadJSON(HTTPException):
    """The body is not decodable JSON: 400."""

    def __init__(self, detail: str = "Malformed JSON body") -> None:
        super().__init__(400, detail)


def loads(raw: bytes) -> Any:
    """``_json.loads`` with malformed or too-deep input turned into a 400."""
    try:
        return _json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadJSON(f"Malformed JSON body: {exc}") from None
    except RecursionError:
        raise BadJSON("JSON body is nested too deeply") from None


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_DELTA = {0x5B: 1, 0x7B: 1, 0x5D: -1, 0x7D: -1}
#: Below this many brackets no JSON decoder can recurse deep enough to hurt.
SAFE_BRACKETS = 10_000


def raw_depth_exceeds(body: bytes, max_depth: int) -> bool:
    """Nesting depth of raw JSON above ``max_depth``? Checked before decoding, at C speed
    (strings removed by a regex, brackets kept by ``translate``, depth by ``accumulate``)."""
    if b'"' in body:
        body = _JSON_STRING.sub(b"", body)
    brackets = body.translate(None, _NOT_BRACKETS)
    return len(brackets) > max_depth and max(accumulate(map(_DELTA.__getitem__, brackets))) > max_depth


def data_depth_exceeds(data: Any, max_depth: int) -> bool:
    """Decoded ``data`` nests containers deeper than ``max_depth``? (iterative)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > max_depth:
            return True
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values() if isinstance(v, dict | list))
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value if isinstance(v, dict | list))
    return False


def loads_limited(body: bytes, max_depth: int) -> Any:
    """Decode JSON ``body`` enforcing ``max_depth`` (400 on malformed or too deep input)."""
    count = body.count(b"[") + body.count(b"{")
    if count > SAFE_BRACKETS and raw_depth_exceeds(body, max_depth):
        raise BadJSON(f"JSON body nested too deeply (limit {max_depth})")
    data = loads(body)
    if count > max_depth and data_depth_exceeds(data, max_depth):
        raise BadJSON(f"JSON body nested too deeply (limit {max_depth})")
    return data
