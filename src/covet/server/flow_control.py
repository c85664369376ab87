"""Back-pressure in both directions for one transport."""

from __future__ import annotations

import asyncio

__all__ = ("FlowControl",)


class FlowControl:
    """Pause reading when the application falls behind; wait for drain when the peer does.

    ``pause_writing``/``resume_writing`` are forwarded here by the protocol; ``drain()``
    returns at once unless the transport's write buffer is above its high-water mark.
    """

    __slots__ = ("_drain_waiter", "_transport", "read_paused", "write_paused")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self.read_paused = False
        self.write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None

    async def drain(self) -> None:
        """Wait until the peer has read enough for writing to go on."""
        if not self.write_paused:
            return
        waiter = self._drain_waiter
        if waiter is None or waiter.done():
            waiter = asyncio.get_running_loop().create_future()
            self._drain_waiter = waiter
        await waiter

    def pause_reading(self) -> None:
        if not self.read_paused:
            self.read_paused = True
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        if self.read_paused:
            self.read_paused = False
            if not self._transport.is_closing():
                self._transport.resume_reading()

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        waiter = self._drain_waiter
        if waiter is not None:
            self._drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def connection_lost(self) -> None:
        """Release any writer waiting for drain (its next write is dropped)."""
        self.resume_writing()
