"""Take the client address, scheme and host from a trusted reverse proxy's headers."""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Sequence

from covet._types import ASGIApp, Receive, Scope, Send
from covet.exceptions import ImproperlyConfigured

__all__ = ("ProxyHeadersMiddleware", "parse_forwarded")

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_CACHE_SIZE = 1024  # entries of the address caches (client-chosen values: bounded)
_CACHED_LENGTH = 64  # longer values are never cached (an address with a port is shorter)
_HOST = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+)(:\d{1,5})?$")
_FORWARDED_PAIR = re.compile(r'\s*([A-Za-z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*)\s*')


def parse_forwarded(values: Sequence[str]) -> list[dict[str, str]]:
    """Parse RFC 7239 ``Forwarded`` header values into one dict per hop, left to right."""
    hops: list[dict[str, str]] = []
    for value in values:
        for element in _split_unquoted(value, ","):
            hop: dict[str, str] = {}
            for pair in _split_unquoted(element, ";"):
                match = _FORWARDED_PAIR.fullmatch(pair)
                if match is None:
                    continue
                raw = match.group(2)
                if raw.startswith('"'):
                    raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
                hop[match.group(1).lower()] = raw
            hops.append(hop)
    return hops


def _split_unquoted(value: str, sep: str) -> list[str]:
    if '"' not in value:  # the common case, in C
        return [p for p in (part.strip() for part in value.split(sep)) if p]
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return [p for p in (part.strip() for part in parts) if p]


def _parse_node(node: str) -> tuple[str, int] | None:
    """An address from ``X-Forwarded-For`` or a ``for=`` node: ``(ip, port)`` or ``None``."""
    if len(node) <= _CACHED_LENGTH:  # a proxy sends the same few addresses again and again
        return _parse_node_cached(node)
    return _parse_node_uncached(node)


def _parse_node_uncached(node: str) -> tuple[str, int] | None:
    node = node.strip()
    port = 0
    if node.startswith("["):
        end = node.find("]")
        if end == -1:
            return None
        host, rest = node[1:end], node[end + 1 :]
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
    elif node.count(":") == 1:
        host, _, raw_port = node.partition(":")
        if raw_port.isdigit():
            port = int(raw_port)
    else:
        host = node
    try:
        return str(ipaddress.ip_address(host)), port if port < 65536 else 0
    except ValueError:
        return None


_parse_node_cached = functools.lru_cache(maxsize=_CACHE_SIZE)(_parse_node_uncached)


class ProxyHeadersMiddleware:
    """Honour ``Forwarded`` / ``X-Forwarded-For/-Proto/-Host`` from trusted proxies only.

    The headers are read only when the direct peer (``scope["client"]``) is in
    ``trusted_hosts`` (IP addresses or CIDR networks; ``"*"`` trusts any peer, for
    unix sockets behind a local proxy). The client becomes the right-most address in
    the chain that is not itself a trusted proxy, so addresses a client prepends to
    ``X-Forwarded-For`` cannot spoof it. RFC 7239 ``Forwarded`` wins over the
    ``X-Forwarded-*`` headers when both are present.
    """

    def __init__(
        self,
        app: ASGIApp,
        trusted_hosts: Sequence[str] = ("127.0.0.1", "::1"),
        use_forwarded: bool = True,
        use_host: bool = True,
    ) -> None:
        if isinstance(trusted_hosts, str):
            raise ImproperlyConfigured("trusted_hosts must be a list of IPs/CIDRs, not a string")
        networks: list[_Network] = []
        trust_all = False
        for entry in trusted_hosts:
            if entry == "*":
                trust_all = True
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError as exc:
                raise ImproperlyConfigured(f"invalid trusted proxy address {entry!r}: {exc}") from exc
        self.app = app
        self.trust_all = trust_all
        self.networks = tuple(networks)
        self.use_forwarded = use_forwarded
        self.use_host = use_host
        self._trusted_cache: dict[str, bool] = {}  # peer address -> is_trusted()

    def is_trusted(self, host: str | None) -> bool:
        """Whether ``host`` (an IP address string) is a trusted proxy."""
        if self.trust_all:
            return True
        if not host:
            return False
        cache = self._trusted_cache
        trusted = cache.get(host)
        if trusted is None:
            try:
                address = ipaddress.ip_address(host)
            except ValueError:
                return False
            trusted = any(address in network for network in self.networks)
            if len(host) <= _CACHED_LENGTH:
                if len(cache) >= _CACHE_SIZE:
                    cache.clear()
                cache[host] = trusted
        return trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        if scope_type == "http" or scope_type == "websocket":
            client = scope.get("client")
            if self.is_trusted(client[0] if client else None):
                self._apply(scope)
        await self.app(scope, receive, send)

    def _apply(self, scope: Scope) -> None:
        headers = scope["headers"]
        # One pass over the request headers for the four this reads (get_headers() x4).
        forwarded: list[bytes] = []
        xff: list[bytes] = []
        xfp: list[bytes] = []
        hosts: list[bytes] = []
        for key, value in headers:
            size = len(key)
            if size == 9:
                if key == b"forwarded" or key.lower() == b"forwarded":
                    forwarded.append(value)
            elif size == 15:
                if key == b"x-forwarded-for" or key.lower() == b"x-forwarded-for":
                    xff.append(value)
            elif size == 17:
                if key == b"x-forwarded-proto" or key.lower() == b"x-forwarded-proto":
                    xfp.append(value)
            elif size == 16 and (key == b"x-forwarded-host" or key.lower() == b"x-forwarded-host"):
                hosts.append(value)
        if not self.use_forwarded:
            forwarded = []
        if forwarded:
            hops = parse_forwarded([v.decode("latin-1") for v in forwarded])
            nodes = [hop.get("for", "") for hop in hops]
            index = self._client_index(nodes)
            if index is None:
                return
            hop = hops[index]
            proto, host = hop.get("proto"), hop.get("host")
        else:
            nodes = [n for v in xff for n in v.decode("latin-1").split(",")]
            protos = [p for v in xfp for p in v.decode("latin-1").split(",")]
            index = self._client_index(nodes) if nodes else None
            if index is None and not protos and not hosts:
                return
            if protos:
                same = index is not None and len(protos) == len(nodes)
                proto = protos[index if same and index is not None else -1].strip()
            else:
                proto = None
            host = hosts[-1].decode("latin-1").split(",")[-1].strip() if hosts else None
        if index is not None:
            parsed = _parse_node(nodes[index])
            if parsed is not None:
                scope["client"] = parsed
        if proto:
            proto = proto.lower()
            if proto in ("http", "https"):
                scope["scheme"] = proto if scope["type"] == "http" else ("wss" if proto == "https" else "ws")
        if host and self.use_host and _HOST.match(host):
            scope["headers"] = [(k, v) for k, v in headers if k.lower() != b"host"]
            scope["headers"].append((b"host", host.encode("latin-1")))

    def _client_index(self, nodes: list[str]) -> int | None:
        """Index of the right-most hop that is not a trusted proxy (or the left-most)."""
        chosen: int | None = None
        for i in range(len(nodes) - 1, -1, -1):
            parsed = _parse_node(nodes[i])
            if parsed is None:
                # Unknown/obfuscated or malformed: stop trusting the chain here.
                return chosen if chosen is not None else (i if nodes[i].strip() else None)
            chosen = i
            if not self.is_trusted(parsed[0]):
                return i
        return chosen
