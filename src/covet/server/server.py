"""The server: listening sockets, the tick loop, lifespan and graceful shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .config import Config, resolve_app
from .http11 import HTTPProtocol
from .lifespan import Lifespan, LifespanFailed
from .state import ServerState

if TYPE_CHECKING:
    from covet._types import ASGIApp

__all__ = ("Server", "bind_socket", "new_event_loop", "run", "serve")

logger = logging.getLogger("covet.server.error")

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def new_event_loop(setting: str = "auto") -> asyncio.AbstractEventLoop:
    """A new event loop: uvloop when installed (``auto``) or asked for, else asyncio."""
    if setting in ("auto", "uvloop"):
        try:
            import uvloop
        except ImportError:
            if setting == "uvloop":
                from covet.exceptions import MissingDependency

                raise MissingDependency("uvloop", "fast") from None
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def bind_socket(config: Config) -> socket.socket:
    """Create the listening socket described by ``config`` (TCP, Unix or inherited fd)."""
    if config.fd is not None:
        sock = socket.fromfd(
            config.fd, socket.AF_UNIX if config.uds else socket.AF_INET, socket.SOCK_STREAM
        )
    elif config.uds is not None:
        with contextlib.suppress(FileNotFoundError):
            if os.path.exists(config.uds) and not os.path.isdir(config.uds):
                os.unlink(config.uds)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(config.uds)
        os.chmod(config.uds, 0o666)
    else:
        family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if config.reuse_port and hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((config.host, config.port))
    sock.listen(config.backlog)
    sock.setblocking(False)
    sock.set_inheritable(True)
    return sock


class Server:
    """Serves one ASGI application until :attr:`should_exit` is set (or a signal)."""

    def __init__(self, app: ASGIApp, config: Config) -> None:
        self.app = app
        self.config = config
        self.state = ServerState(server_header=config.server_header, date_header=config.date_header)
        self.lifespan = Lifespan(app, config.lifespan, self.state.app_state)
        self.servers: list[asyncio.base_events.Server] = []
        self.should_exit = False
        self.force_exit = False
        self.started = False
        self.sockets: list[socket.socket] = []

    async def serve(self, sockets: Sequence[socket.socket] | None = None) -> None:
        """Start, serve until asked to stop, then shut down gracefully."""
        with self._capture_signals():
            try:
                await self.startup(sockets)
            except LifespanFailed as exc:
                logger.error("%s", exc)
                return
            if self.should_exit:
                await self.shutdown()
                return
            await self.main_loop()
            await self.shutdown()

    async def startup(self, sockets: Sequence[socket.socket] | None = None) -> None:
        """Run lifespan startup and start listening."""
        config = self.config
        config.configure_logging()
        await self.lifespan.startup()
        loop = asyncio.get_running_loop()
        app, state = self.app, self.state

        def factory() -> HTTPProtocol:
            return HTTPProtocol(app, config, state, loop)

        ssl_ctx = config.ssl_context()
        if sockets is None:
            sockets = [bind_socket(config)]
            self.sockets = list(sockets)
        for sock in sockets:
            if sock.family == socket.AF_UNIX:
                server = await loop.create_unix_server(
                    factory, sock=sock, ssl=ssl_ctx, backlog=config.backlog
                )
            else:
                server = await loop.create_server(
                    factory, sock=sock, ssl=ssl_ctx, backlog=config.backlog
                )
            self.servers.append(server)
        for sock in sockets:
            logger.info("Covet server listening on %s", self.describe(sock))
        self.started = True

    def describe(self, sock: socket.socket) -> str:
        """Human-readable address of a listening socket."""
        scheme = "https" if self.config.is_ssl else "http"
        if sock.family == socket.AF_UNIX:
            return f"unix:{sock.getsockname()}"
        host, port = sock.getsockname()[:2]
        if ":" in host:
            host = f"[{host}]"
        return f"{scheme}://{host}:{port}"

    @property
    def bound_port(self) -> int | None:
        """The TCP port actually bound (useful with ``port=0``)."""
        for server in self.servers:
            for sock in server.sockets or ():
                if sock.family != socket.AF_UNIX:
                    return int(sock.getsockname()[1])
        return None

    async def main_loop(self) -> None:
        """Refresh the Date header once a second until asked to exit (checked every 0.1 s)."""
        state = self.state
        second = int(time.time())
        while not self.should_exit:
            await asyncio.sleep(0.1)
            now = time.time()
            if int(now) != second:
                second = int(now)
                state.tick(now)

    async def shutdown(self) -> None:
        """Stop accepting, let in-flight requests finish (bounded), run lifespan shutdown."""
        state = self.state
        state.shutting_down = True
        for server in self.servers:
            server.close()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.close()
        for connection in list(state.connections):
            connection.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.config.timeout_graceful_shutdown
        while (state.connections or state.tasks) and not self.force_exit and loop.time() < deadline:
            await asyncio.sleep(0.05)
        if state.connections or state.tasks:
            logger.warning(
                "Graceful shutdown timed out; closing %d connections", len(state.connections)
            )
            for connection in list(state.connections):
                connection.transport.abort()
            for task in list(state.tasks):
                task.cancel()
            if state.tasks:
                await asyncio.wait(list(state.tasks), timeout=1.0)
        for server in self.servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 0.5)
        if self.config.uds and os.path.exists(self.config.uds):
            with contextlib.suppress(OSError):
                os.unlink(self.config.uds)
        if not self.force_exit:
            await self.lifespan.shutdown()

    def handle_exit(self, sig: int, frame: Any = None) -> None:
        """Signal handler: first signal is graceful, a second one forces exit."""
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        self.should_exit = True

    @contextlib.contextmanager
    def _capture_signals(self) -> Any:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        loop = asyncio.get_running_loop()
        installed: list[signal.Signals] = []
        try:
            for sig in HANDLED_SIGNALS:
                loop.add_signal_handler(sig, self.handle_exit, sig, None)
                installed.append(sig)
        except (NotImplementedError, RuntimeError):
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in HANDLED_SIGNALS}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)
            return
        try:
            yield
        finally:
            for sig in installed:
                loop.remove_signal_handler(sig)


async def serve(app: ASGIApp | str, config: Config | None = None, **options: Any) -> None:
    """Serve ``app`` on the running loop until SIGINT/SIGTERM; options as in :class:`Config`."""
    config = config or Config(**options)
    server = Server(resolve_app(app, config.app_dir), config)
    await server.serve()


def run(app: ASGIApp | str, **options: Any) -> None:
    """Serve ``app`` (object or ``"module:attr"``), blocking; ``workers>1`` forks workers."""
    config = Config(**options)
    config.configure_logging()
    if config.workers > 1:
        from .supervisor import Supervisor

        Supervisor(app, config).run()
        return
    application = resolve_app(app, config.app_dir)
    loop = new_event_loop(config.loop)
    try:
        asyncio.set_event_loop(loop)
        with contextlib.suppress(KeyboardInterrupt):  # signals are handled inside serve()
            loop.run_until_complete(Server(application, config).serve())
    finally:
        with contextlib.suppress(Exception):
            loop.run_until_complete(loop.shutdown_asyncgens())
        asyncio.set_event_loop(None)
        loop.close()
    if sys.stdout:
        sys.stdout.flush()
