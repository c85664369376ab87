"""Liveness and readiness endpoints for Kubernetes-style probes (stdlib only).

``HealthChecks(app)`` adds two routes (left out of OpenAPI):

* ``GET /health/live``: 200 as long as the process answers; no I/O, no checks.
* ``GET /health/ready``: runs every check concurrently, each under a timeout; 200 when
  all critical checks pass, 503 otherwise, with a JSON body naming each check's status,
  duration and (sanitised) error. 503 as well while the app starts or shuts down.

Checks: a ``SELECT 1`` on every registered ``covet.db.Database``, a ``PING`` to the
Redis servers behind the app's cache, session, rate-limit and channel backends, and
your own ``@health.check("name")`` functions. Results are cached for ``cache_ttl``
seconds and concurrent probes share one run, so a probe storm costs one round of checks.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from covet import _json
from covet._redis import redis_client
from covet._types import ASGIApp, Receive, Scope, Send
from covet.db.url import scrub
from covet.exceptions import ImproperlyConfigured
from covet.http.response import Response
from covet.monitoring._lifespan import watch_lifespan

if TYPE_CHECKING:
    from covet.app import Covet
    from covet.db import Database

__all__ = ("CheckResult", "HealthChecks")

logger = logging.getLogger("covet.monitoring")

CheckFunction = Callable[[], Awaitable[Any]]

#: lifespan message -> phase of the app
_PHASES = {
    "lifespan.startup": "starting",
    "lifespan.startup.complete": "started",
    "lifespan.startup.failed": "failed",
    "lifespan.shutdown": "stopping",
    "lifespan.shutdown.complete": "stopped",
    "lifespan.shutdown.failed": "stopped",
}
_NO_STORE = {"Cache-Control": "no-store"}
_LIVE_BODY = b'{"status":"pass"}'
_KEY_VALUE_SECRET = re.compile(r"((?:password|passwd|pwd|secret|token)\s*[=:]\s*)\S+", re.I)
_MAX_ERROR = 200


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one check: ``status`` is ``"pass"``, ``"fail"`` or, for a check that
    is not critical, ``"warn"``; ``duration`` in seconds; ``error`` sanitised."""

    name: str
    status: str
    duration: float
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "duration_ms": round(self.duration * 1000, 2)}
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass(frozen=True, slots=True)
class _Check:
    name: str
    func: CheckFunction
    timeout: float
    critical: bool
    secrets: tuple[str, ...] = ()
    target: object = None  # the Database or Redis backend checked, to avoid checking it twice


class HealthChecks:
    """Liveness and readiness probes for ``app``.

    >>> health = HealthChecks(app)                   # /health/live and /health/ready
    >>> @health.check("payments", timeout=0.5)
    ... async def payments() -> None:
    ...     await payments_client.ping()             # raise (or return False) to fail

    ``databases``: ``True`` checks every registered ``Database`` (as it is when the
    probe runs), ``False`` none, or a list of them. ``redis``: discover the Redis servers
    behind the app's middleware backends (cache, sessions, rate limits), the default
    cache and the channels. ``timeout`` (seconds) is each check's default;
    ``cache_ttl`` how long a readiness answer is reused. ``expose_errors=False`` keeps
    even the sanitised error messages out of the body (only the exception class);
    a check that starts failing is logged on the ``covet.monitoring`` logger either way
    (the sanitised message at WARNING, the traceback at DEBUG).
    """

    def __init__(
        self,
        app: Covet,
        *,
        prefix: str = "/health",
        timeout: float = 1.0,
        cache_ttl: float = 1.0,
        databases: bool | Sequence[Database] = True,
        redis: bool = True,
        expose_errors: bool = True,
        include_in_schema: bool = False,
    ) -> None:
        if not prefix.startswith("/") or (prefix != "/" and prefix.endswith("/")):
            raise ImproperlyConfigured(f"prefix must start with '/' and not end with one: {prefix!r}")
        _check_timeout(timeout)
        if cache_ttl < 0:
            raise ImproperlyConfigured(f"cache_ttl must not be negative, not {cache_ttl}")
        self.app = app
        self.timeout = timeout
        self.cache_ttl = cache_ttl
        self.databases: bool | tuple[Database, ...] = (
            databases if isinstance(databases, bool) else tuple(databases)
        )
        self.redis = redis
        self.expose_errors = expose_errors
        #: None until a lifespan is seen, then "starting", "started", "failed", "stopping", "stopped"
        self.phase: str | None = None
        self._checks: dict[str, _Check] = {}
        self._cached: tuple[float, int, bytes] | None = None  # (expires, status, body)
        self._running: tuple[asyncio.AbstractEventLoop, asyncio.Task[tuple[int, bytes]]] | None = None
        self._last_status: dict[str, str] = {}
        base = "" if prefix == "/" else prefix

        async def live() -> Response:
            return Response(_LIVE_BODY, headers=_NO_STORE, media_type="application/json")

        async def ready() -> Response:
            status, body = await self.readiness()
            return Response(body, status_code=status, headers=_NO_STORE, media_type="application/json")

        app.add_route(base + "/live", live, methods=["GET"], name="health_live",
                      include_in_schema=include_in_schema)  # fmt: skip
        app.add_route(base + "/ready", ready, methods=["GET"], name="health_ready",
                      include_in_schema=include_in_schema)  # fmt: skip
        app.add_middleware(LifespanPhaseMiddleware, health=self)

    # ------------------------------------------------------------------ registering

    def check(
        self, name: str, *, timeout: float | None = None, critical: bool = True
    ) -> Callable[[CheckFunction], CheckFunction]:
        """Decorator: ``@health.check("name")`` on an ``async def`` that raises (or returns
        ``False``) when the dependency is unavailable."""

        def decorator(func: CheckFunction) -> CheckFunction:
            self.add_check(name, func, timeout=timeout, critical=critical)
            return func

        return decorator

    def add_check(
        self, name: str, func: CheckFunction, *, timeout: float | None = None, critical: bool = True
    ) -> None:
        """Register ``func`` (an async function of no arguments) as the check ``name``.

        A check that is not ``critical`` reports ``"warn"`` when it fails and never
        makes the app unready (for a dependency the app can work without).
        """
        if not inspect.iscoroutinefunction(func):
            raise ImproperlyConfigured(f"health check {name!r} must be an async function")
        self._add(_Check(name, func, self._timeout(timeout), critical))

    def add_database(
        self, db: Database, *, name: str | None = None, timeout: float | None = None,
        critical: bool = True,
    ) -> None:  # fmt: skip
        """Check ``db`` with ``SELECT 1`` on its primary (done for every registered
        database when ``databases=True``)."""
        self._add(_database_check(db, name, self._timeout(timeout), critical))

    def add_redis(
        self, name: str, target: Any, *, timeout: float | None = None, critical: bool = True
    ) -> None:
        """Check a Redis server with ``PING``: ``target`` is a ``redis.asyncio`` client, a
        URL, or a CovetPy Redis backend (``RedisCache``, the rate limiter's ``RedisBackend``,
        ``RedisStore``, ``RedisChannels``)."""
        self._add(_redis_check(name, target, self._timeout(timeout), critical))

    def _add(self, check: _Check) -> None:
        if check.name in self._checks:
            raise ImproperlyConfigured(f"a health check named {check.name!r} exists already")
        self._checks[check.name] = check

    def _timeout(self, timeout: float | None) -> float:
        if timeout is None:
            return self.timeout
        _check_timeout(timeout)
        return timeout

    # ------------------------------------------------------------------ lifespan

    def _on_lifespan(self, message_type: str) -> None:
        phase = _PHASES.get(message_type)
        if phase is not None:
            self.phase = phase
            self._cached = None

    # ------------------------------------------------------------------ running

    def _current_checks(self) -> list[_Check]:
        """The checks a probe runs now: explicit ones, then the discovered ones."""
        found = list(self._checks.values())
        names = set(self._checks)
        seen = {id(c.target) for c in found if c.target is not None}
        discovered: list[_Check] = []
        if self.databases is True:
            module = sys.modules.get("covet.db.database")
            dbs: Sequence[Any] = list(module.registered_databases().values()) if module else []
        else:
            dbs = self.databases or ()
        for db in dbs:
            if id(db) not in seen:
                discovered.append(_database_check(db, None, self.timeout, True))
                seen.add(id(db))
        if self.redis:
            for role, target in _discover_redis(self.app):
                if id(target) not in seen:
                    discovered.append(_redis_check(f"redis:{role}", target, self.timeout, True))
                    seen.add(id(target))
        for check in discovered:
            name, n = check.name, 2
            while name in names:
                name, n = f"{check.name}{n}", n + 1
            names.add(name)
            found.append(check if name == check.name else _rename(check, name))
        return found

    async def run_checks(self) -> list[CheckResult]:
        """Run every check now, concurrently (no cache, whatever the phase)."""
        checks = self._current_checks()
        return list(await asyncio.gather(*(self._run_one(c) for c in checks)))

    async def readiness(self) -> tuple[int, bytes]:
        """The readiness answer: ``(status code, JSON body)``, cached for ``cache_ttl``."""
        phase = self.phase
        if phase is not None and phase != "started":
            return 503, _json.dumps({"status": "fail", "phase": phase, "checks": {}})
        cached = self._cached
        if cached is not None and cached[0] > time.monotonic():
            return cached[1], cached[2]
        loop = asyncio.get_running_loop()
        running = self._running
        if running is None or running[0] is not loop or running[1].done():
            task = loop.create_task(self._evaluate())
            self._running = running = (loop, task)
        # shielded: a probe that gives up does not cancel the run the others wait for
        return await asyncio.shield(running[1])

    async def _evaluate(self) -> tuple[int, bytes]:
        results = await self.run_checks()
        failed = any(r.status == "fail" for r in results)
        overall = "fail" if failed else "warn" if any(r.status == "warn" for r in results) else "pass"
        body = _json.dumps({"status": overall, "checks": {r.name: r.as_dict() for r in results}})
        status = 503 if failed else 200
        if self.cache_ttl:
            self._cached = (time.monotonic() + self.cache_ttl, status, body)
        return status, body

    async def _run_one(self, check: _Check) -> CheckResult:
        start = time.perf_counter()
        try:
            outcome = await asyncio.wait_for(check.func(), check.timeout)
            if outcome is False:
                raise CheckFailed("the check returned False")
        except Exception as exc:
            duration = time.perf_counter() - start
            if isinstance(exc, (asyncio.TimeoutError, TimeoutError)) and duration >= check.timeout:
                error = detail = f"timed out after {check.timeout:g}s"
            else:
                detail = describe_error(exc, check.secrets)
                error = detail if self.expose_errors else type(exc).__name__
            status = "fail" if check.critical else "warn"
            if self._last_status.get(check.name) != status:  # log changes, not every probe
                logger.warning("health check %r failed: %s", check.name, detail)
                logger.debug("health check %r failed", check.name, exc_info=exc)
            self._last_status[check.name] = status
            return CheckResult(check.name, status, duration, error)
        if self._last_status.get(check.name, "pass") != "pass":
            logger.info("health check %r passes again", check.name)
        self._last_status[check.name] = "pass"
        return CheckResult(check.name, "pass", time.perf_counter() - start)


class CheckFailed(Exception):
    """A check returned ``False``."""


class LifespanPhaseMiddleware:
    """Tells a ``HealthChecks`` the app's lifespan phase; other traffic passes untouched
    (no coroutine frame of its own)."""

    __slots__ = ("app", "health")

    def __init__(self, app: ASGIApp, health: HealthChecks) -> None:
        self.app = app
        self.health = health

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] != "lifespan":
            return self.app(scope, receive, send)
        return watch_lifespan(self.app, scope, receive, send, self.health._on_lifespan)


def describe_error(exc: BaseException, secrets: Sequence[str] = (), *, with_message: bool = True) -> str:
    """``"ClassName: message"`` on one line, at most 200 characters, with ``secrets``,
    URL passwords and ``password=...`` values replaced by ``***``; no traceback."""
    kind = type(exc).__name__
    if not with_message:
        return kind
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    message = _KEY_VALUE_SECRET.sub(r"\1***", scrub(message, tuple(secrets)))
    text = f"{kind}: {message}" if message else kind
    return text if len(text) <= _MAX_ERROR else text[: _MAX_ERROR - 3] + "..."


def _check_timeout(timeout: float) -> None:
    if not timeout > 0:
        raise ImproperlyConfigured(f"a health check timeout must be positive, not {timeout}")


def _rename(check: _Check, name: str) -> _Check:
    return _Check(name, check.func, check.timeout, check.critical, check.secrets, check.target)


def _database_check(db: Any, name: str | None, timeout: float, critical: bool) -> _Check:
    async def select_one() -> None:
        await db.fetch_val("SELECT 1", using="primary")

    secrets = tuple(s for url in (db.url, *db.replica_urls) for s in url.secrets())
    return _Check(name or f"database:{db.alias}", select_one, timeout, critical, secrets, db)


def _redis_check(name: str, target: Any, timeout: float, critical: bool) -> _Check:
    """``PING`` through a client (a backend's public ``client``, resolved when the check
    runs since it is created on first use), or through a short-lived client for a URL
    (a backend that only exposes its URL)."""
    url: str | None = target if isinstance(target, str) else None
    ping: CheckFunction
    if url is None and callable(getattr(target, "ping", None)):

        async def ping() -> None:
            await target.ping()

    elif url is None and _has_public_client(target):

        async def ping() -> None:
            await target.client.ping()

    else:
        url = url if url is not None else getattr(target, "url", None)
        if not isinstance(url, str):
            raise ImproperlyConfigured(
                f"cannot check {target!r}: give a redis client, a URL or a Redis backend"
            )
        redis_url = url

        async def ping() -> None:
            conn = redis_client(redis_url, socket_timeout=timeout)
            try:
                await conn.ping()
            finally:
                await conn.aclose()

    secrets = _url_secrets(url if url is not None else getattr(target, "url", None))
    return _Check(name, ping, timeout, critical, secrets, None if isinstance(target, str) else target)


def _has_public_client(target: Any) -> bool:
    return isinstance(inspect.getattr_static(type(target), "client", None), property)


def _url_secrets(url: str | None) -> tuple[str, ...]:
    if not url:
        return ()
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(url).password
    except ValueError:
        return ()
    return (password, unquote(password)) if password else ()


_REDIS_BACKENDS = (
    ("covet.cache.redis", "RedisCache", "cache"),
    ("covet.ratelimit.redis", "RedisBackend", "ratelimit"),
    ("covet.sessions.redis", "RedisStore", "sessions"),
    ("covet.websockets.redis_channels", "RedisChannels", "channels"),
)


def _redis_role(value: Any) -> tuple[str, Any] | None:
    """``(role, backend)`` when ``value`` is a CovetPy Redis backend reachable through
    its public API (a client property or a URL), else None."""
    tiered = sys.modules.get("covet.cache.tiered")
    if tiered is not None and isinstance(value, tiered.TieredCache):
        value = value.l2
    for module_name, class_name, role in _REDIS_BACKENDS:
        module = sys.modules.get(module_name)
        if (
            module is not None
            and isinstance(value, getattr(module, class_name))
            and (_has_public_client(value) or isinstance(getattr(value, "url", None), str))
        ):
            return role, value
    return None


def _discover_redis(app: Any) -> list[tuple[str, Any]]:
    """The Redis backends the app uses: in its middleware options, the default cache
    and the channels (only modules already imported are looked at)."""
    candidates: list[Any] = []
    for _cls, options in app.user_middleware:
        candidates.extend(options.values())
    decorators = sys.modules.get("covet.cache.decorators")
    if decorators is not None:
        candidates.append(decorators.get_default_cache())
    if "covet.websockets.redis_channels" in sys.modules:
        candidates.append(app.channels)
    found: list[tuple[str, Any]] = []
    seen: set[int] = set()
    for value in candidates:
        hit = _redis_role(value)
        if hit is not None and id(hit[1]) not in seen:
            seen.add(id(hit[1]))
            found.append(hit)
    return found
