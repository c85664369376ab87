"""Security response headers: HSTS, CSP, nosniff, framing, referrer, permissions, COOP."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Mapping, Sequence

from covet._types import ASGIApp, Message, Receive, Scope, Send
from covet.exceptions import ImproperlyConfigured
from covet.middleware._util import RawHeaders

__all__ = ("SecurityHeadersMiddleware", "build_csp", "build_permissions_policy")

REFERRER_POLICIES = frozenset(
    {
        "no-referrer",
        "no-referrer-when-downgrade",
        "origin",
        "origin-when-cross-origin",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
        "unsafe-url",
    }
)
COOP_VALUES = frozenset({"same-origin", "same-origin-allow-popups", "unsafe-none", "noopener-allow-popups"})
_DIRECTIVE = re.compile(r"^[a-z][a-z0-9-]*$")
_BAD_VALUE = re.compile(r"[\r\n\x00;,]")

CSPValue = str | Mapping[str, str | Sequence[str] | bool]
PolicyValue = str | Mapping[str, str | Sequence[str]]


def build_csp(policy: Mapping[str, str | Sequence[str] | bool]) -> str:
    """Render a CSP dict: ``{"default-src": ["'self'"], "upgrade-insecure-requests": True}``.

    Keys may use underscores (``default_src``); ``True`` gives a value-less directive and
    ``False``/``None`` omits it. Raises ``ImproperlyConfigured`` on injection characters.
    """
    parts: list[str] = []
    for key, value in policy.items():
        name = key.replace("_", "-").lower()
        if not _DIRECTIVE.match(name):
            raise ImproperlyConfigured(f"invalid CSP directive name {key!r}")
        if value is False or value is None:
            continue
        if value is True:
            parts.append(name)
            continue
        sources = [value] if isinstance(value, str) else list(value)
        for source in sources:
            if not isinstance(source, str) or _BAD_VALUE.search(source):
                raise ImproperlyConfigured(f"invalid CSP source {source!r} for {name}")
        parts.append(" ".join([name, *sources]) if sources else name)
    return "; ".join(parts)


def build_permissions_policy(policy: Mapping[str, str | Sequence[str]]) -> str:
    """Render ``{"camera": [], "geolocation": ["self", "https://maps.example"]}``.

    ``self`` and ``*`` are written bare; origins are quoted, as the header syntax requires.
    """
    parts: list[str] = []
    for feature, allow in policy.items():
        name = feature.replace("_", "-").lower()
        if not _DIRECTIVE.match(name):
            raise ImproperlyConfigured(f"invalid Permissions-Policy feature {feature!r}")
        items = [allow] if isinstance(allow, str) else list(allow)
        rendered: list[str] = []
        for item in items:
            if _BAD_VALUE.search(item) or '"' in item:
                raise ImproperlyConfigured(f"invalid Permissions-Policy origin {item!r}")
            rendered.append(item if item in ("self", "*", "src") else f'"{item}"')
        value = "*" if rendered == ["*"] else "(" + " ".join(rendered) + ")"
        parts.append(f"{name}={value}")
    return ", ".join(parts)


def _header_value(name: str, value: str) -> bytes:
    if "\r" in value or "\n" in value or "\x00" in value:
        raise ImproperlyConfigured(f"{name} contains a control character")
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise ImproperlyConfigured(f"{name} must be latin-1 text") from exc


class SecurityHeadersMiddleware:
    """Add security headers to every HTTP response, unless the handler set them itself.

    Defaults are safe for most apps: HSTS for one year with subdomains (sent on https
    only), ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``,
    ``Referrer-Policy: strict-origin-when-cross-origin`` and
    ``Cross-Origin-Opener-Policy: same-origin``. CSP and Permissions-Policy are opt-in
    (string or dict). Pass ``None``/``False``/``0`` to leave a header out.
    """

    def __init__(
        self,
        app: ASGIApp,
        hsts_max_age: int = 31_536_000,
        hsts_include_subdomains: bool = True,
        hsts_preload: bool = False,
        content_security_policy: CSPValue | None = None,
        csp_report_only: bool = False,
        content_type_options: bool = True,
        frame_options: str | None = "DENY",
        referrer_policy: str | None = "strict-origin-when-cross-origin",
        permissions_policy: PolicyValue | None = None,
        cross_origin_opener_policy: str | None = "same-origin",
    ) -> None:
        if hsts_max_age < 0:
            raise ImproperlyConfigured("hsts_max_age must be >= 0")
        if hsts_preload and (hsts_max_age < 31_536_000 or not hsts_include_subdomains):
            raise ImproperlyConfigured(
                "HSTS preload needs hsts_max_age >= 31536000 and hsts_include_subdomains=True"
            )
        if frame_options is not None and frame_options.upper() not in ("DENY", "SAMEORIGIN"):
            raise ImproperlyConfigured("frame_options must be 'DENY', 'SAMEORIGIN' or None")
        if referrer_policy is not None:
            for token in referrer_policy.split(","):
                if token.strip() not in REFERRER_POLICIES:
                    raise ImproperlyConfigured(f"unknown Referrer-Policy {token.strip()!r}")
        if cross_origin_opener_policy is not None and cross_origin_opener_policy not in COOP_VALUES:
            raise ImproperlyConfigured(f"unknown Cross-Origin-Opener-Policy {cross_origin_opener_policy!r}")

        self.app = app
        headers: RawHeaders = []
        if content_security_policy:
            if isinstance(content_security_policy, Mapping):
                policy = dict(content_security_policy)
                names = {k.replace("_", "-").lower() for k in policy}
                if frame_options is not None and "frame-ancestors" not in names:
                    # Modern browsers read frame-ancestors; keep it in step with X-Frame-Options.
                    policy["frame-ancestors"] = "'none'" if frame_options.upper() == "DENY" else "'self'"
                csp = build_csp(policy)
            else:
                csp = content_security_policy
            name = "content-security-policy-report-only" if csp_report_only else "content-security-policy"
            headers.append((name.encode(), _header_value("Content-Security-Policy", csp)))
        if content_type_options:
            headers.append((b"x-content-type-options", b"nosniff"))
        if frame_options is not None:
            headers.append((b"x-frame-options", frame_options.upper().encode()))
        if referrer_policy is not None:
            headers.append((b"referrer-policy", referrer_policy.encode()))
        if permissions_policy:
            value = (
                build_permissions_policy(permissions_policy)
                if isinstance(permissions_policy, Mapping)
                else permissions_policy
            )
            headers.append((b"permissions-policy", _header_value("Permissions-Policy", value)))
        if cross_origin_opener_policy is not None:
            headers.append((b"cross-origin-opener-policy", cross_origin_opener_policy.encode()))
        self.headers = headers
        self.https_headers = list(headers)
        if hsts_max_age:
            hsts = f"max-age={hsts_max_age}"
            if hsts_include_subdomains:
                hsts += "; includeSubDomains"
            if hsts_preload:
                hsts += "; preload"
            self.https_headers.append((b"strict-transport-security", hsts.encode()))

        # Lower-case names and their lengths, so scanning a response's headers for ones
        # the handler set itself costs a length check per header in the common case.
        self._names = frozenset(name for name, _ in self.https_headers)
        self._lengths = frozenset(len(name) for name in self._names)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.https_headers if scope.get("scheme") == "https" else self.headers
        names = self._names
        lengths = self._lengths

        # A plain function returning send's awaitable: no coroutine frame of its own per
        # message (this wrapper runs twice per response).
        def send_with_headers(message: Message) -> Awaitable[None]:
            if message["type"] == "http.response.start":
                headers: RawHeaders = message.get("headers", ())
                for key, _ in headers:
                    if len(key) in lengths and key.lower() in names:
                        # The handler set some of them itself: those are kept.
                        present = {key.lower() for key, _ in headers}
                        added = [item for item in extra if item[0] not in present]
                        break
                else:
                    added = extra
                message = dict(message)  # the app's message is never mutated
                message["headers"] = [*headers, *added]
            return send(message)

        await self.app(scope, receive, send_with_headers)
