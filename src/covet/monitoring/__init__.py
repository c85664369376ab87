"""Health checks (stdlib) and Prometheus metrics (``covetpy[metrics]``).

    health = HealthChecks(app)           # GET /health/live, GET /health/ready
    metrics = PrometheusMetrics(app)     # PrometheusMiddleware + GET /metrics

Names are imported on first use: ``import covet.monitoring`` loads neither module, and
prometheus_client is only imported when ``PrometheusMetrics`` is created. See
``docs/monitoring.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'covet.monitoring' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
