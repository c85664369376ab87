"""Sans-IO WebSocket framing and permessage-deflate: bytes in, events out."""

from __future__ import annotations

import struct
import zlib

import pytest

from covet.server.ws_deflate import PerMessageDeflate, negotiate_deflate
from covet.server.ws_frames import (
    FrameReader,
    WebSocketProtocolError,
    accept_key,
    encode_close,
    encode_frame,
    unmask,
    valid_close_code,
    valid_key,
)

MASK = b"\x01\x02\x03\x04"


def client_frame(opcode: int, payload: bytes, fin: bool = True, rsv: int = 0) -> bytes:
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", first, 0x80 | n)
    elif n < 65536:
        header = struct.pack("!BBH", first, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", first, 0x80 | 127, n)
    return header + MASK + unmask(payload, MASK)


def test_accept_key_rfc_example() -> None:
    assert accept_key(b"dGhlIHNhbXBsZSBub25jZQ==") == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert valid_key(b"dGhlIHNhbXBsZSBub25jZQ==")
    assert not valid_key(b"short") and not valid_key(b"!!!notbase64!!!")


def test_unmask_roundtrip() -> None:
    data = bytes(range(256)) * 3 + b"xyz"
    assert unmask(unmask(data, MASK), MASK) == data
    assert unmask(b"", MASK) == b""


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 100_000])
def test_encode_lengths(size: int) -> None:
    frame = encode_frame(0x2, b"a" * size)
    assert frame[0] == 0x82
    assert frame.endswith(b"a" * size)


def test_reader_byte_by_byte_and_coalesced() -> None:
    data = (
        client_frame(0x1, "héllo".encode())
        + client_frame(0x2, b"\x00\x01")
        + client_frame(0x9, b"p")
    )
    reader = FrameReader()
    events = []
    for i in range(len(data)):
        events += reader.feed(data[i : i + 1])
    assert events == [("text", "héllo"), ("bytes", b"\x00\x01"), ("ping", b"p")]
    assert FrameReader().feed(data) == events


def test_fragmented_text_split_inside_code_point() -> None:
    text = "κόσμε".encode()
    reader = FrameReader()
    assert reader.feed(client_frame(0x1, text[:3], fin=False)) == []
    assert reader.feed(client_frame(0x0, text[3:], fin=True)) == [("text", "κόσμε")]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (client_frame(0x3, b""), 1002),
        (client_frame(0x1, b"x", rsv=4), 1002),
        (client_frame(0x1, b"x", rsv=2), 1002),
        (client_frame(0x9, b"x" * 126), 1002),
        (client_frame(0x9, b"x", fin=False), 1002),
        (client_frame(0x0, b"x"), 1002),
        (client_frame(0x8, b"\x03"), 1002),
        (client_frame(0x8, struct.pack("!H", 1005)), 1002),
        (client_frame(0x8, struct.pack("!H", 1000) + b"\xff"), 1007),
        (client_frame(0x1, b"\xff"), 1007),
        (b"\x81\x05hello", 1002),
        (b"\x82\xff" + struct.pack("!Q", 1 << 63) + MASK, 1002),
    ],
)
def test_protocol_errors(frame: bytes, code: int) -> None:
    with pytest.raises(WebSocketProtocolError) as info:
        FrameReader().feed(frame)
    assert info.value.code == code


def test_header_checked_before_payload_arrives() -> None:
    reader = FrameReader(max_message_size=100)
    header = struct.pack("!BBH", 0x82, 0x80 | 126, 1000)
    with pytest.raises(WebSocketProtocolError) as info:
        reader.feed(header)
    assert info.value.code == 1009


def test_fragmented_message_limit() -> None:
    reader = FrameReader(max_message_size=10)
    reader.feed(client_frame(0x2, b"x" * 6, fin=False))
    with pytest.raises(WebSocketProtocolError) as info:
        reader.feed(client_frame(0x0, b"x" * 6))
    assert info.value.code == 1009


def test_interleaved_data_frame_rejected() -> None:
    reader = FrameReader()
    reader.feed(client_frame(0x1, b"a", fin=False))
    with pytest.raises(WebSocketProtocolError):
        reader.feed(client_frame(0x1, b"b"))


def test_close_events_and_codes() -> None:
    assert FrameReader().feed(client_frame(0x8, b"")) == [("close", None, "")]
    assert FrameReader().feed(client_frame(0x8, struct.pack("!H", 4000) + b"bye")) == [
        ("close", 4000, "bye")
    ]
    assert encode_close(None) == b"\x88\x00"
    assert encode_close(1000, "ok") == b"\x88\x04\x03\xe8ok"
    assert [
        c for c in (999, 1000, 1004, 1011, 1015, 2999, 3000, 4999, 5000) if valid_close_code(c)
    ] == [
        1000,
        1011,
        3000,
        4999,
    ]


def test_data_after_close_is_not_parsed() -> None:
    data = client_frame(0x8, b"") + client_frame(0x1, b"\xff")
    assert FrameReader().feed(data) == [("close", None, "")]


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    return out[:-4]


def test_compressed_message_roundtrip() -> None:
    ext = PerMessageDeflate()
    reader = FrameReader(deflate=ext)
    payload = deflate(b"hello hello hello")
    assert reader.feed(client_frame(0x1, payload, rsv=4)) == [("text", "hello hello hello")]
    server = PerMessageDeflate()
    compressed = server.compress(b"abcabcabc" * 100)
    d = zlib.decompressobj(-15)
    assert d.decompress(compressed + b"\x00\x00\xff\xff") == b"abcabcabc" * 100


def test_compressed_bomb_hits_limit() -> None:
    reader = FrameReader(max_message_size=1000, deflate=PerMessageDeflate())
    with pytest.raises(WebSocketProtocolError) as info:
        reader.feed(client_frame(0x2, deflate(b"\x00" * 1_000_000), rsv=4))
    assert info.value.code == 1009


def test_rsv1_without_deflate_and_on_continuation() -> None:
    with pytest.raises(WebSocketProtocolError):
        FrameReader().feed(client_frame(0x1, b"x", rsv=4))
    reader = FrameReader(deflate=PerMessageDeflate())
    reader.feed(client_frame(0x1, deflate(b"ab"), fin=False, rsv=4))
    with pytest.raises(WebSocketProtocolError):
        reader.feed(client_frame(0x0, b"x", rsv=4))


def test_invalid_compressed_data_is_1007() -> None:
    with pytest.raises(WebSocketProtocolError) as info:
        FrameReader(deflate=PerMessageDeflate()).feed(client_frame(0x2, b"\xff\xff\xff\xff", rsv=4))
    assert info.value.code == 1007


@pytest.mark.parametrize(
    ("offer", "expected"),
    [
        (b"permessage-deflate", b"permessage-deflate"),
        (b"permessage-deflate; client_max_window_bits", b"permessage-deflate"),
        (
            b"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
            b"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        ),
        (
            b"permessage-deflate; server_max_window_bits=10",
            b"permessage-deflate; server_max_window_bits=10",
        ),
        (
            b"permessage-deflate; server_max_window_bits=8, permessage-deflate",
            b"permessage-deflate",
        ),
        (b"x-webkit-deflate-frame", None),
        (b"permessage-deflate; unknown=1", None),
        (b"permessage-deflate; server_no_context_takeover; server_no_context_takeover", None),
        (None, None),
    ],
)
def test_negotiation(offer: bytes | None, expected: bytes | None) -> None:
    result = negotiate_deflate(offer)
    assert (result.response_header() if result else None) == expected


def test_no_context_takeover_resets_compressor() -> None:
    ext = PerMessageDeflate(server_no_context_takeover=True)
    assert ext.compress(b"same message") == ext.compress(b"same message")
    shared = PerMessageDeflate()
    assert shared.compress(b"same message") != shared.compress(b"same message")
