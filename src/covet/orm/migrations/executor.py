"""``Migrator``: make, apply, revert and inspect the migrations of one directory.

Applied migrations are recorded in the ``covet_migrations`` table with the sha256 of
their file. Changing a file after it was applied is an error on ``migrate`` (pass
``allow_changed=True`` to go on with a logged warning); ``status()`` reports it.

Each migration runs in one transaction where DDL is transactional (PostgreSQL,
SQLite): it applies whole or not at all. MySQL/MariaDB commit every DDL statement
implicitly, so a migration that fails half-way there leaves its earlier statements
applied and is not recorded: fix the cause, revert the partial change by hand (or
with ``sqlmigrate --backwards``), and migrate again; the error lists the statements of
the failed operation that were applied and those that were not. On SQLite, migrations
that rebuild tables run with ``PRAGMA foreign_keys = OFF`` and check ``PRAGMA
foreign_key_check`` before committing.

After running a migration, the statement caches of the Database's pooled connections
are reset (asyncpg keeps the parameter and result types of the statements it prepared
before an ``ALTER``); connections of other processes are out of reach.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from covet.db.dialects import Dialect
from covet.db.dialects.schema import ColumnSpec
from covet.orm.migrations.autodetector import detect_changes
from covet.orm.migrations.loader import (
    Migration,
    ancestors,
    descendants,
    leaves,
    load_migrations,
    replay,
)
from covet.orm.migrations.merge import branches, check_mergeable
from covet.orm.migrations.operations import Operation, foreign_key_mismatches
from covet.orm.migrations.special import RunPython
from covet.orm.migrations.state import MigrationError, ProjectState
from covet.orm.migrations.writer import write_merge_migration, write_migration

__all__ = ("MIGRATIONS_TABLE", "MigrationStatus", "Migrator")

logger = logging.getLogger("covet.migrations")

MIGRATIONS_TABLE = "covet_migrations"
_LOCK_KEY = 7_318_004_211  # arbitrary, stable: the advisory lock id of migrations


@dataclass
class MigrationStatus:
    """One line of ``showmigrations``."""

    name: str
    applied: bool
    applied_at: dt.datetime | None = None
    changed: bool = False
    missing_file: bool = False

    def __str__(self) -> str:
        mark = "[X]" if self.applied else "[ ]"
        extra = " (file changed since applied)" if self.changed else ""
        extra += " (applied, but the file is missing)" if self.missing_file else ""
        return f"{mark} {self.name}{extra}"


class Migrator:
    """Migrations in ``directory`` for ``db`` (a ``covet.db.Database``)."""

    def __init__(self, db: Any, directory: str | Path, *, table: str = MIGRATIONS_TABLE) -> None:
        self.db = db
        self.directory = Path(directory)
        self.table = table

    @property
    def dialect(self) -> Dialect:
        return self.db.dialect

    def load(self) -> list[Migration]:
        return load_migrations(self.directory)

    # -- making ---------------------------------------------------------------------

    def make(self, models: Iterable[Any], *, name: str | None = None) -> Path | None:
        """Write a migration for the difference between the history and ``models``.

        Returns the new file's path, or None when the models match the history.
        """
        migrations = self.load()
        changes = detect_changes(replay(migrations), ProjectState.from_models(models))
        if not changes:
            return None
        number = max((m.number for m in migrations), default=0) + 1
        deps = [m.name for m in leaves(migrations)]
        return write_migration(self.directory, number, changes, deps, name)

    def merge(self, *, name: str | None = None) -> Path | None:
        """Write a migration joining the branches of the history (several leaves).

        It depends on every leaf and has no operations. Returns its path, or None when
        there is nothing to merge (one leaf, or no migration); raises ``MigrationError``
        when the branches change the same tables or columns (see ``merge.py``).
        """
        migrations = load_migrations(self.directory, branches=True)
        if len(leaves(migrations)) < 2:
            return None
        check_mergeable(migrations)
        number = max(m.number for m in migrations) + 1
        return write_merge_migration(self.directory, number, branches(migrations), name)

    # -- the record table -------------------------------------------------------------

    async def _ensure_table(self) -> None:
        cols = [
            ColumnSpec("name", "str", max_length=255, primary_key=True, nullable=False),
            ColumnSpec("checksum", "str", max_length=64, nullable=False),
            ColumnSpec("applied_at", "datetime", nullable=False),
        ]
        for stmt in self.dialect.create_table_sql(self.table, cols, if_not_exists=True):
            await self.db.execute(stmt)

    async def applied(self) -> dict[str, tuple[str, dt.datetime]]:
        """``{name: (checksum, applied_at)}`` of applied migrations."""
        await self._ensure_table()
        q = self.dialect.quote
        rows = await self.db.fetch_all(
            f"SELECT {q('name')}, {q('checksum')}, {q('applied_at')} FROM {q(self.table)}",
            using="primary",
        )
        return {r[0]: (r[1], self.dialect.from_db(r[2], "datetime")) for r in rows}

    async def _record(self, migration: Migration) -> None:
        q, p = self.dialect.quote, self.dialect.placeholder
        now = self.dialect.to_db(dt.datetime.now(dt.timezone.utc), "datetime")
        await self.db.execute(
            f"INSERT INTO {q(self.table)} ({q('name')}, {q('checksum')}, {q('applied_at')}) "
            f"VALUES ({p(1)}, {p(2)}, {p(3)})",
            [migration.name, migration.checksum, now],
        )

    async def _unrecord(self, name: str) -> None:
        q, p = self.dialect.quote, self.dialect.placeholder
        await self.db.execute(f"DELETE FROM {q(self.table)} WHERE {q('name')} = {p(1)}", [name])

    # -- inspecting -------------------------------------------------------------------

    async def status(self) -> list[MigrationStatus]:
        """Every migration file (and applied migration without a file), in order; a
        branched history (not merged yet) is listed too."""
        applied = await self.applied()
        out = []
        for m in load_migrations(self.directory, branches=True):
            record = applied.pop(m.name, None)
            out.append(
                MigrationStatus(
                    m.name,
                    record is not None,
                    record[1] if record else None,
                    changed=record is not None and record[0] != m.checksum,
                )
            )
        for name, (_, at) in sorted(applied.items()):
            out.append(MigrationStatus(name, True, at, missing_file=True))
        return out

    def sql(self, name: str, *, backwards: bool = False) -> list[str]:
        """The SQL of migration ``name`` on this database's dialect (RunPython as comments)."""
        migrations = self.load()
        index = self._index(migrations, name)
        if not migrations[index].operations:  # a merge migration
            return []
        state = replay(migrations[:index])
        states = self._states(migrations[index], state)
        self._check_foreign_key_types(migrations[index], states)
        ops = list(enumerate(migrations[index].operations))
        dialect = self.dialect
        out: list[str] = []
        for i, op in reversed(ops) if backwards else ops:
            out.append(f"-- {'revert: ' if backwards else ''}{op.describe()}")
            if isinstance(op, RunPython):
                continue
            sql = op.backwards_sql if backwards else op.forwards_sql
            out.extend(sql(dialect, states[i], states[i + 1]))
        if dialect.supports_transactional_ddl:
            out = [*dialect.begin_sql(), *out, "COMMIT"]
        if not dialect.supports_alter_column and any(op.rebuilds_table for _, op in ops):
            out = [
                "PRAGMA foreign_keys = OFF",
                *out,
                "PRAGMA foreign_key_check",
                "PRAGMA foreign_keys = ON",
            ]
        return out

    # -- applying ---------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _locked(self) -> AsyncIterator[None]:
        """Hold one connection and the backend's migration lock (PostgreSQL, MySQL)."""
        lock = self.dialect.advisory_lock_sql(_LOCK_KEY)
        async with self.db.connection() as conn:
            if lock is None:
                yield
                return
            await conn.fetch_all(lock[0])
            try:
                yield
            finally:
                await conn.fetch_all(lock[1])

    async def migrate(self, target: str | None = None, *, allow_changed: bool = False) -> list[str]:
        """Apply unapplied migrations up to ``target`` (default: all); their names."""
        async with self._locked():
            return await self._migrate(target, allow_changed)

    async def _migrate(self, target: str | None, allow_changed: bool) -> list[str]:
        migrations = self.load()
        applied = await self.applied()
        self._check_history(migrations, applied, allow_changed)
        wanted = (
            {m.name for m in migrations}
            if target is None
            else ancestors(migrations, migrations[self._index(migrations, target)].name)
        )
        done: list[str] = []
        # the schema as the database has it: applied migrations (perhaps of another
        # branch, later in the order) included
        state = replay([m for m in migrations if m.name in applied])
        for m in migrations:
            if m.name in applied or m.name not in wanted:
                continue
            state = await self._run(m, state, backwards=False)
            done.append(m.name)
            logger.info("applied migration %s", m.name)
        return done

    async def downgrade(self, target: str) -> list[str]:
        """Revert the applied migrations that depend on ``target``, directly or not
        (``"zero"``: all of them), newest first; their names. ``target`` stays applied,
        and so do migrations of other branches that do not depend on it."""
        async with self._locked():
            return await self._downgrade(target)

    async def _downgrade(self, target: str) -> list[str]:
        migrations = self.load()
        applied = await self.applied()
        undo = (
            {m.name for m in migrations}
            if target == "zero"
            else descendants(migrations, migrations[self._index(migrations, target)].name)
        )
        missing = sorted(set(applied) - {m.name for m in migrations})
        if missing:
            raise MigrationError(f"cannot downgrade: applied migrations without files: {missing}")
        done: list[str] = []
        remaining = set(applied)
        for m in reversed(migrations):
            if m.name not in applied or m.name not in undo:
                continue
            remaining.discard(m.name)
            # the schema without m: what stays applied, in order (m's dependents are
            # reverted already)
            await self._run(
                m, replay([x for x in migrations if x.name in remaining]), backwards=True
            )
            done.append(m.name)
            logger.info("reverted migration %s", m.name)
        return done

    def _check_history(
        self,
        migrations: list[Migration],
        applied: dict[str, tuple[str, dt.datetime]],
        allow_changed: bool,
    ) -> None:
        problems = []
        names = {m.name for m in migrations}
        for m in migrations:
            if m.name in applied and applied[m.name][0] != m.checksum:
                problems.append(f"{m.name} was changed after it was applied")
        problems += [
            f"{n} is applied but its file is missing" for n in sorted(set(applied) - names)
        ]
        if problems:
            if not allow_changed:
                raise MigrationError(
                    "; ".join(problems)
                    + " (restore the file, or pass allow_changed=True / --allow-changed)"
                )
            for problem in problems:
                logger.warning("%s", problem)

    @staticmethod
    def _index(migrations: list[Migration], name: str) -> int:
        """The position of migration ``name`` (a full name, or a number when unique)."""
        for i, m in enumerate(migrations):
            if m.name == name:
                return i
        numbered = [i for i, m in enumerate(migrations) if m.name[:4] == name]
        if len(numbered) > 1:
            raise MigrationError(
                f"migration number {name!r} is ambiguous: "
                f"{[migrations[i].name for i in numbered]}; give the full name"
            )
        if numbered:
            return numbered[0]
        raise MigrationError(f"no migration named {name!r}; known: {[m.name for m in migrations]}")

    def _check_foreign_key_types(self, migration: Migration, states: list[ProjectState]) -> None:
        """Refuse a migration that starts or ends with foreign keys whose types cannot
        match on this dialect (MySQL: a key widened without its foreign keys)."""
        for state in (states[0], states[-1]):
            problems = foreign_key_mismatches(self.dialect, state)
            if problems:
                raise MigrationError(
                    f"{migration.name}: on {self.dialect.name} a foreign key needs both columns "
                    f"of the same type: {'; '.join(problems)} (alter both in one migration)"
                )

    @staticmethod
    def _states(migration: Migration, before: ProjectState) -> list[ProjectState]:
        states = [before]
        for op in migration.operations:
            nxt = states[-1].clone()
            try:
                op.state_forwards(nxt)
            except MigrationError as exc:
                raise MigrationError(f"{migration.name}: {exc}") from None
            states.append(nxt)
        return states

    async def _run(
        self, migration: Migration, before: ProjectState, *, backwards: bool
    ) -> ProjectState:
        states = self._states(migration, before)
        self._check_foreign_key_types(migration, states)
        ops = list(enumerate(migration.operations))
        if backwards:
            ops.reverse()
            for _, op in ops:
                if not op.reversible:
                    raise MigrationError(f"{migration.name}: {op.describe()} cannot be reverted")
        dialect = self.dialect
        fk_off = not dialect.supports_alter_column and any(op.rebuilds_table for _, op in ops)
        try:
            async with self.db.connection() as conn:
                if fk_off:
                    await conn.execute("PRAGMA foreign_keys = OFF")
                try:
                    if dialect.supports_transactional_ddl:
                        async with conn.transaction():
                            await self._run_ops(migration, ops, states, backwards)
                            if fk_off:
                                await self._check_foreign_keys(conn)
                    else:
                        await self._run_ops(migration, ops, states, backwards)
                finally:
                    if fk_off:
                        await conn.execute("PRAGMA foreign_keys = ON")
        finally:
            await self.db.reset_schema_caches()
        return states[-1]

    async def _run_ops(
        self,
        migration: Migration,
        ops: list[tuple[int, Any]],
        states: list[ProjectState],
        backwards: bool,
    ) -> None:
        for done, (i, op) in enumerate(ops):
            if isinstance(op, RunPython):
                await op.run(self.db, backwards=backwards)
                continue
            sql = op.backwards_sql if backwards else op.forwards_sql
            stmts = sql(self.dialect, states[i], states[i + 1])
            for n, stmt in enumerate(stmts):
                try:
                    await self.db.execute(stmt)
                except Exception as exc:
                    message = self._failure(migration, op, exc, stmts, n, done)
                    raise MigrationError(message) from exc
        if backwards:
            await self._unrecord(migration.name)
        else:
            await self._record(migration)

    def _failure(
        self,
        migration: Migration,
        op: Operation,
        exc: Exception,
        stmts: list[str],
        n: int,
        done: int,
    ) -> str:
        """The message of statement ``n`` of ``op`` failing after ``done`` operations;
        without transactional DDL, it says what was applied and what was not."""
        message = f"{migration.name}: {op.describe()} failed: {exc}\n  SQL: {stmts[n]}"
        if self.dialect.supports_transactional_ddl:
            return message
        message += f"\n  {self.dialect.name} commits DDL as it runs: the migration is not recorded"
        if done:
            message += f", and the {done} operation(s) before this one stay applied"
        if n:
            message += "\n  applied statements of this operation:" + "".join(
                f"\n    {stmt}" for stmt in stmts[:n]
            )
        if n + 1 < len(stmts):
            message += "\n  statements of this operation that did not run:" + "".join(
                f"\n    {stmt}" for stmt in stmts[n + 1 :]
            )
        return message

    async def _check_foreign_keys(self, conn: Any) -> None:
        rows = await conn.fetch_all("PRAGMA foreign_key_check")
        if rows:
            broken = ", ".join(f"{r[0]} row {r[1]} -> {r[2]}" for r in rows[:5])
            raise MigrationError(f"the migration leaves broken foreign keys: {broken}")
