"""Middleware shipped with CovetPy: each a plain ASGI class ``cls(app, **options)``.

Names are imported on first use, so ``import covet.middleware`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from covet._lazy import lazy_exports

_EXPORTS = {
    "AccessLogMiddleware": "covet.middleware.requestid",
    "BaseHTTPMiddleware": "covet.middleware.base",
    "BodySizeLimitMiddleware": "covet.middleware.bodylimit",
    "CacheMiddleware": "covet.cache.middleware",
    "CORSMiddleware": "covet.middleware.cors",
    "CSRFMiddleware": "covet.csrf",
    "GZipMiddleware": "covet.middleware.gzip",
    "HTTPSRedirectMiddleware": "covet.middleware.httpsredirect",
    "Middleware": "covet.middleware.base",
    "ProxyHeadersMiddleware": "covet.middleware.proxy",
    "RateLimitMiddleware": "covet.ratelimit.middleware",
    "RequestIDMiddleware": "covet.middleware.requestid",
    "SecurityHeadersMiddleware": "covet.middleware.security",
    "SessionMiddleware": "covet.sessions",
    "TimeoutMiddleware": "covet.middleware.timeout",
    "TrustedHostMiddleware": "covet.middleware.trustedhost",
}

__all__ = tuple(sorted(_EXPORTS))

if TYPE_CHECKING:  # the real classes for type checkers ("X as X": explicit re-exports)
    from covet.cache.middleware import CacheMiddleware as CacheMiddleware
    from covet.csrf import CSRFMiddleware as CSRFMiddleware
    from covet.middleware.base import BaseHTTPMiddleware as BaseHTTPMiddleware
    from covet.middleware.base import Middleware as Middleware
    from covet.middleware.bodylimit import BodySizeLimitMiddleware as BodySizeLimitMiddleware
    from covet.middleware.cors import CORSMiddleware as CORSMiddleware
    from covet.middleware.gzip import GZipMiddleware as GZipMiddleware
    from covet.middleware.httpsredirect import HTTPSRedirectMiddleware as HTTPSRedirectMiddleware
    from covet.middleware.proxy import ProxyHeadersMiddleware as ProxyHeadersMiddleware
    from covet.middleware.requestid import AccessLogMiddleware as AccessLogMiddleware
    from covet.middleware.requestid import RequestIDMiddleware as RequestIDMiddleware
    from covet.middleware.security import SecurityHeadersMiddleware as SecurityHeadersMiddleware
    from covet.middleware.timeout import TimeoutMiddleware as TimeoutMiddleware
    from covet.middleware.trustedhost import TrustedHostMiddleware as TrustedHostMiddleware
    from covet.ratelimit.middleware import RateLimitMiddleware as RateLimitMiddleware
    from covet.sessions import SessionMiddleware as SessionMiddleware


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
