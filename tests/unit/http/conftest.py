"""Hand-made ASGI scopes and channels for driving covet.http objects without a server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import pytest


class ASGIKit:
    """Build scopes, scripted ``receive`` callables and recording ``send`` callables."""

    @staticmethod
    def scope(
        method: str = "GET",
        path: str = "/",
        query: bytes = b"",
        headers: Iterable[tuple[bytes, bytes]] = (),
        **extra: Any,
    ) -> dict[str, Any]:
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": query,
            "headers": [(b"host", b"testserver"), *headers],
            "client": ("127.0.0.1", 5000),
            "server": ("testserver", 80),
        }
        scope.update(extra)
        return scope

    @staticmethod
    def receiver(
        *messages: dict[str, Any], then_disconnect: bool = True, block: bool = False
    ) -> Any:
        """``receive`` returning ``messages`` in order, then ``http.disconnect`` forever
        (or blocking like a connected client with ``block=True``)."""
        queue = list(messages)
        calls = {"n": 0}

        async def receive() -> dict[str, Any]:
            calls["n"] += 1
            if queue:
                return queue.pop(0)
            if block:
                await asyncio.Event().wait()
            if then_disconnect:
                return {"type": "http.disconnect"}
            raise AssertionError("receive() called more often than expected")

        receive.calls = calls  # type: ignore[attr-defined]
        return receive

    @staticmethod
    def body_receiver(*chunks: bytes) -> Any:
        """``receive`` delivering ``chunks`` with ``more_body`` set on all but the last."""
        messages = [
            {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
            for i, c in enumerate(chunks)
        ]
        return ASGIKit.receiver(*messages)

    @staticmethod
    def sender() -> tuple[list[dict[str, Any]], Any]:
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        return sent, send

    async def run(
        self, app: Any, scope: dict[str, Any] | None = None, receive: Any = None
    ) -> list[dict[str, Any]]:
        """Call ASGI ``app`` and return every message it sent."""
        sent, send = self.sender()
        await app(scope or self.scope(), receive or self.receiver(), send)
        return sent

    @staticmethod
    def body_of(messages: list[dict[str, Any]]) -> bytes:
        return b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")


@pytest.fixture
def asgi() -> ASGIKit:
    return ASGIKit()
