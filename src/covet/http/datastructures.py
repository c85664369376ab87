"""Headers, query parameters, URLs and small value types over the ASGI scope.

``Headers`` wraps the ASGI raw header list (``list[tuple[bytes, bytes]]``, names
lower-case as ASGI requires) and decodes latin-1 only what is looked up.
``FormData`` and ``UploadFile`` live in :mod:`covet.http.uploads` and are re-exported here.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit

from covet._types import Scope
from covet.http._multidict import ImmutableMultiDict
from covet.http.uploads import FormData, UploadFile

__all__ = (
    "URL",
    "Address",
    "FormData",
    "Headers",
    "ImmutableMultiDict",
    "MutableHeaders",
    "QueryParams",
    "State",
    "UploadFile",
    "scope_path",
)

RawHeaders = list[tuple[bytes, bytes]]
_FORBIDDEN_IN_VALUE = frozenset("\r\n\x00")


class Address(NamedTuple):
    """A peer address: ``host`` and ``port``."""

    host: str
    port: int


class QueryParams(ImmutableMultiDict):
    """The query string as an immutable multi-dict (``[]`` gives the last value)."""

    __slots__ = ()

    def __init__(
        self,
        items: str | bytes | Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
    ) -> None:
        if isinstance(items, bytes):
            items = items.decode("latin-1")
        if isinstance(items, str):
            pairs = _parse_query(items)
            self._list = pairs
            self._dict = dict(pairs)
        else:
            super().__init__(items)
            self._list = [(str(k), str(v)) for k, v in self._list]
            self._dict = dict(self._list)

    def __str__(self) -> str:
        return urlencode(self._list)


def _parse_query(query: str) -> list[tuple[str, str]]:
    """``parse_qsl(query, keep_blank_values=True)`` with a fast path for plain strings."""
    if "%" in query or "+" in query:
        return parse_qsl(query, keep_blank_values=True)
    pairs = []
    for part in query.split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((key, value))
    return pairs


class Headers(Mapping[str, str]):
    """Immutable, case-insensitive multi-dict of request or response headers.

    Build it from a mapping, a raw ASGI list (``raw=``) or a scope (``scope=``).
    ``headers[name]`` gives the first value; ``getlist(name)`` gives every value.
    """

    __slots__ = ("_list",)

    def __init__(
        self,
        headers: Mapping[str, str] | None = None,
        raw: RawHeaders | None = None,
        scope: Scope | None = None,
    ) -> None:
        if raw is not None:
            if headers is not None or scope is not None:
                raise TypeError("Give only one of 'headers', 'raw' or 'scope'")
            self._list: RawHeaders = raw
        elif headers is not None:
            if scope is not None:
                raise TypeError("Give only one of 'headers', 'raw' or 'scope'")
            self._list = [
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
            ]
        elif scope is not None:
            self._list = scope["headers"]
        else:
            self._list = []

    @property
    def raw(self) -> RawHeaders:
        """The underlying ASGI list of ``(name, value)`` byte pairs."""
        return self._list

    def keys(self) -> list[str]:  # type: ignore[override]
        return [k.decode("latin-1") for k, _ in self._list]

    def values(self) -> list[str]:  # type: ignore[override]
        return [v.decode("latin-1") for _, v in self._list]

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self._list]

    def getlist(self, key: str) -> list[str]:
        """Every value of header ``key`` in order."""
        name = key.lower().encode("latin-1", "replace")
        return [v.decode("latin-1") for k, v in self._list if k == name]

    def get(self, key: str, default: Any = None) -> Any:
        name = key.lower().encode("latin-1", "replace")
        for k, v in self._list:
            if k == name:
                return v.decode("latin-1")
        return default

    def __getitem__(self, key: str) -> str:
        name = key.lower().encode("latin-1", "replace")
        for k, v in self._list:
            if k == name:
                return v.decode("latin-1")
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        name = key.lower().encode("latin-1", "replace")
        return any(k == name for k, _ in self._list)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self._list)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Headers):
            return NotImplemented
        return sorted(self._list) == sorted(other._list)

    __hash__ = None  # type: ignore[assignment]

    def mutablecopy(self) -> MutableHeaders:
        """A ``MutableHeaders`` over a copy of the raw list."""
        return MutableHeaders(raw=list(self._list))

    def __repr__(self) -> str:
        as_dict = dict(self.items())
        if len(as_dict) == len(self):
            return f"{type(self).__name__}({as_dict!r})"
        return f"{type(self).__name__}(raw={self._list!r})"


def _encode_name(key: str) -> bytes:
    if not key or any(c in _FORBIDDEN_IN_VALUE or c in " :\t" for c in key):
        raise ValueError(f"Invalid header name: {key!r}")
    return key.lower().encode("latin-1")


def _encode_value(value: str) -> bytes:
    if any(c in _FORBIDDEN_IN_VALUE for c in value):
        raise ValueError(f"Header values may not contain CR, LF or NUL: {value!r}")
    return value.encode("latin-1")


class MutableHeaders(Headers):
    """Headers that edit their raw ASGI list in place (response headers).

    Names and values are validated: CR, LF and NUL are rejected so a header can never
    be split into two.
    """

    __slots__ = ()

    def __setitem__(self, key: str, value: str) -> None:
        """Set ``key`` to ``value``, replacing every existing value."""
        name = _encode_name(key)
        raw_value = _encode_value(value)
        found: list[int] = [i for i, (k, _) in enumerate(self._list) if k == name]
        if not found:
            self._list.append((name, raw_value))
            return
        self._list[found[0]] = (name, raw_value)
        for i in reversed(found[1:]):
            del self._list[i]

    def __delitem__(self, key: str) -> None:
        """Remove every value of ``key``; missing keys are ignored."""
        name = key.lower().encode("latin-1", "replace")
        self._list[:] = [(k, v) for k, v in self._list if k != name]

    def append(self, key: str, value: str) -> None:
        """Add a value for ``key`` keeping the existing ones (e.g. ``set-cookie``)."""
        self._list.append((_encode_name(key), _encode_value(value)))

    def setdefault(self, key: str, value: str) -> str:
        """Set ``key`` only if absent; return its (first) value."""
        existing = self.get(key)
        if existing is not None:
            return existing
        self._list.append((_encode_name(key), _encode_value(value)))
        return value

    def update(self, other: Mapping[str, str] | Iterable[tuple[str, str]]) -> None:
        """``self[key] = value`` for each pair of ``other``."""
        pairs = other.items() if isinstance(other, Mapping) else other
        for key, value in pairs:
            self[key] = value

    def add_vary_header(self, vary: str) -> None:
        """Add ``vary`` to the ``Vary`` header unless it is already listed."""
        existing = self.get("vary")
        if existing is None:
            self["vary"] = vary
            return
        present = {v.strip().lower() for v in existing.split(",")}
        if vary.lower() not in present and "*" not in present:
            self["vary"] = f"{existing}, {vary}"

    def __ior__(self, other: Mapping[str, str]) -> MutableHeaders:
        self.update(other)
        return self


class URL:
    """A parsed URL with cheap component access and copy-with-changes helpers."""

    __slots__ = ("_components", "_url")

    def __init__(self, url: str = "", scope: Scope | None = None) -> None:
        if scope is not None:
            if url:
                raise TypeError("Give either 'url' or 'scope', not both")
            url = _url_from_scope(scope)
        self._url = url
        self._components: SplitResult | None = None

    @property
    def components(self) -> SplitResult:
        if self._components is None:
            self._components = urlsplit(self._url)
        return self._components

    @property
    def scheme(self) -> str:
        return self.components.scheme

    @property
    def netloc(self) -> str:
        return self.components.netloc

    @property
    def path(self) -> str:
        return self.components.path

    @property
    def query(self) -> str:
        return self.components.query

    @property
    def fragment(self) -> str:
        return self.components.fragment

    @property
    def username(self) -> str | None:
        return self.components.username

    @property
    def password(self) -> str | None:
        return self.components.password

    @property
    def hostname(self) -> str | None:
        return self.components.hostname

    @property
    def port(self) -> int | None:
        try:
            return self.components.port
        except ValueError:
            return None

    @property
    def is_secure(self) -> bool:
        return self.scheme in ("https", "wss")

    def replace(self, **kwargs: Any) -> URL:
        """A copy with components replaced; ``hostname``/``port``/``username``/
        ``password`` rebuild the netloc."""
        if {"username", "password", "hostname", "port"} & kwargs.keys():
            hostname = kwargs.pop("hostname", None)
            port = kwargs.pop("port", self.port)
            username = kwargs.pop("username", self.username)
            password = kwargs.pop("password", self.password)
            if hostname is None:
                host_part = self.netloc.rpartition("@")[2]
                if host_part.startswith("["):
                    hostname = host_part[: host_part.find("]") + 1]
                else:
                    hostname = host_part.partition(":")[0]
            netloc = hostname
            if port is not None:
                netloc += f":{port}"
            if username is not None:
                userpass = username + (f":{password}" if password is not None else "")
                netloc = f"{userpass}@{netloc}"
            kwargs["netloc"] = netloc
        return URL(self.components._replace(**kwargs).geturl())

    def include_query_params(self, **params: Any) -> URL:
        """A copy with ``params`` set (replacing same-named ones, keeping others)."""
        kept = [(k, v) for k, v in QueryParams(self.query).multi_items() if k not in params]
        return self.replace(query=urlencode(kept + [(k, str(v)) for k, v in params.items()]))

    def replace_query_params(self, **params: Any) -> URL:
        """A copy whose query string is exactly ``params``."""
        return self.replace(query=urlencode([(k, str(v)) for k, v in params.items()]))

    def remove_query_params(self, keys: str | Sequence[str]) -> URL:
        """A copy without the named query parameters."""
        drop = {keys} if isinstance(keys, str) else set(keys)
        pairs = [(k, v) for k, v in QueryParams(self.query).multi_items() if k not in drop]
        return self.replace(query=urlencode(pairs))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (str, URL)):
            return str(self) == str(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._url)

    def __str__(self) -> str:
        return self._url

    def __repr__(self) -> str:
        shown = self._url
        if self.password:
            shown = str(self.replace(password="********"))
        return f"{type(self).__name__}({shown!r})"


_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


# A Host header we can put in a URL as is: a reg-name or bracketed IPv6 literal and an
# optional port. Anything else ("a@evil.com", "x/y", "[", "h:80@evil") could rewrite the
# URL's host or path, or make urlsplit raise; such a header is ignored.
_VALID_HOST = re.compile(r"(?:[A-Za-z0-9\-._~]+|\[([0-9A-Fa-f:.]+)\])(?::[0-9]{0,5})?")


def _usable_host(value: str) -> bool:
    match = _VALID_HOST.fullmatch(value)
    if match is None:
        return False
    if match[1] is not None:
        try:
            ipaddress.IPv6Address(match[1])
        except ValueError:
            return False
    return True


def _url_from_scope(scope: Scope) -> str:
    scheme = scope.get("scheme", "http")
    path = scope.get("root_path", "") + scope_path(scope)[1]
    if "?" in path or "#" in path:  # decoded %3F / %23 must not start a query or fragment
        path = path.replace("?", "%3F").replace("#", "%23")
    query = scope.get("query_string", b"")
    host = None
    for key, value in scope["headers"]:
        if key == b"host":
            candidate = value.decode("latin-1")
            if _usable_host(candidate):
                host = candidate
            break
    if host is None:
        server = scope.get("server")
        if server is None:
            url = path
        else:
            h, port = server
            if ":" in str(h):  # an IPv6 server address needs brackets in a URL
                h = f"[{h}]"
            default = _DEFAULT_PORTS.get(scheme)
            netloc = h if port == default or port is None else f"{h}:{port}"
            url = f"{scheme}://{netloc}{path}"
    else:
        url = f"{scheme}://{host}{path}"
    if query:
        url += "?" + query.decode("latin-1")
    return url


def scope_path(scope: Scope) -> tuple[str, str]:
    """``(root_path, path relative to root_path)`` accepting both ASGI conventions.

    Servers may give ``path`` with or without ``root_path`` in front; mounts set
    ``root_path``. The result never repeats the prefix.
    """
    root = scope.get("root_path", "")
    path: str = scope.get("path", "/")
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        path = path[len(root) :]
    return root, path


class State:
    """An attribute bag over a dict (``request.state.user = ...``)."""

    __slots__ = ("_state",)

    def __init__(self, state: dict[str, Any] | None = None) -> None:
        object.__setattr__(self, "_state", {} if state is None else state)

    def __setattr__(self, key: str, value: Any) -> None:
        self._state[key] = value

    def __getattr__(self, key: str) -> Any:
        try:
            return self._state[key]
        except KeyError:
            raise AttributeError(f"'State' object has no attribute {key!r}") from None

    def __delattr__(self, key: str) -> None:
        try:
            del self._state[key]
        except KeyError:
            raise AttributeError(f"'State' object has no attribute {key!r}") from None

    def __contains__(self, key: str) -> bool:
        return key in self._state

    def __repr__(self) -> str:
        return f"State({self._state!r})"
