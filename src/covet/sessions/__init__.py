"""Sessions: signed-cookie or server-side (memory, Redis, database), via ``SessionMiddleware``.

``RedisStore`` and ``DatabaseStore`` are imported on first access, so ``import
covet.sessions`` needs nothing beyond the standard library.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from covet.sessions.middleware import SessionMiddleware, rotate
from covet.sessions.session import Session
from covet.sessions.signing import Signer
from covet.sessions.stores import MemoryStore, SessionStore

if TYPE_CHECKING:
    from covet.sessions.database import DatabaseStore
    from covet.sessions.redis import RedisStore

__all__ = (
    "DatabaseStore",
    "MemoryStore",
    "RedisStore",
    "Session",
    "SessionMiddleware",
    "SessionStore",
    "Signer",
    "rotate",
)


def __getattr__(name: str) -> Any:
    if name == "RedisStore":
        from covet.sessions.redis import RedisStore

        return RedisStore
    if name == "DatabaseStore":
        from covet.sessions.database import DatabaseStore

        return DatabaseStore
    raise AttributeError(f"module 'covet.sessions' has no attribute {name!r}")
