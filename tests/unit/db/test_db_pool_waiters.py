"""The pool's wait queue: first come first served, one expiry timer, cancellation, close."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import pytest

from covet.db import InterfaceError, PoolTimeout
from covet.db.drivers.base import DriverConnection, Params
from covet.db.pool import Pool


class FakeConnection(DriverConnection):
    """Enough of a driver connection for the pool (no I/O)."""

    def __init__(self) -> None:
        super().__init__()
        self.closed = False

    async def execute(self, sql: str, params: Params) -> int:
        return 0

    async def execute_many(self, sql: str, seq_of_params: Sequence[Sequence[Any]]) -> int:
        return 0

    async def fetch_all(self, sql: str, params: Params) -> list[Any]:
        return []

    async def fetch_one(self, sql: str, params: Params) -> Any | None:
        return None

    async def insert(self, sql: str, params: Params) -> Any:
        return None

    async def iterate(self, sql: str, params: Params, chunk_size: int) -> AsyncGenerator[Any, None]:
        if False:
            yield None

    async def ping(self) -> None:
        return None

    def is_closed(self) -> bool:
        return self.closed

    async def close(self) -> None:
        self.closed = True

    def terminate(self) -> None:
        self.closed = True

    def translate(self, exc: BaseException) -> None:
        return None


def make_pool(max_size: int = 1, acquire_timeout: float = 30.0) -> Pool:
    async def connect() -> DriverConnection:
        return FakeConnection()

    return Pool(connect, min_size=0, max_size=max_size, acquire_timeout=acquire_timeout)


async def test_waiters_are_served_in_arrival_order() -> None:
    pool = make_pool(max_size=1)
    held = await pool.acquire()
    order: list[int] = []

    async def take(i: int) -> None:
        conn = await pool.acquire()
        order.append(i)
        await asyncio.sleep(0)
        pool.release(conn)

    tasks = [asyncio.create_task(take(i)) for i in range(5)]
    await asyncio.sleep(0)
    assert pool.waiting == 5
    pool.release(held)
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]
    assert pool.waiting == 0 and pool.in_use == 0


async def test_one_timer_ends_every_wait_that_runs_out() -> None:
    pool = make_pool(max_size=1, acquire_timeout=0.05)
    held = await pool.acquire()
    tasks = [asyncio.create_task(pool.acquire()) for _ in range(20)]
    await asyncio.sleep(0)
    timer = pool._expiry
    assert timer is not None  # one timer for twenty waits
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, PoolTimeout) for r in results)
    assert "within 0.05s" in str(results[0]) and pool.stats.timeouts == 20
    pool.release(held)
    conn = await pool.acquire()  # the slot went back to the pool, not to a dead waiter
    pool.release(conn)
    assert pool.in_use == 0


async def test_a_waiter_cancelled_as_it_is_handed_a_slot_passes_it_on() -> None:
    pool = make_pool(max_size=1)
    held = await pool.acquire()
    first = asyncio.create_task(pool.acquire())
    second = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0)
    pool.release(held)  # hands the slot to `first`...
    first.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await first
    conn = await asyncio.wait_for(second, 1)  # the slot reached the next waiter
    pool.release(conn)
    assert pool.in_use == 0 and pool.waiting == 0


async def test_a_cancelled_waiter_is_skipped() -> None:
    pool = make_pool(max_size=1)
    held = await pool.acquire()
    gone = asyncio.create_task(pool.acquire())
    kept = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.sleep(0)
    assert pool.waiting == 1
    pool.release(held)
    pool.release(await asyncio.wait_for(kept, 1))
    assert pool._free_slots == 1


async def test_closing_the_pool_fails_its_waiters() -> None:
    pool = make_pool(max_size=1)
    held = await pool.acquire()
    waiter = asyncio.create_task(pool.acquire())
    await asyncio.sleep(0)
    await pool.close()
    with pytest.raises(InterfaceError, match="closed"):
        await waiter
    pool.release(held)
    assert held.is_closed()
