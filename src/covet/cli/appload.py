"""Finding and importing the user's application for the CLI commands."""

from __future__ import annotations

import os
import sys
from typing import Any

from covet.exceptions import ImproperlyConfigured
from covet.server.config import import_from_string

__all__ = ("DEFAULT_CANDIDATES", "add_app_arguments", "load_app", "resolve_target")

#: Tried in order when no ``MODULE:APP`` is given and ``$COVET_APP`` is unset.
DEFAULT_CANDIDATES = ("main:app", "app:app", "app.main:app")


def add_app_arguments(parser: Any) -> None:
    """Add the optional ``MODULE:APP`` positional and ``--app-dir`` to a command's parser."""
    parser.add_argument(
        "app",
        nargs="?",
        metavar="MODULE:APP",
        help="application (default: $COVET_APP, main:app, app:app)",
    )
    parser.add_argument(
        "--app-dir", default=".", help="directory to import the app from (default .)"
    )


def _module_file_exists(target: str, base: str) -> bool:
    module = target.partition(":")[0]
    path = os.path.join(base, *module.split("."))
    return os.path.isfile(path + ".py") or os.path.isfile(os.path.join(path, "__init__.py"))


def resolve_target(target: str | None, app_dir: str = ".") -> str:
    """The ``MODULE:APP`` string to use: given, ``$COVET_APP``, or a default that exists."""
    if target:
        return target
    env = os.environ.get("COVET_APP")
    if env:
        return env
    for candidate in DEFAULT_CANDIDATES:
        if _module_file_exists(candidate, app_dir):
            return candidate
    raise ImproperlyConfigured(
        "No application given: pass MODULE:APP (e.g. 'main:app') or set COVET_APP."
    )


def load_app(target: str | None, app_dir: str = ".") -> tuple[str, Any]:
    """Import the application; the app directory goes first on ``sys.path``."""
    resolved = resolve_target(target, app_dir)
    path = os.path.abspath(app_dir)
    if path not in sys.path:
        sys.path.insert(0, path)
    return resolved, import_from_string(resolved)
