"""``covet db ...``: makemigrations (``--merge``), migrate, downgrade, showmigrations,
sqlmigrate.

``register(subparsers)`` adds the ``db`` command to the main parser; each leaf sets
``func(args) -> int`` (the exit status).

Models come from ``--app module:attr`` (or ``--app module``): every ``covet.orm``
model defined in that module's top-level package, or registered while importing it.
The database is ``--database URL``, else ``$COVET_DATABASE_URL``, else the default
``covet.db.Database`` the imported module created.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ("main", "register")

ENV_URL = "COVET_DATABASE_URL"


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``db`` and its subcommands to ``subparsers`` (from ``add_subparsers()``)."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "db", help="database migrations", description="Make, apply and inspect migrations."
    )
    commands = parser.add_subparsers(dest="db_command", metavar="COMMAND")
    parser.set_defaults(func=lambda args: _usage(parser))

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--app", help="module:attr or module whose import defines the models (and database)"
        )
        p.add_argument(
            "--database", help=f"database URL (default: ${ENV_URL}, then the app's default)"
        )
        p.add_argument(
            "--migrations", default="migrations", help="migrations directory (default: migrations)"
        )

    make = commands.add_parser("makemigrations", help="write a migration for model changes")
    common(make)
    make.add_argument("--name", help="name suffix for the new migration (default: generated)")
    make.add_argument(
        "--merge",
        action="store_true",
        help="write a migration merging the branches of the history (no models needed)",
    )
    make.set_defaults(func=_makemigrations)

    migrate = commands.add_parser("migrate", help="apply migrations (up to TARGET)")
    common(migrate)
    migrate.add_argument("target", nargs="?", help="last migration to apply (default: all)")
    migrate.add_argument(
        "--allow-changed",
        action="store_true",
        help="go on when an applied migration file was edited",
    )
    migrate.set_defaults(func=_migrate)

    down = commands.add_parser("downgrade", help="revert migrations after TARGET ('zero' for all)")
    common(down)
    down.add_argument("target", help="migration to keep as the last applied one, or 'zero'")
    down.set_defaults(func=_downgrade)

    show = commands.add_parser(
        "showmigrations", help="list migrations and whether they are applied"
    )
    common(show)
    show.set_defaults(func=_showmigrations)

    sqlm = commands.add_parser("sqlmigrate", help="print the SQL of a migration")
    common(sqlm)
    sqlm.add_argument("name", help="migration name or number (0002)")
    sqlm.add_argument("--backwards", action="store_true", help="print the SQL that reverts it")
    sqlm.set_defaults(func=_sqlmigrate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``covet db ...`` on its own (``python -m covet.cli.db migrate``)."""
    parser = argparse.ArgumentParser(prog="covet")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["db", *(sys.argv[1:] if argv is None else argv)])
    return int(args.func(args))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def _import_app(spec: str | None) -> list[Any]:
    """Import ``spec``'s module; the models it brings (see the module docstring)."""
    if not spec:
        return []
    from covet.orm.base import registry
    from covet.orm.migrations import collect_models

    module_name = spec.split(":", 1)[0]
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    before = {id(m) for models in registry.values() for m in models}
    importlib.import_module(module_name)
    fresh = {m.__module__ for models in registry.values() for m in models if id(m) not in before}
    return collect_models({module_name.split(".")[0], *fresh})


def _database(args: argparse.Namespace) -> Any:
    from covet.db import Database, get_database

    url = args.database or os.environ.get(ENV_URL)
    if url:
        db = Database(url, alias="covet-cli")
        db.unregister()  # a tool's connection: never the app's default
        return db
    return get_database()


def _run(args: argparse.Namespace, action: Any) -> int:
    from covet.db import DatabaseError
    from covet.exceptions import CovetError
    from covet.orm.migrations import MigrationError, Migrator

    try:
        _import_app(args.app)
        db = _database(args)
    except (CovetError, ImportError, MigrationError) as exc:
        return _fail(str(exc))
    migrator = Migrator(db, Path(args.migrations))

    async def go() -> int:
        try:
            async with db:
                return int(await action(migrator))
        except (MigrationError, DatabaseError) as exc:
            return _fail(str(exc))

    return asyncio.run(go())


def _makemigrations(args: argparse.Namespace) -> int:
    from covet.exceptions import CovetError
    from covet.orm.migrations import MigrationError, Migrator

    try:
        models = _import_app(args.app)
    except (ImportError, CovetError, MigrationError) as exc:
        return _fail(str(exc))
    if args.merge:
        return _merge(args)
    if not models:
        return _fail(
            "no models found: pass --app module:app (the module that defines or imports them)"
        )
    try:
        path = Migrator(None, Path(args.migrations)).make(models, name=args.name)
    except MigrationError as exc:
        return _fail(str(exc))
    if path is None:
        print("No changes detected.")
        return 0
    print(f"Created {path}")
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("- "):
            print(f"  note: {line[2:]}")
    return 0


def _merge(args: argparse.Namespace) -> int:
    from covet.orm.migrations import MigrationError, Migrator

    try:
        path = Migrator(None, Path(args.migrations)).merge(name=args.name)
    except MigrationError as exc:
        return _fail(str(exc))
    if path is None:
        print("Nothing to merge: the history has no branches.")
        return 0
    print(f"Created {path}")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    async def action(m: Any) -> int:
        done = await m.migrate(args.target, allow_changed=args.allow_changed)
        for name in done:
            print(f"Applied {name}")
        if not done:
            print("No migrations to apply.")
        return 0

    return _run(args, action)


def _downgrade(args: argparse.Namespace) -> int:
    async def action(m: Any) -> int:
        done = await m.downgrade(args.target)
        for name in done:
            print(f"Reverted {name}")
        if not done:
            print("No migrations to revert.")
        return 0

    return _run(args, action)


def _showmigrations(args: argparse.Namespace) -> int:
    async def action(m: Any) -> int:
        status = await m.status()
        for line in status:
            print(line)
        if not status:
            print(f"No migrations in {m.directory}.")
        return 0

    return _run(args, action)


def _sqlmigrate(args: argparse.Namespace) -> int:
    from covet.exceptions import CovetError
    from covet.orm.migrations import MigrationError, Migrator

    try:
        _import_app(args.app)
        db = _database(args)
        statements = Migrator(db, Path(args.migrations)).sql(args.name, backwards=args.backwards)
    except (CovetError, ImportError, MigrationError) as exc:
        return _fail(str(exc))
    for stmt in statements:
        print(stmt if stmt.startswith("--") else stmt + ";")
    if not statements:
        print("-- no SQL")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
