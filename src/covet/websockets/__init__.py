"""WebSocket connections."""

from __future__ import annotations

from covet.websockets.connection import WebSocket, WebSocketDisconnect, WebSocketState

__all__ = ("WebSocket", "WebSocketDisconnect", "WebSocketState")
