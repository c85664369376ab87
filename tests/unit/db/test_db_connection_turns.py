"""A held connection's turns: one operation at a time, in arrival order, cancellation-safe."""

from __future__ import annotations

import asyncio

import pytest

from covet.db.connection import _Turns


async def test_a_free_turn_is_taken_at_once_and_given_back() -> None:
    turns = _Turns()
    assert turns.try_take() and not turns.try_take()
    turns.give_back()
    assert turns.try_take()
    turns.give_back()
    await turns.take()  # free: no waiting
    turns.give_back()


async def test_tasks_take_turns_in_arrival_order_one_at_a_time() -> None:
    turns = _Turns()
    running: list[int] = []
    order: list[int] = []

    async def work(i: int) -> None:
        async with turns:
            running.append(i)
            assert len(running) == 1  # nobody else inside
            order.append(i)
            await asyncio.sleep(0)
            running.remove(i)

    await asyncio.gather(*(work(i) for i in range(10)))
    assert order == list(range(10))
    assert turns.try_take()  # free again afterwards


async def test_a_waiter_cancelled_as_it_gets_the_turn_passes_it_on() -> None:
    turns = _Turns()
    assert turns.try_take()
    first = asyncio.create_task(turns.take())
    second = asyncio.create_task(turns.take())
    await asyncio.sleep(0)
    turns.give_back()  # to `first`...
    first.cancel()  # ...cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, 1)  # the turn reached the next waiter
    turns.give_back()
    assert turns.try_take()


async def test_a_cancelled_waiter_is_skipped() -> None:
    turns = _Turns()
    assert turns.try_take()
    gone = asyncio.create_task(turns.take())
    kept = asyncio.create_task(turns.take())
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.sleep(0)
    turns.give_back()
    await asyncio.wait_for(kept, 1)
    turns.give_back()
    assert turns.try_take()
