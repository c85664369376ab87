"""Per-middleware overhead: each CovetPy middleware alone around a raw ASGI endpoint.

Used by ``bench_middleware.py --each``. The endpoint is a plain ASGI function that sends
a 27-byte JSON answer with ``content-type``/``content-length`` (what a Covet JSON
response sends), so the figure for a case is the middleware's own cost per request:
``µs(middleware around endpoint) - µs(endpoint)``. Each case names the request it
sends, so "nothing to do" paths (GZip under ``minimum_size``, CORS without ``Origin``,
an allowed host) are measured apart from the paths that add headers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

BODY = b'{"message":"Hello, World!"}'
ORIGIN = b"https://app.example.com"
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"application/json"), (b"content-length", b"27")],
}
BODY_MESSAGE = {"type": "http.response.body", "body": BODY, "more_body": False}
LARGE = b'{"items":[' + b",".join(b'{"id":%d,"name":"item"}' % i for i in range(60)) + b"]}"


async def endpoint(scope: Any, receive: Any, send: Any) -> None:
    """A raw JSON endpoint: fresh messages per call, as a real response builds them."""
    await send({"type": "http.response.start", "status": 200, "headers": list(START["headers"])})
    await send({"type": "http.response.body", "body": BODY, "more_body": False})


async def large_endpoint(scope: Any, receive: Any, send: Any) -> None:
    """A JSON answer above GZip's ``minimum_size`` (compression really happens)."""
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(LARGE)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": LARGE, "more_body": False})


async def reading_endpoint(scope: Any, receive: Any, send: Any) -> None:
    """Reads the request body first (so a body-limit wrapper on ``receive`` is exercised)."""
    await receive()
    await endpoint(scope, receive, send)


Case = tuple[str, Callable[[Any], Any], list[tuple[bytes, bytes]], dict[str, Any]]


def cases() -> list[Case]:
    """``(label, wrap(app) -> app, extra request headers, scope overrides)``."""
    from covet.middleware import (
        AccessLogMiddleware,
        BaseHTTPMiddleware,
        BodySizeLimitMiddleware,
        CORSMiddleware,
        GZipMiddleware,
        HTTPSRedirectMiddleware,
        ProxyHeadersMiddleware,
        RateLimitMiddleware,
        RequestIDMiddleware,
        SecurityHeadersMiddleware,
        TimeoutMiddleware,
        TrustedHostMiddleware,
    )

    async def passthrough(request: Any, call_next: Any) -> Any:
        return await call_next(request)

    from covet import Covet
    from covet.monitoring import PrometheusMetrics, PrometheusMiddleware
    from covet.monitoring.health import HealthChecks, LifespanPhaseMiddleware
    from covet.routing import Route

    route = Route("/users/{user_id:int}", endpoint)

    async def routed(scope: Any, receive: Any, send: Any) -> None:
        """``endpoint`` behind the router: ``scope["route"]`` set as the app's dispatch does."""
        scope["route"] = route
        await endpoint(scope, receive, send)

    def prometheus(app: Any) -> Any:
        metrics = PrometheusMetrics(Covet(), path=None, databases=False, process_metrics=False)
        return PrometheusMiddleware(app, metrics=metrics)

    def lifespan_phase(app: Any) -> Any:
        return LifespanPhaseMiddleware(app, health=HealthChecks(Covet(), databases=False))

    def cors(app: Any) -> Any:
        return CORSMiddleware(app, allow_origins=[ORIGIN.decode()], allow_credentials=True)

    origin = [(b"origin", ORIGIN)]
    gzip_ok = [(b"accept-encoding", b"gzip, deflate, br")]
    return [
        ("RequestID (fresh id)", RequestIDMiddleware, [], {}),
        ("RequestID (incoming id kept)", RequestIDMiddleware, [(b"x-request-id", b"abc-123")], {}),
        ("CORS (no Origin: Vary only)", cors, [], {}),
        ("CORS (allowed Origin)", cors, origin, {}),
        ("CORS (preflight)", cors, [*origin, (b"access-control-request-method", b"GET")], {"method": "OPTIONS"}),
        ("SecurityHeaders (http)", SecurityHeadersMiddleware, [], {}),
        ("SecurityHeaders (https, HSTS)", SecurityHeadersMiddleware, [], {"scheme": "https"}),
        ("TrustedHost (allowed)", lambda a: TrustedHostMiddleware(a, allowed_hosts=["127.0.0.1", "*.example.com"]), [], {}),
        ("ProxyHeaders (untrusted peer)", lambda a: ProxyHeadersMiddleware(a, trusted_hosts=["10.0.0.1"]), [], {}),
        (
            "ProxyHeaders (trusted, X-Forwarded-*)",
            ProxyHeadersMiddleware,
            [(b"x-forwarded-for", b"203.0.113.7"), (b"x-forwarded-proto", b"https")],
            {},
        ),
        ("HTTPSRedirect (already https)", HTTPSRedirectMiddleware, [], {"scheme": "https"}),
        ("Timeout", TimeoutMiddleware, [], {}),
        ("BodySizeLimit (GET)", BodySizeLimitMiddleware, [], {}),
        (
            "BodySizeLimit (POST 27 B, read)",
            BodySizeLimitMiddleware,
            [(b"content-length", b"27")],
            {"method": "POST", "endpoint": reading_endpoint},
        ),
        ("GZip (no Accept-Encoding)", GZipMiddleware, [], {}),
        ("GZip (small body: skip)", GZipMiddleware, gzip_ok, {}),
        (
            "GZip (1.4 kB compressed)",
            lambda a: GZipMiddleware(a, brotli=False),
            gzip_ok,
            {"endpoint": large_endpoint},
        ),
        ("AccessLog (logger disabled)", lambda a: AccessLogMiddleware(a, logger="bench.disabled"), [], {}),
        ("BaseHTTPMiddleware (pass-through)", lambda a: BaseHTTPMiddleware(a, dispatch=passthrough), [], {}),
        ("RateLimit (memory, headers)", lambda a: RateLimitMiddleware(a, limit="1000000000/minute"), [], {}),
        ("RateLimit (memory, no headers)", lambda a: RateLimitMiddleware(a, limit="1000000000/minute", headers=False), [], {}),
        ("RateLimit (limit=None)", lambda a: RateLimitMiddleware(a, limit=None), [], {}),
        ("Prometheus (route template, counter + histogram + gauge)", prometheus, [], {"endpoint": routed}),
        ("HealthChecks lifespan watcher (pass-through)", lifespan_phase, [], {}),
    ]


def backend_hit_cost(n: int = 100_000) -> float:
    """CPU µs of one ``MemoryBackend.hit`` (fixed window), the floor for RateLimit."""
    import asyncio
    import time

    from covet.ratelimit.backends import MemoryBackend
    from covet.ratelimit.rate import parse_rate

    async def run() -> float:
        backend = MemoryBackend()
        rate = parse_rate("1000000000/minute")
        c0 = time.process_time()
        for _ in range(n):
            await backend.hit("app:127.0.0.1", rate, "fixed_window")
        return (time.process_time() - c0) / n * 1e6

    return asyncio.run(run())
