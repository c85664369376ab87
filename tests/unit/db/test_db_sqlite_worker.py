"""The SQLite driver's worker threads: ordering, batching, cancellation, sharing per
file, shutdown, and waiting for the write lock on the event loop."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import pytest

from covet.db import Database, InterfaceError
from covet.db.drivers.sqlite import SQLiteConnection, connect_sqlite
from covet.db.drivers.sqlite_workers import Worker as _Worker


async def test_calls_run_in_order_on_one_thread_and_errors_propagate() -> None:
    worker = _Worker()
    try:
        seen: list[tuple[int, str]] = []

        def record(i: int) -> int:
            seen.append((i, threading.current_thread().name))
            return i * 2

        results = await asyncio.gather(*(worker.submit(record, i) for i in range(50)))
        assert results == [i * 2 for i in range(50)]
        assert [i for i, _ in seen] == list(range(50))
        assert {name for _, name in seen} == {"covet-sqlite"}

        def boom() -> None:
            raise ValueError("from the thread")

        with pytest.raises(ValueError, match="from the thread"):
            await worker.submit(boom)
        assert await worker.submit(record, 99) == 198  # still serving after an error
    finally:
        worker.stop()
    worker._thread.join(2)
    assert not worker._thread.is_alive()
    with pytest.raises(InterfaceError):
        worker.submit(time.sleep, 0)


async def test_a_call_cancelled_before_it_starts_is_skipped() -> None:
    worker = _Worker()
    try:
        gate = threading.Event()
        ran: list[str] = []
        blocker = worker.submit(gate.wait, 5)
        queued = worker.submit(ran.append, "queued")
        queued.cancel()
        gate.set()
        assert await blocker is True
        assert await worker.submit(ran.append, "after") is None
        assert ran == ["after"]
    finally:
        worker.stop()


async def test_cancelling_a_running_call_lets_it_finish_and_keeps_the_connection(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}", alias="worker-cancel", max_size=1)
    try:
        async with db:
            slow = (
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                "WHERE x < 1500000) SELECT COUNT(*) FROM c"
            )
            task = asyncio.create_task(db.fetch_val(slow))
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # the same (only) connection answers the next statements, in order
            got = await asyncio.gather(*(db.fetch_val(f"SELECT {i}") for i in range(20)))
            assert got == list(range(20))
            assert db.primary_pool.stats.discarded == 0
    finally:
        db.unregister()


async def test_results_from_many_connections_reach_their_tasks(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'm.db'}", alias="worker-many", max_size=8)
    try:
        async with db:
            await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
            await db.execute_many("INSERT INTO t VALUES (?, ?)", [(i, f"v{i}") for i in range(200)])

            async def read(i: int) -> str:
                return str(await db.fetch_val("SELECT v FROM t WHERE id = ?", [i]))

            got = await asyncio.gather(*(read(i) for i in range(200)))
            assert got == [f"v{i}" for i in range(200)]
            assert db.primary_pool.size > 1
    finally:
        db.unregister()


async def test_close_and_terminate_of_the_last_connection_stop_the_thread(
    tmp_path: Path,
) -> None:
    conn = await connect_sqlite(str(tmp_path / "c.db"))
    await conn.close()
    conn._worker._thread.join(2)
    assert not conn._worker._thread.is_alive() and conn.is_closed()
    with pytest.raises(InterfaceError):
        await conn.fetch_one("SELECT 1", None)
    other = await connect_sqlite(str(tmp_path / "c.db"))
    assert other._worker is not conn._worker  # a fresh thread after the last one stopped
    other.terminate()
    other._worker._thread.join(2)
    assert not other._worker._thread.is_alive()


def test_a_result_for_a_closed_loop_is_dropped() -> None:
    worker = _Worker()
    gate = threading.Event()
    loop = asyncio.new_event_loop()
    try:

        async def submit() -> asyncio.Future[bool]:
            return worker.submit(gate.wait, 5)

        loop.run_until_complete(submit())
    finally:
        loop.close()
    gate.set()  # the thread now resolves a future of a closed loop: no crash, no hang
    worker.stop()
    worker._thread.join(2)
    assert not worker._thread.is_alive()


def test_an_unreferenced_worker_ends_its_thread() -> None:
    import gc

    worker = _Worker()
    thread = worker._thread
    del worker
    gc.collect()
    thread.join(2)
    assert not thread.is_alive()


async def test_connections_to_one_file_share_its_threads(tmp_path: Path) -> None:
    a1 = await connect_sqlite(str(tmp_path / "a.db"))
    (tmp_path / "sub").mkdir()
    a2 = await connect_sqlite(str(tmp_path / "sub" / ".." / "a.db"))  # same real path
    b = await connect_sqlite(str(tmp_path / "b.db"))
    pair = [await connect_sqlite(str(tmp_path / "c.db"), threads=2) for _ in range(4)]
    try:
        assert a1._worker is a2._worker
        assert b._worker is not a1._worker
        # two threads for c.db, each serving two of its four connections
        assert len({id(c._worker) for c in pair}) == 2
        assert sorted(sum(c._worker is w for c in pair) for w in {c._worker for c in pair}) == [
            2,
            2,
        ]
        await a1.close()
        assert not a2._worker.stopped  # a2 still uses it
        assert await a2.fetch_one("SELECT 1", None) is not None
    finally:
        for c in (a2, b, *pair):
            await c.close()
    assert all(c._worker.stopped for c in (a2, b, *pair))


async def test_a_garbage_collected_connection_gives_its_thread_back(tmp_path: Path) -> None:
    import gc

    conn = await connect_sqlite(str(tmp_path / "gc.db"))
    worker = conn._worker
    del conn
    gc.collect()
    worker._thread.join(2)
    assert worker.stopped and not worker._thread.is_alive()


async def test_a_writer_waits_for_the_lock_without_stalling_the_shared_thread(
    tmp_path: Path,
) -> None:
    """One thread serves both connections: a writer waiting inside SQLite's busy handler
    would stall the thread that the lock's holder needs to commit (a deadlock until
    the timeout). The waiter waits on the event loop instead and runs on the commit."""
    path = str(tmp_path / "lock.db")
    holder = await connect_sqlite(path, busy_timeout=30)
    waiter = await connect_sqlite(path, busy_timeout=30)
    try:
        assert holder._worker is waiter._worker
        await holder.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)", None)
        await holder.execute("BEGIN IMMEDIATE", None)
        await holder.execute("INSERT INTO t VALUES (1, 1)", None)
        blocked = asyncio.create_task(waiter.execute("INSERT INTO t VALUES (2, 2)", None))
        await asyncio.sleep(0.05)
        assert not blocked.done() and holder._files.waiters
        # the holder's statements still run on the shared thread while the writer waits
        assert (await holder.fetch_one("SELECT COUNT(*) FROM t", None))[0] == 1
        loop = asyncio.get_running_loop()
        committed_at = loop.time()
        await holder.commit()
        assert await asyncio.wait_for(blocked, 5) == 1
        assert loop.time() - committed_at < 5  # woken by the commit, not by busy_timeout
        rows = await waiter.fetch_rows("SELECT id FROM t ORDER BY id", None)
        assert [r[0] for r in rows] == [1, 2]
        assert not holder._files.waiters
    finally:
        await holder.close()
        await waiter.close()


async def test_the_lock_held_by_another_process_is_polled_until_released(
    tmp_path: Path,
) -> None:
    import sqlite3

    path = str(tmp_path / "other.db")
    outsider = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    outsider.execute("PRAGMA journal_mode = WAL")
    outsider.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    outsider.execute("BEGIN IMMEDIATE")
    conn = await connect_sqlite(path, busy_timeout=30)
    try:
        write = asyncio.create_task(conn.execute("INSERT INTO t VALUES (1)", None))
        await asyncio.sleep(0.1)
        assert not write.done()  # waiting: no notification comes from another process
        outsider.execute("COMMIT")
        assert await asyncio.wait_for(write, 5) == 1
    finally:
        outsider.close()
        await conn.close()


async def test_busy_timeout_ends_the_wait_with_database_is_locked(tmp_path: Path) -> None:
    from covet.db import OperationalError

    path = str(tmp_path / "timeout.db")
    holder = await connect_sqlite(path)
    waiter = await connect_sqlite(path, busy_timeout=0.2)
    try:
        await holder.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)", None)
        await holder.execute("BEGIN IMMEDIATE", None)
        with pytest.raises(OperationalError, match="database is locked"):
            await waiter.execute("INSERT INTO t VALUES (1)", None)
        with pytest.raises(OperationalError, match="database is locked"):
            await waiter.execute_many("INSERT INTO t VALUES (?)", [(2,), (3,)])
        await holder.execute("ROLLBACK", None)
        assert await waiter.execute("INSERT INTO t VALUES (4)", None) == 1  # usable after
        assert not holder._files.waiters
    finally:
        await holder.close()
        await waiter.close()


async def test_a_cancelled_lock_wait_leaves_no_waiter(tmp_path: Path) -> None:
    path = str(tmp_path / "cancel.db")
    holder = await connect_sqlite(path)
    waiter = await connect_sqlite(path, busy_timeout=30)
    try:
        await holder.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)", None)
        await holder.execute("BEGIN IMMEDIATE", None)
        task = asyncio.create_task(waiter.execute("INSERT INTO t VALUES (1)", None))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not holder._files.waiters
        await holder.execute("ROLLBACK", None)
        assert await waiter.fetch_one("SELECT COUNT(*) FROM t", None) == (0,)
    finally:
        await holder.close()
        await waiter.close()


async def test_execute_many_outside_a_transaction_is_all_or_nothing(tmp_path: Path) -> None:
    from covet.db import IntegrityError

    conn = await connect_sqlite(str(tmp_path / "many.db"))
    try:
        await conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)", None)
        with pytest.raises(IntegrityError):
            await conn.execute_many("INSERT INTO t VALUES (?)", [(1,), (2,), (1,)])
        assert (await conn.fetch_one("SELECT COUNT(*) FROM t", None))[0] == 0
        assert not conn.raw.in_transaction
        assert await conn.execute_many("INSERT INTO t VALUES (?)", [(1,), (2,)]) == 2
    finally:
        await conn.close()


async def test_concurrent_writers_through_one_pool_lose_nothing(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}", alias="worker-writers", max_size=8)
    try:
        async with db:
            await db.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, n INTEGER)")
            await db.execute("INSERT INTO c VALUES (1, 0)")

            async def bump() -> None:
                async with db.transaction():
                    n = await db.fetch_val("SELECT n FROM c WHERE id = 1")
                    await asyncio.sleep(0)  # let the others queue on the lock
                    await db.execute("UPDATE c SET n = ? WHERE id = 1", [n + 1])

            await asyncio.gather(*(bump() for _ in range(40)))
            assert await db.fetch_val("SELECT n FROM c WHERE id = 1") == 40
    finally:
        db.unregister()


@pytest.mark.parametrize(
    "query", ["threads=0", "threads=two", "busy_timeout=-1", "busy_timeout=soon"]
)
async def test_invalid_sqlite_options_are_refused(tmp_path: Path, query: str) -> None:
    db = Database(f"sqlite:///{tmp_path / 'o.db'}?{query}", alias="worker-options")
    try:
        with pytest.raises(InterfaceError, match="SQLite option"):
            await db.connect()
    finally:
        db.unregister()


async def test_threads_option_from_the_url(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 't.db'}?threads=2", alias="worker-threads", min_size=4)
    try:
        async with db:
            workers = {id(c._worker) for c in db.primary_pool.connections()}  # type: ignore[attr-defined]
            assert len(workers) == 2
    finally:
        db.unregister()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_starts_its_own_worker_threads(tmp_path: Path) -> None:
    """Worker threads do not survive fork: a child (``covet run --workers N``) opening
    connections to a file its parent uses must not queue work on the parent's threads."""
    path = str(tmp_path / "fork.db")

    async def parent_side() -> SQLiteConnection:
        conn = await connect_sqlite(path)
        await conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)", None)
        return conn

    loop = asyncio.new_event_loop()
    try:
        parent_conn = loop.run_until_complete(parent_side())
        pid = os.fork()
        if pid == 0:  # the child: a fresh loop, a fresh connection, a query
            code = 1
            try:

                async def child_side() -> None:
                    conn = await asyncio.wait_for(connect_sqlite(path), 5)
                    await asyncio.wait_for(conn.execute("INSERT INTO t VALUES (1)", None), 5)
                    await conn.close()

                asyncio.run(child_side())
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        rows = loop.run_until_complete(parent_conn.fetch_rows("SELECT id FROM t", None))
        assert [r[0] for r in rows] == [1]
        loop.run_until_complete(parent_conn.close())
    finally:
        loop.close()
