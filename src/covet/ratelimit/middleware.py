"""``RateLimitMiddleware`` (app-wide limit) and ``@rate_limit`` (per-route limits).

Mechanism for per-route limits: ``@rate_limit`` wraps the endpoint in an async function
with the same signature (``functools.wraps``) that, when called, asks the enclosing
``RateLimitMiddleware`` for its backend, default key and policy through a context
variable, and raises ``HTTPException(429)`` (with the rate-limit headers) when the route's
limit is exhausted. The check runs after routing and dependency resolution, just before
the handler body; the middleware is required (``limit=None`` adds no app-wide limit).
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, Union

from covet import _json
from covet._types import ASGIApp, Message, Receive, Scope, Send
from covet.concurrency import run_in_threadpool
from covet.exceptions import HTTPException, ImproperlyConfigured
from covet.http import Request

from .algorithms import RateLimitResult, validate_algorithm
from .backends import MemoryBackend, RateLimitBackend, RateLimitBackendError
from .keys import BUILTIN_KEYS, KeyFunc
from .rate import Rate, parse_rate

__all__ = ("RateLimitMiddleware", "RouteLimit", "rate_limit")

logger = logging.getLogger("covet.ratelimit")

F = TypeVar("F", bound=Callable[..., Any])
KeySpec = Union[str, KeyFunc]
ExemptSpec = Union[Iterable[str], Callable[[Any], bool]]

_SCOPE_RESULTS = "covet.ratelimit"
_MAX_KEY_LENGTH = 200
_current: contextvars.ContextVar[tuple[RateLimitMiddleware, Scope, Receive]] = (
    contextvars.ContextVar("covet.ratelimit.current")
)
_TOO_MANY = _json.dumps({"error": "Too Many Requests"})
_UNAVAILABLE = _json.dumps({"error": "Service Unavailable"})


_NAMES: dict[str, bytes] = {}


def _encode_name(name: str) -> bytes:
    """``name.encode()``, remembered (the few ``RateLimit-*`` names repeat on every response)."""
    encoded = _NAMES.get(name)
    if encoded is None:
        encoded = name.encode()
        if len(_NAMES) < 16:
            _NAMES[name] = encoded
    return encoded


def _check_key(key: KeySpec) -> KeySpec:
    if isinstance(key, str) and key not in BUILTIN_KEYS:
        raise ImproperlyConfigured(
            f"unknown rate-limit key {key!r}; use one of {sorted(BUILTIN_KEYS)} or a function"
        )
    if not isinstance(key, str) and not callable(key):
        raise ImproperlyConfigured(f"rate-limit key must be a name or a function, got {key!r}")
    return key


def _request(scope: Scope, receive: Receive) -> Request:
    return Request(scope, receive)


async def _resolve_key(key: KeySpec, scope: Scope, receive: Receive) -> str | None:
    if isinstance(key, str):
        value = BUILTIN_KEYS[key](scope)
    else:
        result: Any = key(_request(scope, receive))
        if inspect.isawaitable(result):
            result = await result
        if result is None:
            return None
        value = str(result)
    if len(value) > _MAX_KEY_LENGTH:  # client-controlled keys must not bloat the backend
        value = "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return value


@dataclass(frozen=True)
class RouteLimit:
    """A per-route limit attached by ``@rate_limit`` (``endpoint.__covet_rate_limits__``)."""

    rate: Rate
    key: KeySpec | None
    algorithm: str | None
    cost: int
    name: str


class RateLimitMiddleware:
    """Limit HTTP requests app-wide and enable ``@rate_limit`` on routes.

    ``limit``: ``"100/minute"`` style rate (or None for no app-wide limit).
    ``algorithm``: ``"fixed_window"``, ``"sliding_window"`` or ``"token_bucket"``.
    ``backend``: ``MemoryBackend()`` (default, per process) or ``RedisBackend(...)``.
    ``key``: ``"ip"`` (default), ``"user"``, ``"route"``, ``"ip+route"`` or a function
    ``(request) -> str | None`` (sync or async; ``None`` skips limiting that request).
    ``exempt``: paths (a trailing ``*`` makes a prefix) or a function ``(request) -> bool``.
    ``headers``: also send ``RateLimit-*`` headers on allowed responses (always on 429s).
    ``fail_open``: when the backend is unreachable, let requests through (logged) instead
    of answering 503.
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: str | Rate | None = "100/minute",
        *,
        algorithm: str = "fixed_window",
        backend: RateLimitBackend | None = None,
        key: KeySpec = "ip",
        exempt: ExemptSpec = (),
        headers: bool = True,
        fail_open: bool = True,
    ) -> None:
        self.app = app
        self.rate = parse_rate(limit) if limit is not None else None
        self.algorithm = validate_algorithm(algorithm)
        self.backend = backend if backend is not None else MemoryBackend()
        self.key = _check_key(key)
        self.headers = headers
        self.fail_open = fail_open
        self._exempt_fn: Callable[[Any], bool] | None = None
        self._exempt_exact: frozenset[str] = frozenset()
        self._exempt_prefixes: tuple[str, ...] = ()
        if callable(exempt):
            self._exempt_fn = exempt
        else:
            paths = [exempt] if isinstance(exempt, str) else list(exempt)
            self._exempt_exact = frozenset(p for p in paths if not p.endswith("*"))
            self._exempt_prefixes = tuple(p[:-1] for p in paths if p.endswith("*"))
        self._last_warning = 0.0
        self._builtin_key = BUILTIN_KEYS[key] if isinstance(key, str) else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _current.set((self, scope, receive))
        try:
            results: list[RateLimitResult] = scope.setdefault(_SCOPE_RESULTS, [])
            if self.rate is not None and not self._is_exempt(scope, receive):
                key_func = self._builtin_key
                if key_func is not None:  # built-in keys are plain functions: no coroutine
                    key: str | None = key_func(scope)
                    if len(key) > _MAX_KEY_LENGTH:  # type: ignore[arg-type]
                        key = await _resolve_key(self.key, scope, receive)
                else:
                    key = await _resolve_key(self.key, scope, receive)
                if key is not None:
                    try:
                        result = await self.backend.hit("app:" + key, self.rate, self.algorithm)
                    except RateLimitBackendError as exc:
                        if not self.backend_failed(exc):
                            await self._send_unavailable(scope, send)
                            return
                    else:
                        if not result.allowed:
                            await self._send_limited(scope, send, result)
                            return
                        results.append(result)
            if self.headers:
                send = self._header_sender(send, results)
            await self.app(scope, receive, send)
        finally:
            _current.reset(token)

    def _is_exempt(self, scope: Scope, receive: Receive) -> bool:
        if self._exempt_fn is not None:
            return bool(self._exempt_fn(_request(scope, receive)))
        path: str = scope.get("path", "")
        return path in self._exempt_exact or path.startswith(self._exempt_prefixes)

    def backend_failed(self, exc: Exception) -> bool:
        """Apply the fail-open policy: True lets the request through (and logs)."""
        now = time.monotonic()
        if now - self._last_warning > 10.0:
            self._last_warning = now
            logger.warning(
                "rate-limit backend failed (%s); %s",
                exc,
                "letting requests through" if self.fail_open else "answering 503",
            )
        return self.fail_open

    @staticmethod
    def _header_sender(send: Send, results: list[RateLimitResult]) -> Send:
        # A plain function returning send's awaitable: no coroutine frame of its own.
        def sender(message: Message) -> Awaitable[None]:
            if message["type"] == "http.response.start" and results:
                headers = list(message.get("headers", ()))
                for name, _ in headers:
                    if len(name) == 15 and name.lower() == b"ratelimit-limit":
                        break  # the app (or an inner limit) set them already
                else:
                    tightest = (
                        results[0]
                        if len(results) == 1
                        else min(results, key=lambda r: (r.remaining, -r.reset_after))
                    )
                    headers.extend([(_encode_name(n), v.encode()) for n, v in tightest.headers()])
                    message = {**message, "headers": headers}
            return send(message)

        return sender

    @staticmethod
    async def _send_limited(scope: Scope, send: Send, result: RateLimitResult) -> None:
        headers = [(n.encode(), v.encode()) for n, v in result.headers()]
        await _send_json(scope, send, 429, _TOO_MANY, headers)

    @staticmethod
    async def _send_unavailable(scope: Scope, send: Send) -> None:
        await _send_json(scope, send, 503, _UNAVAILABLE, [(b"retry-after", b"5")])


async def _send_json(
    scope: Scope, send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


def _require_middleware(app: Any) -> None:
    """Start-up check for ``@rate_limit``: the app must have a ``RateLimitMiddleware``."""
    for cls, _options in getattr(app, "user_middleware", ()):
        if isinstance(cls, type) and issubclass(cls, RateLimitMiddleware):
            return
    raise ImproperlyConfigured(
        "@rate_limit needs RateLimitMiddleware on the app that serves the route: "
        "app.add_middleware(RateLimitMiddleware, limit=None)"
    )


async def _enforce(limit: RouteLimit) -> None:
    try:
        middleware, scope, receive = _current.get()
    except LookupError:
        raise ImproperlyConfigured(
            "@rate_limit needs RateLimitMiddleware: app.add_middleware(RateLimitMiddleware, limit=None)"
        ) from None
    key = await _resolve_key(limit.key or middleware.key, scope, receive)
    if key is None:
        return
    algorithm = limit.algorithm or middleware.algorithm
    try:
        result = await middleware.backend.hit(
            f"route:{limit.name}:{key}", limit.rate, algorithm, limit.cost
        )
    except RateLimitBackendError as exc:
        if middleware.backend_failed(exc):
            return
        raise HTTPException(503, headers={"Retry-After": "5"}) from exc
    if not result.allowed:
        raise HTTPException(429, "Too Many Requests", headers=dict(result.headers()))
    scope.setdefault(_SCOPE_RESULTS, []).append(result)


def rate_limit(
    limit: str | Rate,
    *,
    key: KeySpec | None = None,
    algorithm: str | None = None,
    cost: int = 1,
    name: str | None = None,
) -> Callable[[F], F]:
    """Limit one route: ``@rate_limit("5/minute", key="ip")`` under the route decorator.

    ``key`` and ``algorithm`` default to the middleware's. ``cost`` is the weight of one
    call. Counters are separate per route (``name`` defaults to the function's qualified
    name) and separate from the app-wide limit.
    """
    rate = parse_rate(limit)
    if key is not None:
        _check_key(key)
    if algorithm is not None:
        validate_algorithm(algorithm)
    if cost < 1 or cost > rate.limit:
        raise ImproperlyConfigured(f"cost must be between 1 and the limit ({rate.limit})")

    def decorator(func: F) -> F:
        spec = RouteLimit(
            rate, key, algorithm, cost, name or f"{func.__module__}.{func.__qualname__}"
        )
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                await _enforce(spec)
                return await func(*args, **kwargs)

        else:

            @functools.wraps(func)
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                await _enforce(spec)
                return await run_in_threadpool(func, *args, **kwargs)

        wrapper.__covet_rate_limits__ = (*getattr(func, "__covet_rate_limits__", ()), spec)  # type: ignore[attr-defined]
        # checked when the app compiles its routes, so a missing middleware fails start-up
        wrapper.__covet_checks__ = (*getattr(func, "__covet_checks__", ()), _require_middleware)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator
