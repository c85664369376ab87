"""Prometheus metrics through ``prometheus_client`` (the ``covetpy[metrics]`` extra).

``PrometheusMetrics(app)`` adds ``PrometheusMiddleware`` (per request: a counter and a
latency histogram by method, route template and status, and an in-progress gauge;
open WebSocket connections by route), query listeners on the registered databases
(statements, their duration and errors by database alias and method), pool gauges, and
``GET /metrics``. prometheus_client is imported when ``PrometheusMetrics`` is created,
never at module level.

Multiprocess mode: when ``PROMETHEUS_MULTIPROC_DIR`` is set before the process starts,
every worker writes its samples there and ``/metrics`` (answered by any worker)
aggregates all of them; see ``docs/monitoring.md``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Awaitable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from covet._types import ASGIApp, Message, Receive, Scope, Send
from covet.exceptions import ImproperlyConfigured, MissingDependency
from covet.http.request import Request
from covet.http.response import Response
from covet.monitoring._lifespan import watch_lifespan
from covet.routing import Mount

if TYPE_CHECKING:
    from covet.app import Covet
    from covet.db import Database, QueryEvent

__all__ = ("DEFAULT_BUCKETS", "UNMATCHED", "PrometheusMetrics", "PrometheusMiddleware")

#: latency buckets in seconds (prometheus_client's defaults)
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
#: the ``route`` label of requests no route matched (404, 405, redirects to a slash)
UNMATCHED = "<unmatched>"
#: other request methods are counted as "OTHER": clients cannot grow the label set
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
#: seconds between two samples of the pool gauges in multiprocess mode
_POOL_SAMPLE_INTERVAL = 1.0
_now = time.perf_counter


def _prometheus() -> Any:
    try:
        import prometheus_client
    except ImportError as exc:
        raise MissingDependency("prometheus_client", "metrics") from exc
    return prometheus_client


class PrometheusMetrics:
    """Request, database and WebSocket metrics for ``app``, served at ``path``.

    >>> metrics = PrometheusMetrics(app)          # add it after your other middleware
    >>> orders = Counter("orders_total", "Orders placed.", registry=metrics.registry)

    ``registry``: a ``prometheus_client.CollectorRegistry`` to register the metrics in
    (default: a registry of this app's own, plus the process, platform and GC collectors
    unless ``process_metrics=False``). ``namespace`` prefixes every name
    (``covet_http_requests_total``). ``databases=False`` leaves the databases alone.
    ``path=None`` adds no route (serve ``metrics.render()`` yourself);
    ``dependencies`` guard the route (e.g. a token check).
    """

    def __init__(
        self,
        app: Covet,
        *,
        path: str | None = "/metrics",
        registry: Any = None,
        namespace: str = "covet",
        buckets: Sequence[float] = DEFAULT_BUCKETS,
        databases: bool = True,
        process_metrics: bool = True,
        include_in_schema: bool = False,
        dependencies: Sequence[Any] = (),
    ) -> None:
        pc = _prometheus()
        from prometheus_client import values

        self.multiprocess = bool(getattr(values.ValueClass, "_multiprocess", False))
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR") and not self.multiprocess:
            raise ImproperlyConfigured(
                "PROMETHEUS_MULTIPROC_DIR was set after prometheus_client was imported: "
                "set it in the environment before the process starts"
            )
        owner: Any  # the registry the metric objects are registered in
        if self.multiprocess:
            if registry is not None:
                raise ImproperlyConfigured(
                    "in multiprocess mode (PROMETHEUS_MULTIPROC_DIR) leave registry unset: "
                    "/metrics aggregates the files of every process"
                )
            from prometheus_client import multiprocess

            registry = pc.CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            owner = None  # samples reach /metrics through the files, not the registry
        else:
            if registry is None:
                registry = pc.CollectorRegistry()
                if process_metrics:
                    pc.ProcessCollector(registry=registry)
                    pc.PlatformCollector(registry=registry)
                    pc.GCCollector(registry=registry)
            owner = registry
        self.app = app
        self.registry = registry
        self.namespace = namespace
        labels = ("method", "route", "status")
        self.requests = pc.Counter(
            "http_requests", "HTTP requests answered, by method, route template and status.",
            labels, namespace=namespace, registry=owner,
        )  # fmt: skip
        self.request_duration = pc.Histogram(
            "http_request_duration_seconds",
            "Time from receiving an HTTP request to sending the last byte of its response.",
            labels, namespace=namespace, registry=owner, buckets=tuple(buckets),
        )  # fmt: skip
        self.requests_in_progress = pc.Gauge(
            "http_requests_in_progress", "HTTP requests being handled.",
            namespace=namespace, registry=owner, multiprocess_mode="livesum",
        )  # fmt: skip
        self.websocket_connections = pc.Gauge(
            "websocket_connections", "Open (accepted) WebSocket connections, by route template.",
            ("route",), namespace=namespace, registry=owner, multiprocess_mode="livesum",
        )  # fmt: skip
        db_labels = ("database", "method")
        self.db_queries = pc.Counter(
            "db_queries", "Database statements run, by database alias and driver method.",
            db_labels, namespace=namespace, registry=owner,
        )  # fmt: skip
        self.db_query_duration = pc.Histogram(
            "db_query_duration_seconds", "Time a database statement took, by database and method.",
            db_labels, namespace=namespace, registry=owner, buckets=tuple(buckets),
        )  # fmt: skip
        self.db_query_errors = pc.Counter(
            "db_query_errors", "Database statements that failed, by database, method and error class.",
            (*db_labels, "error"), namespace=namespace, registry=owner,
        )  # fmt: skip
        self._pool_gauges: dict[str, Any] | None = None
        if self.multiprocess:  # sampled from the query listener and before each scrape
            self._pool_gauges = {
                name: pc.Gauge(
                    f"db_pool_{name}", doc, ("database", "pool"), namespace=namespace,
                    registry=None, multiprocess_mode="livesum",
                )
                for name, doc in _POOL_GAUGES
            }  # fmt: skip
        else:
            registry.register(_PoolCollector(self))
        self._next_pool_sample = 0.0
        #: labelled children by (method, route, status) / (database, method), made once each
        self._http_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._db_children: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._mounts: tuple[int, list[tuple[str, str]]] = (-1, [])
        self._watch = databases
        self._watched: dict[int, Database] = {}
        self._listener = self._on_query
        if databases:
            self._watch_databases()
        app.add_middleware(PrometheusMiddleware, metrics=self)
        if path is not None:

            async def metrics_endpoint(request: Request) -> Response:
                return await self.render(request.headers.get("accept"))

            app.add_route(path, metrics_endpoint, methods=["GET"], name="metrics",
                          include_in_schema=include_in_schema, dependencies=list(dependencies))  # fmt: skip

    # ------------------------------------------------------------------ exposition

    async def render(self, accept: str | None = None) -> Response:
        """The current metrics as a response, in the format ``accept`` asks for
        (Prometheus text by default, OpenMetrics on request)."""
        from prometheus_client.exposition import choose_encoder

        encoder, content_type = choose_encoder(accept or "")
        if self.multiprocess:
            from covet.concurrency import run_in_threadpool

            self._sample_pools()
            body = await run_in_threadpool(encoder, self.registry)  # reads every worker's files
        else:
            body = encoder(self.registry)
        return Response(body, headers={"Content-Type": content_type})

    # ------------------------------------------------------------------ requests

    def http_children(self, method: str, route: str, status: int) -> tuple[Any, Any]:
        """The (counter, histogram) children for one label set (created on first use)."""
        key = (method, route, status)
        children = self._http_children.get(key)
        if children is None:
            values = (method, route, str(status))
            children = (self.requests.labels(*values), self.request_duration.labels(*values))
            self._http_children[key] = children
        return children

    def route_label(self, scope: Scope) -> str:
        """The route template of the request (set by the router), the mount that served
        it, or ``UNMATCHED``."""
        route = scope.get("route")
        if route is not None:
            return str(route.path)
        count, mounts = self._mounts
        routes = self.app.routes
        if count != len(routes):
            found = sorted((r for r in routes if isinstance(r, Mount)), key=lambda m: len(m.prefix), reverse=True)
            mounts = [(m.prefix, m.path) for m in found]
            self._mounts = (len(routes), mounts)
        path = scope["path"]
        for prefix, template in mounts:  # as the app's RouteTable.find_mount
            if not prefix or (path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/")):
                return template
        return UNMATCHED

    # ------------------------------------------------------------------ databases

    def _on_query(self, event: QueryEvent) -> None:
        key = (event.database, event.method)
        children = self._db_children.get(key)
        if children is None:
            children = (self.db_queries.labels(*key), self.db_query_duration.labels(*key))
            self._db_children[key] = children
        children[0].inc()
        children[1].observe(event.duration)
        if event.error is not None:
            self.db_query_errors.labels(event.database, event.method, type(event.error).__name__).inc()
        if self._pool_gauges is not None and _now() >= self._next_pool_sample:
            self._sample_pools()

    def _watch_databases(self) -> None:
        """Listen to every registered database not listened to yet."""
        module = sys.modules.get("covet.db.database")
        if module is None:
            return
        for db in module.registered_databases().values():
            if id(db) not in self._watched:
                db.add_query_listener(self._listener)
                self._watched[id(db)] = db

    def _unwatch_databases(self) -> None:
        for db in self._watched.values():
            try:
                db.remove_query_listener(self._listener)
            except ValueError:  # removed by someone else
                pass
        self._watched.clear()

    def pools(self) -> Iterator[tuple[str, str, Any]]:
        """``(database alias, pool name, Pool)`` of every connected database listened to
        (or, with ``databases=True``, registered)."""
        if self._watch:
            self._watch_databases()
        for db in list(self._watched.values()):
            if db.is_connected:
                yield db.alias, "primary", db.primary_pool
                for i, pool in enumerate(db.replica_pools):
                    yield db.alias, f"replica{i}", pool

    def _sample_pools(self) -> None:
        gauges = self._pool_gauges
        if gauges is None:
            return
        self._next_pool_sample = _now() + _POOL_SAMPLE_INTERVAL
        for alias, name, pool in self.pools():
            for gauge_name, _ in _POOL_GAUGES:
                gauges[gauge_name].labels(alias, name).set(getattr(pool, gauge_name))

    # ------------------------------------------------------------------ lifespan

    def _on_lifespan(self, message_type: str) -> None:
        if message_type in ("lifespan.startup", "lifespan.startup.complete"):
            if self._watch:
                self._watch_databases()  # the ones created by then, and by start-up hooks
        elif message_type in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            self._unwatch_databases()
            if self.multiprocess:  # this worker's live gauges leave the aggregate
                from prometheus_client import multiprocess

                multiprocess.mark_process_dead(os.getpid())


_POOL_GAUGES = (
    ("size", "Open connections in the pool (idle and in use)."),
    ("in_use", "Connections of the pool checked out by a task."),
    ("waiting", "Tasks waiting for a connection of the pool."),
    ("max_size", "The pool's connection limit."),
)


class _PoolCollector:
    """Pool gauges read when scraped (single-process mode)."""

    def __init__(self, metrics: PrometheusMetrics) -> None:
        self.metrics = metrics

    def _families(self) -> dict[str, Any]:
        from prometheus_client.core import GaugeMetricFamily

        ns = self.metrics.namespace
        return {
            name: GaugeMetricFamily(f"{ns}_db_pool_{name}" if ns else f"db_pool_{name}", doc,
                                    labels=("database", "pool"))
            for name, doc in _POOL_GAUGES
        }  # fmt: skip

    def describe(self) -> list[Any]:
        return list(self._families().values())

    def collect(self) -> list[Any]:
        families = self._families()
        for alias, name, pool in self.metrics.pools():
            for gauge_name, family in families.items():
                family.add_metric((alias, name), getattr(pool, gauge_name))
        return list(families.values())


class PrometheusMiddleware:
    """Records each HTTP request and WebSocket connection into ``metrics``.

    Added by ``PrometheusMetrics(app)``; the last added middleware is the outermost, so
    create it after the others to time (and count the answers of) all of them.
    """

    __slots__ = ("app", "metrics")

    def __init__(self, app: ASGIApp, metrics: PrometheusMetrics) -> None:
        if not isinstance(metrics, PrometheusMetrics):
            raise ImproperlyConfigured("PrometheusMiddleware needs metrics=PrometheusMetrics(...)")
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind == "websocket":
                await self._websocket(scope, receive, send)
            elif kind == "lifespan":
                await watch_lifespan(self.app, scope, receive, send, self.metrics._on_lifespan)
            else:
                await self.app(scope, receive, send)
            return
        status = 0

        # A plain function returning send's awaitable: no coroutine frame of its own.
        def send_status(message: Message) -> Awaitable[None]:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            return send(message)

        metrics = self.metrics
        in_progress = metrics.requests_in_progress
        in_progress.inc()
        start = _now()
        try:
            await self.app(scope, receive, send_status)
        except Exception:
            if not status:
                status = 500  # what the app's error handler (outside) answers
            raise
        finally:
            duration = _now() - start
            in_progress.dec()
            if status:  # not when cancelled (client gone) before any answer
                method = scope["method"]
                if method not in _METHODS:
                    method = "OTHER"
                route = scope.get("route")
                label = route.path if route is not None else metrics.route_label(scope)
                children = metrics._http_children.get((method, label, status))
                if children is None:
                    children = metrics.http_children(method, label, status)
                children[0].inc()
                children[1].observe(duration)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        gauge: Any = None

        def send_watched(message: Message) -> Awaitable[None]:
            nonlocal gauge
            if gauge is None and message["type"] == "websocket.accept":
                gauge = self.metrics.websocket_connections.labels(self.metrics.route_label(scope))
                gauge.inc()
            return send(message)

        try:
            await self.app(scope, receive, send_watched)
        finally:
            if gauge is not None:
                gauge.dec()
