"""WebSocket connections, and rooms with broadcast (in memory or across processes via Redis)."""

from __future__ import annotations

from covet.websockets.channels import Channels, MemoryChannels, Subscription
from covet.websockets.connection import WebSocket, WebSocketDisconnect, WebSocketState
from covet.websockets.redis_channels import RedisChannels

__all__ = (
    "Channels",
    "MemoryChannels",
    "RedisChannels",
    "Subscription",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketState",
)
