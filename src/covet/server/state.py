"""State shared by every connection of one server: open connections, tasks, headers."""

from __future__ import annotations

import asyncio
import time
from email.utils import formatdate
from typing import Any

__all__ = ("ServerState",)


class ServerState:
    """Book-keeping shared by the connections of one :class:`covet.server.Server`.

    ``date_header`` is refreshed once a second by the server's tick, so building a
    response never formats a date.
    """

    __slots__ = (
        "_date_enabled",
        "app_state",
        "connections",
        "date_header",
        "server_header",
        "shutting_down",
        "tasks",
        "total_requests",
    )

    def __init__(self, *, server_header: bool = True, date_header: bool = True) -> None:
        self.connections: set[Any] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.total_requests = 0
        self.shutting_down = False
        self.app_state: dict[str, Any] = {}
        self.server_header = b"server: covet\r\n" if server_header else b""
        self._date_enabled = date_header
        self.date_header = b""
        self.tick()

    def tick(self, now: float | None = None) -> None:
        """Refresh the cached ``date`` header line."""
        if self._date_enabled:
            stamp = formatdate(time.time() if now is None else now, usegmt=True)
            self.date_header = b"date: " + stamp.encode("ascii") + b"\r\n"
