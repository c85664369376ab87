"""Reject requests whose ``Host`` header is not one of the application's host names."""

from __future__ import annotations

import re
from collections.abc import Sequence

from covet._types import ASGIApp, Receive, Scope, Send
from covet.exceptions import ImproperlyConfigured
from covet.middleware._util import (
    get_header,
    reject_websocket,
    request_url,
    send_json_error,
    send_redirect,
)

__all__ = ("TrustedHostMiddleware", "split_host")

_CACHE_SIZE = 256
_HOSTNAME = re.compile(r"^[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$")
_PATTERN = re.compile(r"^(\*\.)?[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?$|^\[[0-9a-f:.]+\]$")


def split_host(value: str) -> tuple[str, str]:
    """Split a ``Host`` value into lower-cased ``(host, port)``; IPv6 keeps its brackets."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end == -1:
            return "", ""
        host, rest = value[: end + 1], value[end + 1 :]
        return host, rest[1:] if rest.startswith(":") else ""
    host, _, port = value.partition(":")
    return host.rstrip("."), port


class TrustedHostMiddleware:
    """Answer 400 to requests for host names outside ``allowed_hosts``.

    Entries are exact names (``"example.com"``), wildcards for any subdomain
    (``"*.example.com"``, which does not match the bare domain) or ``"*"``. With
    ``www_redirect=True`` a request for ``example.com`` is redirected (308) to
    ``www.example.com`` when only the latter is allowed. WebSocket handshakes for
    other hosts are refused.
    """

    def __init__(
        self,
        app: ASGIApp,
        allowed_hosts: Sequence[str] = ("*",),
        www_redirect: bool = True,
    ) -> None:
        if isinstance(allowed_hosts, str):
            raise ImproperlyConfigured("allowed_hosts must be a list of host names, not a string")
        if not allowed_hosts:
            raise ImproperlyConfigured("allowed_hosts must not be empty (use ['*'] to allow any host)")
        exact: set[str] = set()
        suffixes: list[str] = []
        allow_any = False
        for entry in allowed_hosts:
            pattern = entry.strip().lower()
            if pattern == "*":
                allow_any = True
            elif not _PATTERN.match(pattern):
                raise ImproperlyConfigured(
                    f"invalid allowed host {entry!r}: use 'example.com', '*.example.com' or '*'"
                )
            elif pattern.startswith("*."):
                suffixes.append(pattern[1:])
            else:
                exact.add(pattern)
        self.app = app
        self.allow_any = allow_any
        self.exact = frozenset(exact)
        self.suffixes = tuple(suffixes)
        self.www_redirect = www_redirect
        self._allowed_raw: set[bytes] = set()  # raw Host header values that passed

    def is_allowed(self, host: str) -> bool:
        """Whether ``host`` (without port, lower-case) matches ``allowed_hosts``."""
        if self.allow_any or host in self.exact:
            return True
        return bool(self.suffixes) and host.endswith(self.suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.allow_any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = get_header(scope["headers"], b"host")
        if raw in self._allowed_raw:  # a Host value already found allowed
            await self.app(scope, receive, send)
            return
        host, port = split_host(raw.decode("latin-1")) if raw else ("", "")
        valid = host.startswith("[") or bool(_HOSTNAME.match(host))
        if valid and self.is_allowed(host):
            if raw and len(self._allowed_raw) < _CACHE_SIZE:  # client-chosen values: bounded
                self._allowed_raw.add(raw)
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await reject_websocket(receive, send)
            return
        www = "www." + host
        if valid and self.www_redirect and not host.startswith("www.") and self.is_allowed(www):
            netloc = f"{www}:{port}" if port and port.isdigit() else www
            await send_redirect(send, request_url(scope, scope.get("scheme", "http"), netloc))
            return
        await send_json_error(scope, send, 400, "Invalid host header")
