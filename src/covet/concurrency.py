"""Running blocking code from async code without blocking the event loop."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import ParamSpec, TypeVar

__all__ = ("iterate_in_threadpool", "run_in_threadpool")

P = ParamSpec("P")
T = TypeVar("T")


async def run_in_threadpool(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Call ``func`` in the loop's default executor, keeping context variables."""
    loop = asyncio.get_running_loop()
    ctx = contextvars.copy_context()
    call = functools.partial(ctx.run, func, *args, **kwargs)
    return await loop.run_in_executor(None, call)


_STOP = object()


def _next(it: Iterator[T]) -> T | object:
    try:
        return next(it)
    except StopIteration:
        return _STOP


async def iterate_in_threadpool(iterable: Iterable[T]) -> AsyncIterator[T]:
    """Iterate a blocking iterable, each step in the threadpool."""
    it = iter(iterable)
    while True:
        item = await run_in_threadpool(_next, it)
        if item is _STOP:
            return
        yield item  # type: ignore[misc]
