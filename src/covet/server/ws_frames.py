"""Sans-IO WebSocket (RFC 6455) framing: frame reader, frame writer, handshake helpers.

:class:`FrameReader` takes bytes from the client and returns events; every protocol
violation raises :class:`WebSocketProtocolError` with the close code to send (1002
protocol error, 1007 invalid UTF-8, 1009 too big). Text is validated incrementally, so
invalid UTF-8 fails at the first bad fragment while a code point split across
fragments is fine.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import struct
from typing import Any

from .ws_deflate import PerMessageDeflate

__all__ = (
    "CLOSE",
    "PING",
    "PONG",
    "FrameReader",
    "WebSocketProtocolError",
    "accept_key",
    "encode_close",
    "encode_frame",
    "valid_close_code",
)

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_DATA_OPCODES = (TEXT, BINARY)
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_UTF8 = codecs.getincrementaldecoder("utf-8")


class WebSocketProtocolError(Exception):
    """The peer broke the protocol; close the connection with ``code``."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def accept_key(key: bytes) -> bytes:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key``."""
    return base64.b64encode(hashlib.sha1(key + _GUID).digest())


def valid_key(key: bytes) -> bool:
    """A ``Sec-WebSocket-Key`` must be the base64 form of 16 bytes."""
    try:
        return len(base64.b64decode(key, validate=True)) == 16
    except ValueError:
        return False


def valid_close_code(code: int) -> bool:
    """Close codes a peer may send (RFC 6455 7.4 and the IANA registry)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def unmask(data: bytes, mask: bytes) -> bytes:
    """XOR ``data`` with the 4-byte ``mask`` (big-integer trick: fast without C)."""
    n = len(data)
    if not n:
        return b""
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(key, "little")).to_bytes(n, "little")


def encode_frame(opcode: int, payload: bytes, fin: bool = True, rsv1: bool = False) -> bytes:
    """An unmasked (server) frame."""
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", first, n)
    elif n < 65536:
        header = struct.pack("!BBH", first, 126, n)
    else:
        header = struct.pack("!BBQ", first, 127, n)
    return header + payload


def encode_close(code: int | None, reason: str = "") -> bytes:
    """A close frame; ``code=None`` gives an empty payload."""
    if code is None:
        return encode_frame(CLOSE, b"")
    data = reason.encode("utf-8")[:123]
    return encode_frame(CLOSE, struct.pack("!H", code) + data)


class FrameReader:
    """Incremental frame parser for client-to-server traffic.

    ``feed(data)`` returns a list of events: ``("text", str)``, ``("bytes", bytes)``,
    ``("ping", payload)``, ``("pong", payload)``, ``("close", code | None, reason)``.
    """

    __slots__ = (
        "_buffer",
        "_compressed",
        "_decoder",
        "_deflate",
        "_fragments",
        "_max_frame",
        "_max_message",
        "_message_opcode",
        "_message_size",
    )

    def __init__(
        self,
        *,
        max_message_size: int = 16 * 1024 * 1024,
        max_frame_size: int | None = None,
        deflate: PerMessageDeflate | None = None,
    ) -> None:
        self._buffer = bytearray()
        self._max_message = max_message_size
        self._max_frame = max_frame_size or max_message_size
        self._deflate = deflate
        self._message_opcode = 0
        self._compressed = False
        self._fragments: list[Any] = []
        self._message_size = 0
        self._decoder: Any = None

    def feed(self, data: bytes) -> list[tuple[Any, ...]]:
        buf = self._buffer
        buf += data
        events: list[tuple[Any, ...]] = []
        pos = 0
        size = len(buf)
        while size - pos >= 2:
            b0 = buf[pos]
            b1 = buf[pos + 1]
            fin = b0 & 0x80
            rsv = b0 & 0x70
            opcode = b0 & 0x0F
            length = b1 & 0x7F
            header = 2
            if length == 126:
                if size - pos < 4:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                header = 4
            elif length == 127:
                if size - pos < 10:
                    break
                length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                if length >> 63:
                    raise WebSocketProtocolError(1002, "Invalid frame length")
                header = 10
            self._check_header(fin, rsv, opcode, length, b1 & 0x80)
            end = pos + header + 4 + length
            if size < end:
                break
            mask = bytes(buf[pos + header : pos + header + 4])
            payload = unmask(bytes(buf[pos + header + 4 : end]), mask)
            pos = end
            if opcode >= CLOSE:
                events.append(self._control(opcode, payload))
                if opcode == CLOSE:
                    break
            else:
                event = self._data(fin, opcode, rsv, payload)
                if event is not None:
                    events.append(event)
        del buf[:pos]
        return events

    def _check_header(self, fin: int, rsv: int, opcode: int, length: int, masked: int) -> None:
        if not masked:
            raise WebSocketProtocolError(1002, "Client frames must be masked")
        if opcode >= CLOSE:
            if opcode > PONG:
                raise WebSocketProtocolError(1002, f"Reserved opcode {opcode:#x}")
            if not fin:
                raise WebSocketProtocolError(1002, "Fragmented control frame")
            if length > 125:
                raise WebSocketProtocolError(1002, "Control frame payload too long")
            if rsv:
                raise WebSocketProtocolError(1002, "Reserved bits set on a control frame")
            return
        if opcode > BINARY:
            raise WebSocketProtocolError(1002, f"Reserved opcode {opcode:#x}")
        if rsv & 0x30:
            raise WebSocketProtocolError(1002, "Reserved bits set")
        if rsv & 0x40 and (self._deflate is None or opcode == CONTINUATION):
            raise WebSocketProtocolError(1002, "RSV1 set without permessage-deflate")
        if opcode == CONTINUATION:
            if not self._message_opcode:
                raise WebSocketProtocolError(1002, "Continuation frame without a message")
        elif self._message_opcode:
            raise WebSocketProtocolError(1002, "New data frame inside a fragmented message")
        if length > self._max_frame:
            raise WebSocketProtocolError(1009, "Frame too big")
        if not (rsv & 0x40 or self._compressed) and self._message_size + length > self._max_message:
            raise WebSocketProtocolError(1009, "Message too big")

    def _control(self, opcode: int, payload: bytes) -> tuple[Any, ...]:
        if opcode == PING:
            return ("ping", payload)
        if opcode == PONG:
            return ("pong", payload)
        if not payload:
            return ("close", None, "")
        if len(payload) == 1:
            raise WebSocketProtocolError(1002, "Close frame payload of one byte")
        code = int.from_bytes(payload[:2], "big")
        if not valid_close_code(code):
            raise WebSocketProtocolError(1002, f"Invalid close code {code}")
        try:
            reason = payload[2:].decode("utf-8")
        except UnicodeDecodeError:
            raise WebSocketProtocolError(1007, "Invalid UTF-8 in close reason") from None
        return ("close", code, reason)

    def _data(self, fin: int, opcode: int, rsv: int, payload: bytes) -> tuple[Any, ...] | None:
        if opcode != CONTINUATION:
            self._message_opcode = opcode
            self._compressed = bool(rsv & 0x40)
            self._message_size = 0
            self._fragments = []
            self._decoder = _UTF8() if opcode == TEXT else None
            if self._compressed:
                assert self._deflate is not None
                self._deflate.start_message()
        if self._compressed:
            assert self._deflate is not None
            limit = self._max_message - self._message_size
            payload = self._deflate.decompress(payload, bool(fin), limit)
        self._message_size += len(payload)
        if self._message_size > self._max_message:
            raise WebSocketProtocolError(1009, "Message too big")
        decoder = self._decoder
        if decoder is not None:
            try:
                self._fragments.append(decoder.decode(payload, bool(fin)))
            except UnicodeDecodeError:
                raise WebSocketProtocolError(1007, "Invalid UTF-8 in text message") from None
        else:
            self._fragments.append(payload)
        if not fin:
            return None
        fragments = self._fragments
        message_opcode = self._message_opcode
        self._message_opcode = 0
        self._compressed = False
        self._fragments = []
        self._message_size = 0
        if message_opcode == TEXT:
            return ("text", fragments[0] if len(fragments) == 1 else "".join(fragments))
        return ("bytes", fragments[0] if len(fragments) == 1 else b"".join(fragments))
