"""Parsing of rate strings such as ``"100/minute"``, ``"10/5s"`` or ``"1000 per hour"``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from covet.exceptions import ImproperlyConfigured

__all__ = ("Rate", "parse_rate")

_UNITS: dict[str, float] = {
    "s": 1, "sec": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
}  # fmt: skip

_RATE_RE = re.compile(
    r"^\s*(?P<limit>\d+)\s*(?:/|per)\s*(?P<mult>\d+(?:\.\d+)?)?\s*(?P<unit>[a-z]+)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Rate:
    """``limit`` requests per ``period`` seconds."""

    limit: int
    period: float

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ImproperlyConfigured(f"rate limit must be at least 1, got {self.limit}")
        if not self.period > 0:
            raise ImproperlyConfigured(f"rate period must be positive, got {self.period}")

    def __str__(self) -> str:
        return f"{self.limit}/{self.period:g}s"


def parse_rate(value: str | Rate | tuple[int, float]) -> Rate:
    """Parse ``"N/unit"``, ``"N/Kunit"`` (``"10/5s"``), ``"N per unit"``, or pass a Rate through.

    Units: s/second, m/minute, h/hour, d/day (singular, plural or short forms).
    Raises ``ImproperlyConfigured`` on anything else, at set-up time.
    """
    if isinstance(value, Rate):
        return value
    if isinstance(value, tuple):
        return Rate(int(value[0]), float(value[1]))
    if not isinstance(value, str):
        raise ImproperlyConfigured(f"rate must be a string like '100/minute', got {value!r}")
    match = _RATE_RE.match(value)
    if match is None or match["unit"].lower() not in _UNITS:
        raise ImproperlyConfigured(
            f"invalid rate {value!r}: expected 'N/second', 'N/minute', 'N/hour', 'N/day' or 'N/10s'"
        )
    mult = float(match["mult"]) if match["mult"] else 1.0
    return Rate(int(match["limit"]), mult * _UNITS[match["unit"].lower()])
