"""``covet run MODULE:APP``: serve with the built-in server, uvicorn or granian."""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from .appload import add_app_arguments, resolve_target
from .output import style_for

__all__ = ("SERVER_PREFERENCE", "pick_server", "register")

#: Fastest first, as measured by bench/server on this project's machine (server CPU
#: time per request and req/s, one worker, raw ASGI and Covet apps): granian needs the
#: least CPU per request, then the built-in server (httptools + uvloop), then uvicorn.
#: See bench/server/README.md. ``auto`` picks the first one installed.
SERVER_PREFERENCE = ("granian", "builtin", "uvicorn")


def installed(server: str) -> bool:
    return server == "builtin" or importlib.util.find_spec(server) is not None


def pick_server(requested: str | None) -> str:
    """The server to use: the one requested, else the fastest installed."""
    if requested and requested != "auto":
        return requested
    for server in SERVER_PREFERENCE:
        if installed(server):
            return server
    return "builtin"


def _run(args: argparse.Namespace, argv: list[str]) -> int:
    style = style_for(sys.stderr)
    target = resolve_target(args.app, args.app_dir)
    server = pick_server(args.server)
    if not installed(server):
        style.error(f"{server} is not installed: pip install 'covetpy[server]'")
        return 2
    if args.reload:
        from .reload import Reloader, child_command

        if args.workers > 1:
            style.write(style.paint("--reload runs a single worker; --workers ignored.", "yellow"))
        command = child_command(argv)
        if args.app is None:
            command.insert(command.index("run") + 1, target)
        dirs = [Path(args.app_dir)] + [Path(d) for d in args.reload_dir]
        style.write(style.paint(f"Watching {', '.join(str(d) for d in dirs)} for changes", "dim"))

        def announce(changed: set[Path]) -> None:
            names = ", ".join(sorted(str(p) for p in changed)[:3])
            style.write(style.paint(f"Change detected in {names}: restarting", "yellow"))

        return Reloader(command, dirs, on_restart=announce).run()
    style.write(
        style.paint("Covet", "bold", "cyan")
        + f" serving {style.paint(target, 'bold')} with {style.paint(server, 'green')}"
        + f" on http://{args.host}:{args.port} ({args.workers} worker{'s' if args.workers != 1 else ''})"
    )
    if server == "uvicorn":
        return _uvicorn(args, target)
    if server == "granian":
        return _granian(args, target)
    return _builtin(args, target)


def _builtin(args: argparse.Namespace, target: str) -> int:
    from covet.server import run

    run(
        target,
        host=args.host,
        port=args.port,
        uds=args.uds,
        workers=args.workers,
        loop=args.loop,
        http_parser=args.http,
        log_level=args.log_level or "info",
        app_dir=args.app_dir,
        access_log=not args.no_access_log,
        root_path=args.root_path,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
        timeout_keep_alive=args.timeout_keep_alive,
    )
    return 0


def _uvicorn(args: argparse.Namespace, target: str) -> int:
    import uvicorn

    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "uds": args.uds,
        "workers": args.workers,
        "log_level": args.log_level or "info",
        "app_dir": args.app_dir,
        "access_log": not args.no_access_log,
        "root_path": args.root_path,
        "ssl_certfile": args.ssl_certfile,
        "ssl_keyfile": args.ssl_keyfile,
        "timeout_keep_alive": int(args.timeout_keep_alive),
        "loop": "auto" if args.loop == "auto" else args.loop,
        "http": "auto"
        if args.http == "auto"
        else ("h11" if args.http == "python" else "httptools"),
    }
    uvicorn.run(target, **options)
    return 0


def _granian(args: argparse.Namespace, target: str) -> int:
    from granian import Granian
    from granian.constants import Interfaces

    sys.path.insert(0, os.path.abspath(args.app_dir))
    options: dict[str, Any] = {
        "address": args.host,
        "port": args.port,
        "interface": Interfaces.ASGI,
        "workers": args.workers,
        "log_access": not args.no_access_log,
        "working_dir": Path(args.app_dir).resolve(),
        "respawn_failed_workers": True,
    }
    if args.uds:
        options["uds"] = Path(args.uds)
    if args.log_level and args.log_level != "trace":
        options["log_level"] = args.log_level
    if args.root_path:
        options["url_path_prefix"] = args.root_path
    if args.ssl_certfile:
        options["ssl_cert"] = Path(args.ssl_certfile)
        options["ssl_key"] = Path(args.ssl_keyfile) if args.ssl_keyfile else None
    Granian(target, **options).serve()
    return 0


def register(subparsers: Any, argv: list[str]) -> None:
    """Add ``run`` to the main parser."""
    parser = subparsers.add_parser("run", help="serve an application")
    add_app_arguments(parser)
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="bind port (default 8000)")
    parser.add_argument("--uds", help="bind a Unix domain socket instead")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--reload", action="store_true", help="restart when a .py file changes")
    parser.add_argument(
        "--reload-dir", action="append", default=[], help="extra directory to watch"
    )
    parser.add_argument(
        "--server",
        choices=("auto", "builtin", "uvicorn", "granian"),
        default="auto",
        help="server to use (default: the fastest installed)",
    )
    parser.add_argument(
        "--log-level",
        choices=("critical", "error", "warning", "info", "debug", "trace"),
        default=None,
    )
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto")
    parser.add_argument(
        "--http", choices=("auto", "python", "httptools"), default="auto", help="HTTP parser"
    )
    parser.add_argument("--root-path", default="", help="ASGI root_path when behind a path prefix")
    parser.add_argument("--no-access-log", action="store_true", help="disable the access log")
    parser.add_argument("--ssl-certfile", help="TLS certificate (PEM)")
    parser.add_argument("--ssl-keyfile", help="TLS private key (PEM)")
    parser.add_argument(
        "--timeout-keep-alive", type=float, default=5.0, help="idle keep-alive seconds"
    )
    parser.set_defaults(func=lambda args: _run(args, argv))
