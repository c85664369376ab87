"""The SQLite driver's worker thread: ordering, batching, cancellation, shutdown."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from covet.db import Database, InterfaceError
from covet.db.drivers.sqlite import _Worker, connect_sqlite


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


async def test_close_and_terminate_stop_the_thread(tmp_path: Path) -> None:
    conn = await connect_sqlite(str(tmp_path / "c.db"))
    await conn.close()
    conn._worker._thread.join(2)
    assert not conn._worker._thread.is_alive() and conn.is_closed()
    with pytest.raises(InterfaceError):
        await conn.fetch_one("SELECT 1", None)
    other = await connect_sqlite(str(tmp_path / "c.db"))
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
