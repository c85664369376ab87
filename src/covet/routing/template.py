"""Path templates: ``/users/{user_id:int}/files/{name}.{ext}`` parsed once at registration."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from covet.exceptions import ImproperlyConfigured, NoMatchFound
from covet.routing.convertors import Convertor, get_convertor

__all__ = ("Mixed", "Param", "PathTemplate", "parse_template")

_PARAM = re.compile(r"{([^{}:]*)(?::([^{}]*))?}")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_NO_PARAMS: Mapping[str, Convertor] = MappingProxyType({})
_PARAMS: dict[Param, Param] = {}


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    convertor: Convertor


@dataclass(frozen=True, slots=True)
class Mixed:
    """A segment mixing text and parameters, e.g. ``{name}.{ext}``."""

    pattern: re.Pattern[str]
    params: tuple[Param, ...]
    source: str


Segment = str | Param | Mixed  # a str is a literal segment


@dataclass(frozen=True, slots=True)
class PathTemplate:
    """A parsed path template.

    ``segments`` excludes the leading empty segment.
    """

    source: str
    segments: tuple[Segment, ...]
    params: Mapping[str, Convertor]

    @property
    def is_static(self) -> bool:
        return not self.params

    @property
    def key(self) -> str:
        """Identifies templates matching the same paths (parameter names erased)."""
        return _PARAM.sub(lambda m: "{:%s}" % (m.group(2) or "str"), self.source)

    def format(self, values: dict[str, Any]) -> str:
        """Build a concrete path; raises ``NoMatchFound`` on missing or extra values."""
        if set(values) != set(self.params):
            raise NoMatchFound(
                f"path {self.source!r} needs parameters {sorted(self.params)}, got {sorted(values)}"
            )
        out = []
        for seg in self.segments:
            if isinstance(seg, str):
                out.append(seg)
            elif isinstance(seg, Param):
                out.append(_to_string(seg, values[seg.name]))
            else:
                by_name = {p.name: p for p in seg.params}

                def fill(m: re.Match[str], by_name: dict[str, Param] = by_name) -> str:
                    param = by_name[m.group(1)]
                    return _to_string(param, values[param.name])

                out.append(_PARAM.sub(fill, seg.source))
        return "/" + "/".join(out)


def _to_string(param: Param, value: Any) -> str:
    from urllib.parse import quote

    try:
        text = param.convertor.to_string(value)
    except (TypeError, ValueError) as exc:
        raise NoMatchFound(f"invalid value for path parameter {param.name!r}: {exc}") from None
    return quote(text, safe="/" if param.convertor.consumes_rest else "")


def parse_template(path: str) -> PathTemplate:
    """Parse and validate a path template; mistakes raise ``ImproperlyConfigured``."""
    if not path.startswith("/"):
        raise ImproperlyConfigured(f"route path {path!r} must start with '/'")
    parts = path[1:].split("/")
    segments: list[Segment] = []
    params: dict[str, Convertor] = {}
    for index, part in enumerate(parts):
        found = list(_PARAM.finditer(part))
        if not found:
            if "{" in part or "}" in part:
                raise ImproperlyConfigured(f"unbalanced braces in route path {path!r}")
            segments.append(sys.intern(part))
            continue
        seg_params = []
        for m in found:
            name, conv_name = m.group(1), m.group(2) or "str"
            if not _NAME.match(name):
                raise ImproperlyConfigured(f"invalid parameter name {name!r} in {path!r}")
            if name in params:
                raise ImproperlyConfigured(f"duplicate parameter {name!r} in {path!r}")
            convertor = get_convertor(conv_name)
            if convertor.consumes_rest and (index != len(parts) - 1 or len(found) > 1 or m.group(0) != part):
                raise ImproperlyConfigured(
                    f"'{{{name}:path}}' must be a whole final segment in {path!r}"
                )
            params[name] = convertor
            param = Param(name, convertor)
            seg_params.append(_PARAMS.setdefault(param, param))  # identical params shared
        if len(found) == 1 and found[0].group(0) == part:
            segments.append(seg_params[0])
            continue
        regex, pos = "", 0
        for m, p in zip(found, seg_params, strict=True):
            regex += re.escape(part[pos : m.start()]) + f"(?P<{p.name}>{p.convertor.regex})"
            pos = m.end()
        regex += re.escape(part[pos:])
        if "{" in _PARAM.sub("", part) or "}" in _PARAM.sub("", part):
            raise ImproperlyConfigured(f"unbalanced braces in route path {path!r}")
        segments.append(Mixed(re.compile(regex), tuple(seg_params), part))
    return PathTemplate(path, tuple(segments), _intern_params(params))


_PARAM_MAPS: dict[tuple[tuple[str, int], ...], Mapping[str, Convertor]] = {}


def _intern_params(params: dict[str, Convertor]) -> Mapping[str, Convertor]:
    """Routes with the same parameter names and converters share one read-only map."""
    if not params:
        return _NO_PARAMS
    key = tuple((name, id(conv)) for name, conv in params.items())
    shared = _PARAM_MAPS.get(key)
    if shared is None:
        shared = _PARAM_MAPS[key] = MappingProxyType(params)
    return shared
