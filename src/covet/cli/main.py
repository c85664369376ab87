"""The ``covet`` command: ``run``, ``routes``, ``openapi``, ``new``, ``version``, ``db``.

Built on argparse (stdlib). Each subcommand sets ``func(args) -> int`` (exit status);
``covet.cli.db.register`` adds the ``db`` group when that module is present.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
from collections.abc import Sequence

from covet.exceptions import ImproperlyConfigured

from . import introspect, new, run
from .output import style_for

__all__ = ("build_parser", "main")


def _version(args: argparse.Namespace) -> int:
    import covet

    style = style_for()
    style.write(f"{style.paint('covet', 'bold', 'cyan')} {covet.__version__}")
    style.write(
        f"Python {platform.python_version()} ({platform.python_implementation()}) on {sys.platform}"
    )
    extras = []
    for name in ("httptools", "uvloop", "orjson", "msgspec", "uvicorn", "granian", "watchfiles"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            extras.append(f"{name}: " + style.paint("not installed", "dim"))
        else:
            extras.append(
                f"{name}: " + style.paint(str(getattr(module, "__version__", "installed")), "green")
            )
    for line in extras:
        style.write("  " + line)
    return 0


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The full parser (``argv`` lets ``run --reload`` rebuild the child command line)."""
    parser = argparse.ArgumentParser(
        prog="covet", description="CovetPy command line: serve, inspect and scaffold applications."
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    run.register(subparsers, list(argv))
    introspect.register(subparsers)
    new.register(subparsers)
    version = subparsers.add_parser("version", help="show versions of covet and its extras")
    version.set_defaults(func=_version)
    try:
        db = importlib.import_module("covet.cli.db")
    except ImportError:
        db = None
    if db is not None:
        db.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``covet`` script; returns the exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(arguments)
    args = parser.parse_args(arguments)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except (ImproperlyConfigured, ImportError) as exc:
        style_for(sys.stderr).error(str(exc))
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
