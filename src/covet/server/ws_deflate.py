"""permessage-deflate (RFC 7692): offer negotiation and per-message (de)compression."""

from __future__ import annotations

import zlib
from typing import Any

__all__ = ("PerMessageDeflate", "negotiate_deflate")

_TAIL = b"\x00\x00\xff\xff"


class PerMessageDeflate:
    """Compression state of one connection after a successful negotiation."""

    __slots__ = (
        "_compressor",
        "_decompressor",
        "client_max_window_bits",
        "client_no_context_takeover",
        "level",
        "server_max_window_bits",
        "server_no_context_takeover",
    )

    def __init__(
        self,
        *,
        server_no_context_takeover: bool = False,
        client_no_context_takeover: bool = False,
        server_max_window_bits: int = 15,
        client_max_window_bits: int = 15,
        level: int = 6,
    ) -> None:
        self.server_no_context_takeover = server_no_context_takeover
        self.client_no_context_takeover = client_no_context_takeover
        self.server_max_window_bits = server_max_window_bits
        self.client_max_window_bits = client_max_window_bits
        self.level = level
        self._compressor: Any = None
        self._decompressor: Any = None

    def response_header(self) -> bytes:
        """The ``Sec-WebSocket-Extensions`` value agreed to."""
        parts = [b"permessage-deflate"]
        if self.server_no_context_takeover:
            parts.append(b"server_no_context_takeover")
        if self.client_no_context_takeover:
            parts.append(b"client_no_context_takeover")
        if self.server_max_window_bits != 15:
            parts.append(b"server_max_window_bits=%d" % self.server_max_window_bits)
        if self.client_max_window_bits != 15:
            parts.append(b"client_max_window_bits=%d" % self.client_max_window_bits)
        return b"; ".join(parts)

    def start_message(self) -> None:
        if self._decompressor is None or self.client_no_context_takeover:
            self._decompressor = zlib.decompressobj(-self.client_max_window_bits)

    def decompress(self, data: bytes, final: bool, limit: int) -> bytes:
        """Inflate one frame's payload; output past ``limit`` bytes raises 1009."""
        from .ws_frames import WebSocketProtocolError

        decompressor = self._decompressor
        try:
            out = decompressor.decompress(data, limit + 1)
            if decompressor.unconsumed_tail or len(out) > limit:
                raise WebSocketProtocolError(1009, "Message too big")
            if final:
                out += decompressor.decompress(_TAIL, limit + 1 - len(out))
                if decompressor.unconsumed_tail or len(out) > limit:
                    raise WebSocketProtocolError(1009, "Message too big")
        except zlib.error:
            raise WebSocketProtocolError(1007, "Invalid compressed data") from None
        return bytes(out)

    def compress(self, data: bytes) -> bytes:
        if self._compressor is None or self.server_no_context_takeover:
            self._compressor = zlib.compressobj(
                self.level, zlib.DEFLATED, -self.server_max_window_bits
            )
        out = self._compressor.compress(data) + self._compressor.flush(zlib.Z_SYNC_FLUSH)
        return bytes(out[:-4] if out.endswith(_TAIL) else out)


def _parse_offers(header: bytes) -> list[list[tuple[str, str | None]]]:
    offers = []
    for offer in header.decode("latin-1").split(","):
        params = []
        for part in offer.split(";"):
            name, _, value = part.strip().partition("=")
            params.append((name.strip().lower(), value.strip().strip('"') or None))
        offers.append(params)
    return offers


def negotiate_deflate(header: bytes | None, level: int = 6) -> PerMessageDeflate | None:
    """Pick the first acceptable ``permessage-deflate`` offer, or ``None``."""
    if not header:
        return None
    for offer in _parse_offers(header):
        if not offer or offer[0][0] != "permessage-deflate":
            continue
        options: dict[str, Any] = {"level": level}
        seen: set[str] = set()
        ok = True
        for name, value in offer[1:]:
            if name in seen:
                ok = False
                break
            seen.add(name)
            if (
                name in ("server_no_context_takeover", "client_no_context_takeover")
                and value is None
            ):
                options[name] = True
            elif name == "server_max_window_bits" and value is not None and value.isdigit():
                # zlib cannot write raw deflate streams with an 8-bit window: decline.
                if not 9 <= int(value) <= 15:
                    ok = False
                    break
                options[name] = int(value)
            elif name == "client_max_window_bits":
                # A 15-bit inflater reads any smaller window, so no limit is imposed.
                if value is not None and (not value.isdigit() or not 8 <= int(value) <= 15):
                    ok = False
                    break
            else:
                ok = False
                break
        if ok:
            return PerMessageDeflate(**options)
    return None
