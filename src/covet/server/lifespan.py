"""The ASGI lifespan protocol: startup and shutdown handshakes with the application."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from covet._types import ASGIApp, Message

__all__ = ("Lifespan", "LifespanFailed")

logger = logging.getLogger("covet.server.error")


class LifespanFailed(Exception):
    """The application reported ``lifespan.startup.failed`` (or crashed during startup)."""


class Lifespan:
    """Runs the app's lifespan task; ``mode`` is ``"auto"``, ``"on"`` or ``"off"``.

    In ``auto`` an application that raises before answering startup is taken not to
    support lifespan and the server goes on; in ``on`` that is a failure.
    ``state`` is the dict passed as ``scope["state"]`` and copied into each request.
    """

    def __init__(
        self, app: ASGIApp, mode: str = "auto", state: dict[str, Any] | None = None
    ) -> None:
        self.app = app
        self.mode = mode
        self.state: dict[str, Any] = state if state is not None else {}
        self._receive_queue: asyncio.Queue[Message] = asyncio.Queue()
        self._startup_done = asyncio.Event()
        self._shutdown_done = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.supported = True
        self.error: str | None = None
        self._startup_failed = False
        self._shutdown_failed = False

    async def startup(self) -> None:
        """Run startup; raise :class:`LifespanFailed` when the app says it failed."""
        if self.mode == "off":
            return
        scope = {
            "type": "lifespan",
            "asgi": {"version": "3.0", "spec_version": "2.0"},
            "state": self.state,
        }
        self._task = asyncio.get_running_loop().create_task(self._run(scope))
        await self._receive_queue.put({"type": "lifespan.startup"})
        await self._startup_done.wait()
        if self._startup_failed or (self.error is not None and self.mode == "on"):
            raise LifespanFailed(self.error or "Application startup failed")

    async def shutdown(self) -> None:
        """Run shutdown; failures are logged (the server is stopping anyway)."""
        if self.mode == "off" or not self.supported or self._task is None:
            return
        if self._task.done():
            return
        await self._receive_queue.put({"type": "lifespan.shutdown"})
        await self._shutdown_done.wait()
        if self._shutdown_failed:
            logger.error("Application shutdown failed: %s", self.error)

    async def _run(self, scope: dict[str, Any]) -> None:
        try:
            await self.app(scope, self._receive, self._send)
        except BaseException as exc:
            self.error = repr(exc)
            if self._startup_done.is_set() or self.mode == "on":
                logger.exception("Exception in 'lifespan' protocol")
                if not self._startup_done.is_set():
                    self._startup_failed = True
            else:
                self.supported = False
                logger.info("ASGI 'lifespan' protocol appears unsupported.")
                self.error = None
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            self._startup_done.set()
            self._shutdown_done.set()

    async def _receive(self) -> Message:
        return await self._receive_queue.get()

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "lifespan.startup.complete":
            self._startup_done.set()
        elif kind == "lifespan.startup.failed":
            self._startup_failed = True
            self.error = message.get("message", "")
            logger.error("Application startup failed: %s", self.error)
            self._startup_done.set()
        elif kind == "lifespan.shutdown.complete":
            self._shutdown_done.set()
        elif kind == "lifespan.shutdown.failed":
            self._shutdown_failed = True
            self.error = message.get("message", "")
            self._shutdown_done.set()
        else:
            raise RuntimeError(f"Unexpected lifespan message type {kind!r}")
