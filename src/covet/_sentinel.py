"""``MISSING``: the one "no value given" sentinel of the core (stdlib only).

Distinct from ``None`` (a legitimate value) and falsy: ``Cache.get(key, default=MISSING)``
tells a miss from a stored ``None``; a handler parameter without a default has it. The
class keeps the name ``_Missing``: ``covet.openapi`` recognises parameter defaults by that
name, without importing the layers that use the sentinel.
"""

from __future__ import annotations

from typing import Any

__all__ = ("MISSING",)


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "MISSING"  # unpickles to this module's singleton


MISSING: Any = _Missing()
