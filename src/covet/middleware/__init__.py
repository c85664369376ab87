"""Middleware shipped with CovetPy: each a plain ASGI class ``cls(app, **options)``.

Names are imported on first use, so ``import covet.middleware`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'covet.middleware' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
