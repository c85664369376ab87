"""Worker processes sharing one listening socket, supervised and restarted when they die.

The supervisor binds the socket, forks ``workers`` processes that all accept on it,
and then only watches: a worker that exits unexpectedly is replaced, SIGHUP restarts
every worker one by one, SIGINT/SIGTERM stop them gracefully (each worker finishes its
in-flight requests and runs lifespan shutdown).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

from .config import Config, resolve_app

if TYPE_CHECKING:
    from covet._types import ASGIApp

__all__ = ("Supervisor",)

logger = logging.getLogger("covet.server.error")


def _worker_main(app: ASGIApp, config: Config, sock: socket.socket) -> None:
    """Entry point of one worker process."""
    import asyncio

    from .server import Server, new_event_loop

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    config.configure_logging()
    loop = new_event_loop(config.loop)
    asyncio.set_event_loop(loop)
    server = Server(app, config)
    try:
        loop.run_until_complete(server.serve(sockets=[sock]))
    finally:
        loop.close()


class Supervisor:
    """Runs and supervises ``config.workers`` worker processes (blocking :meth:`run`)."""

    def __init__(self, app: ASGIApp | str, config: Config) -> None:
        self.app = resolve_app(app, config.app_dir)
        self.config = config
        self.workers: list[BaseProcess] = []
        self.should_exit = threading.Event()
        self._restart_all = False
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        self._ctx: Any = multiprocessing.get_context(method)
        self.socket: socket.socket | None = None

    def run(self) -> None:
        config = self.config
        from .server import bind_socket

        self.socket = bind_socket(config)
        previous = {
            sig: signal.signal(sig, self._on_signal)
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        }
        try:
            logger.info("Supervisor [%d] starting %d workers", os.getpid(), config.workers)
            for _ in range(config.workers):
                self.workers.append(self._spawn())
            while not self.should_exit.wait(0.2):
                if self._restart_all:
                    self._restart_all = False
                    self._rolling_restart()
                self._reap()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            with contextlib.suppress(OSError):
                self.socket.close()
            if config.uds and os.path.exists(config.uds):
                with contextlib.suppress(OSError):
                    os.unlink(config.uds)

    def _on_signal(self, sig: int, frame: Any) -> None:
        if sig == signal.SIGHUP:
            self._restart_all = True
        else:
            self.should_exit.set()

    def _spawn(self) -> BaseProcess:
        process = self._ctx.Process(
            target=_worker_main, args=(self.app, self.config, self.socket), daemon=False
        )
        process.start()
        logger.info("Started worker [%s]", process.pid)
        return process

    def _reap(self) -> None:
        for index, process in enumerate(self.workers):
            if process.is_alive() or self.should_exit.is_set():
                continue
            logger.warning(
                "Worker [%s] died (exit code %s); restarting", process.pid, process.exitcode
            )
            process.join(0)
            time.sleep(self.config.worker_restart_delay)
            if not self.should_exit.is_set():
                self.workers[index] = self._spawn()

    def _rolling_restart(self) -> None:
        for index, process in enumerate(list(self.workers)):
            if self.should_exit.is_set():
                return
            self.workers[index] = self._spawn()
            self._terminate(process)

    def _terminate(self, process: BaseProcess) -> None:
        if process.is_alive() and process.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
        process.join(self.config.timeout_graceful_shutdown + 5)
        if process.is_alive():
            process.kill()
            process.join(1)

    def _stop_all(self) -> None:
        for process in self.workers:
            if process.is_alive() and process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.config.timeout_graceful_shutdown + 5
        for process in self.workers:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join(1)
        logger.info("Supervisor [%d] stopped", os.getpid())
