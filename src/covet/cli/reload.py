"""``--reload``: run the server in a child process and restart it when code changes.

Watching uses stdlib polling of ``*.py`` modification times by default (every 0.5 s),
or ``watchfiles`` when it is installed.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

__all__ = ("PollingWatcher", "Reloader", "child_command", "snapshot")

logger = logging.getLogger("covet.cli")

_IGNORED_DIRS = {
    ".git",
    "__pycache__",
    ".venv",
    "venv",
    "node_modules",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
}


def snapshot(dirs: Iterable[Path], patterns: Sequence[str] = ("*.py",)) -> dict[Path, float]:
    """Modification times of the watched files under ``dirs``."""
    seen: dict[Path, float] = {}
    for base in dirs:
        for root, subdirs, files in os.walk(base):
            subdirs[:] = [d for d in subdirs if d not in _IGNORED_DIRS and not d.startswith(".")]
            for name in files:
                path = Path(root, name)
                if any(path.match(p) for p in patterns):
                    try:
                        seen[path] = path.stat().st_mtime
                    except OSError:
                        continue
    return seen


class PollingWatcher:
    """Stdlib watcher: ``changes()`` returns the paths added, removed or modified."""

    def __init__(self, dirs: Sequence[Path], patterns: Sequence[str] = ("*.py",)) -> None:
        self.dirs = dirs
        self.patterns = patterns
        self.state = snapshot(dirs, patterns)

    def changes(self) -> set[Path]:
        current = snapshot(self.dirs, self.patterns)
        changed = {p for p, t in current.items() if self.state.get(p) != t}
        changed |= set(self.state) - set(current)
        self.state = current
        return changed


class _WatchfilesWatcher:
    def __init__(self, dirs: Sequence[Path], stop: threading.Event) -> None:
        import watchfiles

        self._iterator = watchfiles.watch(
            *dirs,
            watch_filter=watchfiles.PythonFilter(),
            stop_event=stop,
            yield_on_timeout=True,
            rust_timeout=500,
        )

    def changes(self) -> set[Path]:
        try:
            return {Path(path) for _, path in next(self._iterator)}
        except StopIteration:
            return set()


class Reloader:
    """Runs ``command`` as a child process, restarting it on every change."""

    def __init__(
        self,
        command: Sequence[str],
        dirs: Sequence[Path],
        *,
        interval: float = 0.5,
        use_watchfiles: bool | None = None,
        on_restart: Callable[[set[Path]], None] | None = None,
    ) -> None:
        self.command = list(command)
        self.dirs = [d.resolve() for d in dirs]
        self.interval = interval
        self.stop = threading.Event()
        self.on_restart = on_restart
        self.process: subprocess.Popen[bytes] | None = None
        if use_watchfiles is None:
            try:
                import watchfiles  # noqa: F401
            except ImportError:
                use_watchfiles = False
            else:
                use_watchfiles = True
        self.watcher: PollingWatcher | _WatchfilesWatcher
        if use_watchfiles:
            self.watcher = _WatchfilesWatcher(self.dirs, self.stop)
            self.interval = 0.0
        else:
            self.watcher = PollingWatcher(self.dirs)

    def run(self) -> int:
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            self._spawn()
            while not self.stop.wait(self.interval):
                changed = self.watcher.changes()
                if changed and not self.stop.is_set():
                    if self.on_restart is not None:
                        self.on_restart(changed)
                    self._terminate()
                    self._spawn()
        finally:
            self._terminate()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0

    def _on_signal(self, sig: int, frame: object) -> None:
        self.stop.set()

    def _spawn(self) -> None:
        self.process = subprocess.Popen(self.command)

    def _terminate(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def child_command(argv: Sequence[str]) -> list[str]:
    """The ``covet run`` command line for the child: no ``--reload``, one worker."""
    kept: list[str] = []
    skip_value = False
    for arg in argv:
        if skip_value:
            skip_value = False
        elif arg == "--reload" or arg.startswith("--workers="):
            continue
        elif arg == "--workers":
            skip_value = True
        else:
            kept.append(arg)
    return [sys.executable, "-m", "covet.cli", *kept]
