"""Autobahn|Testsuite-style WebSocket conformance, driven with raw frames over a socket.

The real Autobahn fuzzingclient needs Docker/Python 2; these tests replay the same
cases (sections 1-7 and 9) against an echo application. Each test names the Autobahn
case numbers it mirrors; docs/server.md has the full mapping.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


@pytest.fixture
def server(ws_echo_server: Any) -> Any:
    return ws_echo_server


# 1.x framing -------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 125, 126, 127, 128, 65535, 65536])
def test_1_1_text_payload_lengths(server: Any, raw_ws: Any, size: int) -> None:
    """Autobahn 1.1.1-1.1.8: text messages of boundary lengths echoed."""
    ws = raw_ws(*server)
    ws.send_frame(TEXT, b"*" * size)
    assert ws.recv_frame() == (TEXT, True, 0, b"*" * size)


@pytest.mark.parametrize("size", [0, 125, 126, 127, 128, 65535, 65536])
def test_1_2_binary_payload_lengths(server: Any, raw_ws: Any, size: int) -> None:
    """Autobahn 1.2.1-1.2.8: binary messages of boundary lengths echoed."""
    ws = raw_ws(*server)
    payload = bytes(range(256)) * (size // 256) + bytes(size % 256)
    ws.send_frame(BINARY, payload)
    assert ws.recv_frame() == (BINARY, True, 0, payload)


def test_1_chunked_delivery_of_frame(server: Any, raw_ws: Any) -> None:
    """Autobahn 1.1.7/1.2.7 (payload sent in small chops): one frame written piecewise."""
    ws = raw_ws(*server)
    import struct

    from covet.server.ws_frames import unmask

    payload = b"x" * 1000
    mask = b"abcd"
    frame = struct.pack("!BBH", 0x81, 0x80 | 126, len(payload)) + mask + unmask(payload, mask)
    for i in range(0, len(frame), 7):
        ws.raw.send(frame[i : i + 7])
    assert ws.recv_frame()[3] == payload


# 2.x pings and pongs -----------------------------------------------------------------


def test_2_1_to_2_3_ping_answered_with_same_payload(server: Any, raw_ws: Any) -> None:
    """Autobahn 2.1, 2.2, 2.3: ping without/with text/binary payload -> pong echoes it."""
    ws = raw_ws(*server)
    for payload in (b"", b"Hello, world!", b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"):
        ws.send_frame(PING, payload)
        assert ws.recv_frame() == (PONG, True, 0, payload)


def test_2_4_ping_125_bytes(server: Any, raw_ws: Any) -> None:
    """Autobahn 2.4: ping with 125-byte payload."""
    ws = raw_ws(*server)
    ws.send_frame(PING, b"\xfe" * 125)
    assert ws.recv_frame() == (PONG, True, 0, b"\xfe" * 125)


def test_2_5_ping_126_bytes_fails(server: Any, raw_ws: Any) -> None:
    """Autobahn 2.5: ping with 126-byte payload -> fail with 1002."""
    ws = raw_ws(*server)
    ws.send_frame(PING, b"\xfe" * 126)
    ws.expect_close(1002)


def test_2_7_2_8_unsolicited_pong_ignored(server: Any, raw_ws: Any) -> None:
    """Autobahn 2.7, 2.8: unsolicited pong (empty and with payload) is ignored."""
    ws = raw_ws(*server)
    ws.send_frame(PONG, b"")
    ws.send_frame(PONG, b"unsolicited")
    ws.send_frame(TEXT, b"after")
    assert ws.recv_frame() == (TEXT, True, 0, b"after")


def test_2_10_many_pings(server: Any, raw_ws: Any) -> None:
    """Autobahn 2.10, 2.11: ten pings in a row get ten pongs in order."""
    ws = raw_ws(*server)
    for i in range(10):
        ws.send_frame(PING, b"ping %d" % i)
    for i in range(10):
        assert ws.recv_frame() == (PONG, True, 0, b"ping %d" % i)


# 3.x reserved bits -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rsv", "opcode"),
    [(1, TEXT), (2, TEXT), (3, TEXT), (4, BINARY), (5, PING), (6, TEXT), (7, TEXT)],
)
def test_3_reserved_bits_fail(server: Any, raw_ws: Any, rsv: int, opcode: int) -> None:
    """Autobahn 3.1-3.7: any RSV bit without a negotiated extension -> 1002."""
    ws = raw_ws(*server)
    ws.send_frame(opcode, b"payload", rsv=rsv)
    ws.expect_close(1002)


def test_3_2_reserved_bits_after_valid_message(server: Any, raw_ws: Any) -> None:
    """Autobahn 3.2: a valid message is echoed before the bad frame fails the connection."""
    ws = raw_ws(*server)
    ws.send_frame(TEXT, b"valid")
    ws.send_frame(TEXT, b"bad", rsv=2)
    assert ws.recv_frame() == (TEXT, True, 0, b"valid")
    ws.expect_close(1002)


# 4.x opcodes -------------------------------------------------------------------------


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF])
def test_4_reserved_opcodes_fail(server: Any, raw_ws: Any, opcode: int) -> None:
    """Autobahn 4.1.1-4.1.5 (non-control) and 4.2.1-4.2.5 (control): reserved opcode -> 1002."""
    ws = raw_ws(*server)
    ws.send_frame(opcode, b"reserved")
    ws.expect_close(1002)


# 5.x fragmentation -------------------------------------------------------------------


def test_5_1_5_2_fragmented_control_frames_fail(server: Any, raw_ws: Any) -> None:
    """Autobahn 5.1, 5.2: ping/pong with FIN=0 -> 1002."""
    for opcode in (PING, PONG):
        ws = raw_ws(*server)
        ws.send_frame(opcode, b"frag", fin=False)
        ws.expect_close(1002)


def test_5_3_to_5_5_fragmented_text(server: Any, raw_ws: Any) -> None:
    """Autobahn 5.3-5.5: a text message in two and in many fragments."""
    ws = raw_ws(*server)
    ws.send_frame(TEXT, b"frag", fin=False)
    ws.send_frame(CONT, b"ment", fin=True)
    assert ws.recv_frame() == (TEXT, True, 0, b"fragment")
    parts = [b"a", b"b", b"", b"c", b"d"]
    ws.send_frame(TEXT, parts[0], fin=False)
    for part in parts[1:-1]:
        ws.send_frame(CONT, part, fin=False)
    ws.send_frame(CONT, parts[-1], fin=True)
    assert ws.recv_frame() == (TEXT, True, 0, b"abcd")


def test_5_6_to_5_8_ping_between_fragments(server: Any, raw_ws: Any) -> None:
    """Autobahn 5.6-5.8: a ping inside a fragmented message is answered first."""
    ws = raw_ws(*server)
    ws.send_frame(TEXT, b"frag", fin=False)
    ws.send_frame(PING, b"in between")
    ws.send_frame(CONT, b"ment", fin=True)
    assert ws.recv_frame() == (PONG, True, 0, b"in between")
    assert ws.recv_frame() == (TEXT, True, 0, b"fragment")


@pytest.mark.parametrize("fin", [True, False])
def test_5_9_to_5_14_continuation_without_start_fails(server: Any, raw_ws: Any, fin: bool) -> None:
    """Autobahn 5.9-5.14: continuation frame with nothing to continue -> 1002."""
    ws = raw_ws(*server)
    ws.send_frame(CONT, b"orphan", fin=fin)
    ws.expect_close(1002)


def test_5_18_new_message_inside_fragmented_fails(server: Any, raw_ws: Any) -> None:
    """Autobahn 5.18: text start, then another text start (not continuation) -> 1002."""
    ws = raw_ws(*server)
    ws.send_frame(TEXT, b"first", fin=False)
    ws.send_frame(TEXT, b"second", fin=True)
    ws.expect_close(1002)


def test_5_19_5_20_fragments_with_pings_interleaved(server: Any, raw_ws: Any) -> None:
    """Autobahn 5.19, 5.20: five fragments with two pings interleaved."""
    ws = raw_ws(*server)
    ws.send_frame(TEXT, b"f1", fin=False)
    ws.send_frame(CONT, b"f2", fin=False)
    ws.send_frame(PING, b"p1")
    ws.send_frame(CONT, b"f3", fin=False)
    ws.send_frame(CONT, b"f4", fin=False)
    ws.send_frame(PING, b"p2")
    ws.send_frame(CONT, b"f5", fin=True)
    assert ws.recv_frame() == (PONG, True, 0, b"p1")
    assert ws.recv_frame() == (PONG, True, 0, b"p2")
    assert ws.recv_frame() == (TEXT, True, 0, b"f1f2f3f4f5")


# 6.x UTF-8 handling ------------------------------------------------------------------

VALID_UTF8 = [
    b"",
    "Hello-µ@ßöäüàá-UTF-8!!".encode(),
    "κόσμε".encode(),
    "\U00010000\U0010ffff".encode(),
    "\u0080\u07ff\u0800\uffff".encode(),
]
INVALID_UTF8 = [
    b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",  # 6.3: surrogate
    b"\xf4\x90\x80\x80",  # 6.8: above U+10FFFF
    b"\x80",  # 6.9: lone continuation byte
    b"\xc0\xaf",  # 6.12: overlong
    b"\xe0\x80\xaf",  # 6.13: overlong
    b"\xfe",  # 6.10: impossible byte
    b"\xed\xbf\xbf",  # 6.19: lone low surrogate
    b"\xce",  # 6.6: truncated sequence at the end of the message
]


@pytest.mark.parametrize("payload", VALID_UTF8)
def test_6_valid_utf8_echoed(server: Any, raw_ws: Any, payload: bytes) -> None:
    """Autobahn 6.1, 6.2, 6.5, 6.22, 6.23: valid UTF-8 (incl. 4-byte, boundaries) echoed."""
    ws = raw_ws(*server)
    ws.send_frame(TEXT, payload)
    assert ws.recv_frame() == (TEXT, True, 0, payload)


@pytest.mark.parametrize("payload", INVALID_UTF8)
def test_6_invalid_utf8_fails_1007(server: Any, raw_ws: Any, payload: bytes) -> None:
    """Autobahn 6.3-6.21: invalid UTF-8 in a text message -> 1007."""
    ws = raw_ws(*server)
    ws.send_frame(TEXT, payload)
    ws.expect_close(1007)


def test_6_2_fragmented_inside_code_point(server: Any, raw_ws: Any) -> None:
    """Autobahn 6.2.3, 6.2.4: valid UTF-8 fragmented inside a multi-byte code point."""
    ws = raw_ws(*server)
    text = "Hello-µ@ßöäüàá-UTF-8!! κόσμε \U0001f600".encode()
    ws.send_frame(TEXT, text[:1], fin=False)
    for i in range(1, len(text) - 1):
        ws.send_frame(CONT, text[i : i + 1], fin=False)
    ws.send_frame(CONT, text[-1:], fin=True)
    assert ws.recv_frame() == (TEXT, True, 0, text)


def test_6_4_fail_fast_on_invalid_fragment(server: Any, raw_ws: Any) -> None:
    """Autobahn 6.4.1-6.4.4: the connection fails at the invalid fragment, before FIN."""
    ws = raw_ws(*server)
    ws.send_frame(TEXT, "κόσμε".encode(), fin=False)
    ws.send_frame(CONT, b"\xf4\x90\x80\x80", fin=False)  # invalid; the message never ends
    ws.expect_close(1007)


# 7.x close handling ------------------------------------------------------------------


def test_7_1_1_close_after_message(server: Any, raw_ws: Any) -> None:
    """Autobahn 7.1.1: echo, then a normal close handshake."""
    ws = raw_ws(*server)
    ws.send_frame(TEXT, b"hello")
    assert ws.recv_frame()[3] == b"hello"
    ws.send_frame(CLOSE, (1000).to_bytes(2, "big"))
    ws.expect_close(1000)


def test_7_1_3_to_7_1_5_frames_after_close_ignored(server: Any, raw_ws: Any) -> None:
    """Autobahn 7.1.3-7.1.5: data and pings after the close frame get no answer."""
    ws = raw_ws(*server)
    ws.send_frame(CLOSE, (1000).to_bytes(2, "big"))
    try:  # the server may already have closed TCP: that is allowed too
        ws.send_frame(TEXT, b"after close")
        ws.send_frame(PING, b"after close")
    except OSError:
        pass
    ws.expect_close(1000)


def test_7_3_1_empty_close(server: Any, raw_ws: Any) -> None:
    """Autobahn 7.3.1: close with no payload -> close with no payload."""
    ws = raw_ws(*server)
    ws.send_frame(CLOSE, b"")
    ws.expect_close(None)


def test_7_3_2_one_byte_close_payload_fails(server: Any, raw_ws: Any) -> None:
    """Autobahn 7.3.2: close payload of one byte -> 1002."""
    ws = raw_ws(*server)
    ws.send_frame(CLOSE, b"\x03")
    ws.expect_close(1002)


def test_7_3_3_to_7_3_5_close_with_reason(server: Any, raw_ws: Any) -> None:
    """Autobahn 7.3.3-7.3.5: close with code and (max-length) reason -> echoed code."""
    for reason in (b"", b"Hello World!", b"*" * 123):
        ws = raw_ws(*server)
        ws.send_frame(CLOSE, (1000).to_bytes(2, "big") + reason)
        ws.expect_close(1000)


def test_7_3_6_close_payload_too_long_fails(server: Any, raw_ws: Any) -> None:
    """Autobahn 7.3.6: close with a 124-byte reason (126-byte payload) -> 1002."""
    ws = raw_ws(*server)
    ws.send_frame(CLOSE, (1000).to_bytes(2, "big") + b"*" * 124)
    ws.expect_close(1002)


def test_7_5_1_close_reason_invalid_utf8(server: Any, raw_ws: Any) -> None:
    """Autobahn 7.5.1: close reason that is not UTF-8 -> 1007."""
    ws = raw_ws(*server)
    ws.send_frame(
        CLOSE,
        (1000).to_bytes(2, "big") + b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80",
    )
    ws.expect_close(1007)


@pytest.mark.parametrize(
    "code", [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999]
)
def test_7_7_valid_close_codes_echoed(server: Any, raw_ws: Any, code: int) -> None:
    """Autobahn 7.7.1-7.7.13: valid close codes are echoed."""
    ws = raw_ws(*server)
    ws.send_frame(CLOSE, code.to_bytes(2, "big"))
    ws.expect_close(code)


@pytest.mark.parametrize(
    "code", [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]
)
def test_7_9_invalid_close_codes_fail(server: Any, raw_ws: Any, code: int) -> None:
    """Autobahn 7.9.1-7.9.13 (and 7.13.x): invalid close codes -> 1002."""
    ws = raw_ws(*server)
    ws.send_frame(CLOSE, code.to_bytes(2, "big"))
    ws.expect_close(1002)


def test_7_server_initiated_close(server: Any, raw_ws: Any) -> None:
    """Server-initiated close: code and reason reach the client; its reply completes it."""
    ws = raw_ws(*server)
    ws.send_frame(TEXT, b"close:4321")
    opcode, _, _, payload = ws.recv_frame()
    assert opcode == CLOSE and payload == (4321).to_bytes(2, "big") + b"bye"
    ws.send_frame(CLOSE, (4321).to_bytes(2, "big"))
    assert ws.raw.is_closed(timeout=3)


# 9.x limits and performance ----------------------------------------------------------


@pytest.mark.parametrize("size", [64 * 1024, 256 * 1024, 1024 * 1024, 4 * 1024 * 1024])
@pytest.mark.parametrize("opcode", [TEXT, BINARY])
def test_9_1_9_2_large_messages(server: Any, raw_ws: Any, size: int, opcode: int) -> None:
    """Autobahn 9.1.1-9.1.5 (text) and 9.2.1-9.2.5 (binary): one large frame echoed."""
    ws = raw_ws(*server)
    payload = b"*" * size if opcode == TEXT else os.urandom(size)
    ws.send_frame(opcode, payload)
    assert ws.recv_frame() == (opcode, True, 0, payload)


@pytest.mark.parametrize("fragment", [64, 4096, 65536])
def test_9_3_9_4_fragmented_large_messages(server: Any, raw_ws: Any, fragment: int) -> None:
    """Autobahn 9.3.x/9.4.x: a 1 MiB message in fragments of 64 B to 64 KiB."""
    ws = raw_ws(*server)
    payload = b"x" * (1024 * 1024)
    chunks = [payload[i : i + fragment] for i in range(0, len(payload), fragment)]
    ws.send_frame(BINARY, chunks[0], fin=False)
    for chunk in chunks[1:-1]:
        ws.send_frame(CONT, chunk, fin=False)
    ws.send_frame(CONT, chunks[-1], fin=True)
    assert ws.recv_frame() == (BINARY, True, 0, payload)


def test_9_7_9_8_many_small_messages(server: Any, raw_ws: Any) -> None:
    """Autobahn 9.7.x/9.8.x: 1000 small messages sent back to back, echoed in order."""
    ws = raw_ws(*server)
    for i in range(1000):
        ws.send_frame(TEXT, b"message %d" % i)
    for i in range(1000):
        assert ws.recv_frame()[3] == b"message %d" % i


def test_9_message_over_limit_fails_1009(serve: Any, ws_echo: Any, raw_ws: Any) -> None:
    """Limits: a message over ``ws_max_message_size`` (single frame or fragments) -> 1009."""
    with serve(ws_echo, ws_per_message_deflate=False, ws_max_message_size=1000) as addr:
        ws = raw_ws(*addr)
        ws.send_frame(BINARY, b"x" * 1001)
        ws.expect_close(1009)
        ws = raw_ws(*addr)
        ws.send_frame(BINARY, b"x" * 600, fin=False)
        ws.send_frame(CONT, b"x" * 600, fin=True)
        ws.expect_close(1009)


def test_unmasked_client_frame_fails(server: Any, raw_ws: Any) -> None:
    """RFC 6455 5.1: client frames must be masked -> 1002."""
    ws = raw_ws(*server)
    ws.raw.send(b"\x81\x05hello")
    ws.expect_close(1002)
