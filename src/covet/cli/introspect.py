"""``covet routes`` and ``covet openapi``: look at an application without serving it."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any

from .appload import add_app_arguments, load_app
from .output import style_for

__all__ = ("iter_routes", "register")


def _handler_name(endpoint: Any) -> str:
    if endpoint is None:
        return "-"
    module = getattr(endpoint, "__module__", None)
    name = getattr(endpoint, "__qualname__", None) or type(endpoint).__qualname__
    return f"{module}.{name}" if module else name


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    return (
        prefix.rstrip("/") + (path if path.startswith("/") else "/" + path)
        if path != "/"
        else prefix
    )


def iter_routes(routes: Any, prefix: str = "") -> Iterator[tuple[str, str, str, str]]:
    """Yield ``(methods, path, name, handler)`` for every route, descending into mounts."""
    for route in routes:
        endpoint = getattr(route, "endpoint", None)
        methods = getattr(route, "methods", None)
        path = getattr(route, "path", "")
        name = getattr(route, "name", None) or "-"
        if endpoint is None and hasattr(route, "app"):  # a Mount
            mount_path = getattr(route, "prefix", None)
            if mount_path is None:
                mount_path = path
            full = _join(prefix, mount_path or "/")
            inner = getattr(route.app, "routes", None)
            if inner is not None:
                yield from iter_routes(inner, full)
            else:
                yield "MOUNT", full, name, _handler_name(route.app)
            continue
        if methods is None:
            label = "WS"
        else:
            ordered = sorted(methods, key=lambda m: (m == "HEAD", m))
            label = ",".join(ordered)
        yield label, _join(prefix, path), name, _handler_name(endpoint)


def _routes(args: argparse.Namespace) -> int:
    target, app = load_app(args.app, args.app_dir)
    routes = getattr(app, "routes", None)
    style = style_for()
    if routes is None:
        style.error(f"{target} has no 'routes' attribute (is it a Covet application?)")
        return 1
    rows = [list(row) for row in iter_routes(routes)]
    if args.json:
        keys = ("methods", "path", "name", "handler")
        json.dump([dict(zip(keys, row, strict=True)) for row in rows], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not rows:
        style.write("No routes.")
        return 0
    style.table(("METHOD", "PATH", "NAME", "HANDLER"), rows, colour_column=0)
    return 0


def _openapi(args: argparse.Namespace) -> int:
    target, app = load_app(args.app, args.app_dir)
    build = getattr(app, "openapi", None)
    if build is None:
        style_for(sys.stderr).error(
            f"{target} has no openapi() method (is it a Covet application?)"
        )
        return 1
    text = json.dumps(build(), indent=args.indent, ensure_ascii=False, sort_keys=False)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        style_for(sys.stderr).success(f"Wrote OpenAPI schema to {args.output}")
    else:
        sys.stdout.write(text + "\n")
    return 0


def register(subparsers: Any) -> None:
    """Add ``routes`` and ``openapi`` to the main parser."""
    routes = subparsers.add_parser("routes", help="list the application's routes")
    add_app_arguments(routes)
    routes.add_argument("--json", action="store_true", help="print JSON instead of a table")
    routes.set_defaults(func=_routes)

    openapi = subparsers.add_parser("openapi", help="print or write the OpenAPI schema")
    add_app_arguments(openapi)
    openapi.add_argument("-o", "--output", help="write to this file instead of stdout")
    openapi.add_argument("--indent", type=int, default=2, help="JSON indentation (default 2)")
    openapi.set_defaults(func=_openapi)
