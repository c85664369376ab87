"""Rate limiting: fixed window, sliding window and token bucket, in memory or on Redis.

    app.add_middleware(RateLimitMiddleware, limit="100/minute", backend=RedisBackend(url))

    @app.post("/login")
    @rate_limit("5/minute")
    async def login(...): ...

See ``docs/ratelimit.md``.
"""

from __future__ import annotations

from .algorithms import ALGORITHMS, RateLimitResult
from .backends import MemoryBackend, RateLimitBackend, RateLimitBackendError
from .keys import client_ip, ip_key, ip_route_key, route_key, user_key
from .middleware import RateLimitMiddleware, RouteLimit, rate_limit
from .rate import Rate, parse_rate
from .redis import RedisBackend

__all__ = (
    "ALGORITHMS",
    "MemoryBackend",
    "Rate",
    "RateLimitBackend",
    "RateLimitBackendError",
    "RateLimitMiddleware",
    "RateLimitResult",
    "RedisBackend",
    "RouteLimit",
    "client_ip",
    "ip_key",
    "ip_route_key",
    "parse_rate",
    "rate_limit",
    "route_key",
    "user_key",
)
