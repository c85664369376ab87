"""Test clients that drive a CovetPy (or any ASGI) app in-process."""

from covet.testing.client import AsyncTestClient, TestClient, TestResponse
from covet.testing.websocket import WebSocketDenied, WebSocketSession, WebSocketTestSession

__all__ = (
    "AsyncTestClient",
    "TestClient",
    "TestResponse",
    "WebSocketDenied",
    "WebSocketSession",
    "WebSocketTestSession",
)
