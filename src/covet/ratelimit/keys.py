"""Built-in rate-limit keys: who (or what) a limit counts against.

Built-in keys read the ASGI scope only, never raw forwarding headers: ``scope["client"]``
is the peer address, already rewritten by ``ProxyHeadersMiddleware`` when (and only when)
the proxy is trusted, so a client cannot pick its own key by sending ``X-Forwarded-For``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any, Union

from covet._types import Scope

__all__ = (
    "BUILTIN_KEYS",
    "KeyFunc",
    "client_ip",
    "ip_key",
    "ip_route_key",
    "route_key",
    "user_key",
)

# A custom key function receives the ``covet.http.Request`` and returns the key (or None
# to skip limiting this request); it may be sync or async.
KeyFunc = Callable[[Any], Union[str, Awaitable[Union[str, None]], None]]


def client_ip(scope: Scope, ipv6_prefix: int = 64) -> str:
    """The client address from ``scope["client"]``; IPv6 addresses are grouped by prefix.

    A single IPv6 client usually owns a whole /64, so keying by full address would let it
    rotate addresses to dodge the limit. Unknown peers share the key ``"unknown"``.
    """
    client = scope.get("client")
    if not client:
        return "unknown"
    host = str(client[0])
    if ":" in host:
        try:
            address = ipaddress.IPv6Address(host.strip("[]"))
        except ValueError:
            return host
        # A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d; grouping those by
        # /64 would put every IPv4 client behind one shared counter.
        mapped = address.ipv4_mapped
        if mapped is not None:
            return str(mapped)
        net = ipaddress.IPv6Network(f"{address}/{ipv6_prefix}", strict=False)
        return f"{net.network_address}/{ipv6_prefix}"
    return host


def ip_key(scope: Scope) -> str:
    """Key per client IP."""
    return "ip:" + client_ip(scope)


def _user_identity(user: Any) -> str | None:
    if user is None or getattr(user, "is_authenticated", True) is False:
        return None
    for attr in ("identity", "id", "pk", "username"):
        value = getattr(user, attr, None)
        if value is not None and not callable(value):
            return str(value)
    if isinstance(user, (str, int)):
        return str(user)
    return None


def user_key(scope: Scope) -> str:
    """Key per authenticated user (``scope["user"]``); anonymous requests fall back to IP."""
    identity = _user_identity(scope.get("user"))
    return "user:" + identity if identity is not None else ip_key(scope)


def route_key(scope: Scope) -> str:
    """One shared key per route template (``scope["route"].path``), else per request path."""
    route = scope.get("route")
    path = getattr(route, "path", None) or scope.get("path", "")
    return "route:" + str(path)


def ip_route_key(scope: Scope) -> str:
    """Key per client IP and route."""
    return ip_key(scope) + "|" + route_key(scope)


BUILTIN_KEYS: dict[str, Callable[[Scope], str]] = {
    "ip": ip_key,
    "user": user_key,
    "route": route_key,
    "ip+route": ip_route_key,
}
