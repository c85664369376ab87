"""Health checks (stdlib) and Prometheus metrics (``covetpy[metrics]``).

    health = HealthChecks(app)           # GET /health/live, GET /health/ready
    metrics = PrometheusMetrics(app)     # PrometheusMiddleware + GET /metrics

Names are imported on first use: ``import covet.monitoring`` loads neither module, and
prometheus_client is only imported when ``PrometheusMetrics`` is created. See
``docs/monitoring.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from covet._lazy import lazy_exports

_EXPORTS = {
    "CheckResult": "covet.monitoring.health",
    "HealthChecks": "covet.monitoring.health",
    "PrometheusMetrics": "covet.monitoring.metrics",
    "PrometheusMiddleware": "covet.monitoring.metrics",
}

__all__ = tuple(sorted(_EXPORTS))

if TYPE_CHECKING:  # the real classes for type checkers ("X as X": explicit re-exports)
    from covet.monitoring.health import CheckResult as CheckResult
    from covet.monitoring.health import HealthChecks as HealthChecks
    from covet.monitoring.metrics import PrometheusMetrics as PrometheusMetrics
    from covet.monitoring.metrics import PrometheusMiddleware as PrometheusMiddleware


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
