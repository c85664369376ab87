"""covet.auth.totp: RFC 4226 / RFC 6238 vectors, verification windows, replay, recovery codes."""

from __future__ import annotations

import base64
import hmac
import re
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from covet.auth import totp

RFC_SEED = b"12345678901234567890"
SEEDS = {
    "SHA1": RFC_SEED,
    "SHA256": b"12345678901234567890123456789012",
    "SHA512": b"1234567890123456789012345678901234567890123456789012345678901234",
}

# RFC 4226, Appendix D: HOTP values for counters 0..9 of the ASCII seed "1234...890".
RFC4226 = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]

# RFC 6238, Appendix B: (Unix time, T in hex, TOTP, algorithm), 8 digits, 30 s steps.
RFC6238 = [
    (59, "0000000000000001", "94287082", "SHA1"),
    (59, "0000000000000001", "46119246", "SHA256"),
    (59, "0000000000000001", "90693936", "SHA512"),
    (1111111109, "00000000023523EC", "07081804", "SHA1"),
    (1111111109, "00000000023523EC", "68084774", "SHA256"),
    (1111111109, "00000000023523EC", "25091201", "SHA512"),
    (1111111111, "00000000023523ED", "14050471", "SHA1"),
    (1111111111, "00000000023523ED", "67062674", "SHA256"),
    (1111111111, "00000000023523ED", "99943326", "SHA512"),
    (1234567890, "000000000273EF07", "89005924", "SHA1"),
    (1234567890, "000000000273EF07", "91819424", "SHA256"),
    (1234567890, "000000000273EF07", "93441116", "SHA512"),
    (2000000000, "0000000003F940AA", "69279037", "SHA1"),
    (2000000000, "0000000003F940AA", "90698825", "SHA256"),
    (2000000000, "0000000003F940AA", "38618901", "SHA512"),
    (20000000000, "0000000027BC86AA", "65353130", "SHA1"),
    (20000000000, "0000000027BC86AA", "77737706", "SHA256"),
    (20000000000, "0000000027BC86AA", "47863826", "SHA512"),
]

B32 = base64.b32encode(RFC_SEED).decode()  # GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ


@pytest.mark.parametrize(("counter", "expected"), list(enumerate(RFC4226)))
def test_rfc4226_hotp_vectors(counter: int, expected: str) -> None:
    assert totp.hotp(RFC_SEED, counter) == expected
    assert totp.hotp(B32, counter) == expected  # the same key as base32 text


@pytest.mark.parametrize(("when", "step_hex", "expected", "algorithm"), RFC6238)
def test_rfc6238_totp_vectors(when: int, step_hex: str, expected: str, algorithm: Any) -> None:
    seed = SEEDS[algorithm]
    assert totp.time_step(when) == int(step_hex, 16)
    assert totp.at(seed, when, digits=8, algorithm=algorithm) == expected
    assert totp.verify(seed, expected, for_time=when, digits=8, algorithm=algorithm, window=0) == int(step_hex, 16)
    assert totp.at(seed, when, digits=6, algorithm=algorithm) == expected[2:]  # 6 digits: mod 10**6


def test_aware_datetimes_and_naive_refused() -> None:
    when = datetime(2005, 3, 18, 1, 58, 29, tzinfo=timezone.utc)  # 1111111109
    assert totp.at(RFC_SEED, when, digits=8) == "07081804"
    with pytest.raises(ValueError, match="timezone-aware"):
        totp.at(RFC_SEED, datetime(2005, 3, 18, 1, 58, 29))


def test_now_is_the_code_of_the_current_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(totp.time, "time", lambda: 1111111109.5)
    assert totp.now(RFC_SEED, digits=8) == "07081804"
    assert totp.time_step() == 0x23523EC
    assert totp.verify(RFC_SEED, "07081804", digits=8) == 0x23523EC


def test_period_and_t0() -> None:
    assert totp.time_step(119, period=60) == 1
    assert totp.time_step(100, period=30, t0=40) == 2
    assert totp.at(RFC_SEED, 40 + 59, t0=40) == totp.at(RFC_SEED, 59)
    with pytest.raises(ValueError, match="period"):
        totp.time_step(1, period=0)


# -- verify -----------------------------------------------------------------------------

T = 1111111109  # step 0x23523EC


def code_at_offset(offset: int, **kw: Any) -> str:
    return totp.at(RFC_SEED, T + offset * 30, **kw)


@pytest.mark.parametrize(
    ("window", "offset", "accepted"),
    [
        (1, 0, True), (1, -1, True), (1, 1, True), (1, -2, False), (1, 2, False),
        (0, 0, True), (0, -1, False), (0, 1, False),
        (2, -2, True), (2, 2, True), (2, 3, False),
    ],
)  # fmt: skip
def test_clock_skew_window(window: int, offset: int, accepted: bool) -> None:
    step = totp.verify(RFC_SEED, code_at_offset(offset), for_time=T, window=window)
    assert step == (0x23523EC + offset if accepted else None)


def test_window_bounds() -> None:
    for window in (-1, totp.MAX_WINDOW + 1):
        with pytest.raises(ValueError, match="window"):
            totp.verify(RFC_SEED, "123456", window=window)
    assert totp.verify(RFC_SEED, code_at_offset(-10), for_time=T, window=10) == 0x23523EC - 10


@pytest.mark.parametrize(
    "code",
    [
        "", "0708180", "070818044", "07081804x", "0708 18a4", "-7081804", "+7081804",
        "\uff10\uff17\uff10\uff18\uff11\uff18\uff10\uff14",  # fullwidth 07081804: isdigit() is True
        "\u0660\u0667\u0660\u0668\u0661\u0668\u0660\u0664",  # Arabic-Indic digits
        "7081804.",
    ],
)  # fmt: skip
def test_malformed_codes_are_refused_without_error(code: str) -> None:
    assert totp.verify(RFC_SEED, code, for_time=T, digits=8) is None


@pytest.mark.parametrize("code", [None, 7081804, b"07081804", ["07081804"]])
def test_non_string_codes_are_refused(code: Any) -> None:
    assert totp.verify(RFC_SEED, code, for_time=T, digits=8) is None


def test_whitespace_inside_the_code_is_ignored() -> None:
    assert totp.verify(RFC_SEED, " 0708 1804\n", for_time=T, digits=8) == 0x23523EC
    assert totp.verify(RFC_SEED, "070 818", for_time=T) is None  # a 6-digit code is the last 6
    six = code_at_offset(0)
    assert totp.verify(RFC_SEED, f"{six[:3]} {six[3:]}", for_time=T) == 0x23523EC


def test_wrong_length_for_the_configured_digits() -> None:
    eight = code_at_offset(0, digits=8)
    assert totp.verify(RFC_SEED, eight, for_time=T) is None            # 8 digits, 6 expected
    assert totp.verify(RFC_SEED, eight[2:], for_time=T, digits=8) is None


def test_other_algorithm_or_secret_does_not_verify() -> None:
    sha1 = code_at_offset(0, digits=8)
    assert totp.verify(SEEDS["SHA256"], sha1, for_time=T, digits=8, algorithm="SHA256") is None
    assert totp.verify(b"another secret of twenty b", sha1, for_time=T, digits=8) is None


def test_last_step_refuses_replay_and_older_codes() -> None:
    code = code_at_offset(0)
    step = totp.verify(RFC_SEED, code, for_time=T)
    assert step == 0x23523EC
    assert totp.verify(RFC_SEED, code, for_time=T, last_step=step) is None          # replay
    assert totp.verify(RFC_SEED, code_at_offset(-1), for_time=T, last_step=step) is None
    assert totp.verify(RFC_SEED, code_at_offset(1), for_time=T, last_step=step) == step + 1


def test_a_code_shared_by_two_steps_returns_the_later_step() -> None:
    """Counters 910737 and 910738 of the RFC seed both give 911617: returning the earlier
    step would let the same code pass a second time, as the later step."""
    assert totp.hotp(RFC_SEED, 910737) == totp.hotp(RFC_SEED, 910738) == "911617"
    when = 910737 * 30
    assert totp.verify(RFC_SEED, "911617", for_time=when) == 910738
    assert totp.verify(RFC_SEED, "911617", for_time=when, last_step=910738) is None


def test_every_candidate_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(totp.hmac, "compare_digest", spy)
    assert totp.verify(RFC_SEED, code_at_offset(-1), for_time=T, window=2) == 0x23523EC - 1
    assert len(calls) == 5  # no early exit after the match
    assert all(isinstance(a, bytes) and isinstance(b, bytes) for a, b in calls)


def test_steps_before_t0_are_never_candidates() -> None:
    assert totp.verify(RFC_SEED, totp.hotp(RFC_SEED, 0), for_time=10, window=3) == 0


@pytest.mark.parametrize("digits", [5, 9, 0])
def test_unsupported_digits(digits: int) -> None:
    with pytest.raises(ValueError, match="digits"):
        totp.at(RFC_SEED, 59, digits=digits)


def test_unknown_algorithm() -> None:
    with pytest.raises(ValueError, match="algorithm"):
        totp.at(RFC_SEED, 59, algorithm="MD5")  # type: ignore[arg-type]


def test_counter_range() -> None:
    with pytest.raises(ValueError):
        totp.hotp(RFC_SEED, -1)
    with pytest.raises(ValueError):
        totp.hotp(RFC_SEED, 2**64)
    assert len(totp.hotp(RFC_SEED, 2**64 - 1)) == 6


# -- secrets and provisioning ------------------------------------------------------------


def test_generate_secret() -> None:
    secret = totp.generate_secret()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    assert len(base64.b32decode(secret)) == 20
    assert secret != totp.generate_secret()
    assert len(totp.generate_secret(32)) == 52  # 256 bits, unpadded
    with pytest.raises(ValueError, match="16 bytes"):
        totp.generate_secret(10)


def test_base32_secrets_are_read_leniently() -> None:
    grouped = " ".join(B32.lower()[i : i + 4] for i in range(0, len(B32), 4))
    assert totp.at(grouped, 59, digits=8) == "94287082"
    unpadded = base64.b32encode(b"0123456789").decode().rstrip("=")
    assert totp.at(unpadded, 59) == totp.at(b"0123456789", 59)


@pytest.mark.parametrize("secret", ["not base32!", "A", "", "   "])
def test_invalid_secrets(secret: str) -> None:
    with pytest.raises(ValueError, match="secret"):
        totp.verify(secret, "123456")


def test_secret_type() -> None:
    with pytest.raises(TypeError):
        totp.at(12345, 59)  # type: ignore[arg-type]


def test_provisioning_uri() -> None:
    uri = totp.provisioning_uri(B32, "ada@example.com", "ACME Co")
    assert uri == (
        "otpauth://totp/ACME%20Co:ada@example.com"
        "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME%20Co"
    )
    assert totp.provisioning_uri(RFC_SEED, "ada@example.com", "ACME Co") == uri


def test_provisioning_uri_parameters_and_encoding() -> None:
    uri = totp.provisioning_uri(
        "gezd gnbv gy3t qojq gezd gnbv gy3t qojq", "zoë+1@x.org", "Shop & Co/EU",
        digits=8, algorithm="SHA256", period=60,
    )  # fmt: skip
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert parts.path == "/Shop%20%26%20Co%2FEU:zo%C3%AB%2B1@x.org"
    assert parse_qs(parts.query) == {
        "secret": [B32.rstrip("=")],
        "issuer": ["Shop & Co/EU"],
        "algorithm": ["SHA256"],
        "digits": ["8"],
        "period": ["60"],
    }


@pytest.mark.parametrize(("account", "issuer"), [("a:b", "Shop"), ("ada", "Sh:op"), ("", "Shop"), ("ada", "")])
def test_provisioning_uri_refuses_bad_labels(account: str, issuer: str) -> None:
    with pytest.raises(ValueError):
        totp.provisioning_uri(B32, account, issuer)


# -- ReplayGuard --------------------------------------------------------------------------


def test_replay_guard_accepts_each_code_once_per_user() -> None:
    guard = totp.ReplayGuard()
    code = code_at_offset(0)
    assert guard.verify("ada", RFC_SEED, code, for_time=T)
    assert not guard.verify("ada", RFC_SEED, code, for_time=T)                 # reused
    assert not guard.verify("ada", RFC_SEED, code, for_time=T + 30)            # still in window
    assert not guard.verify("ada", RFC_SEED, code_at_offset(-1), for_time=T)   # older
    assert guard.verify("bob", RFC_SEED, code, for_time=T)                     # another user
    assert guard.verify("ada", RFC_SEED, code_at_offset(1), for_time=T + 30)   # the next code
    assert not guard.verify("ada", RFC_SEED, "000000", for_time=T + 30)


def test_replay_guard_forgets_entries_outside_every_window() -> None:
    guard = totp.ReplayGuard(max_entries=2)
    assert guard.verify("a", RFC_SEED, code_at_offset(0), for_time=T)
    assert guard.verify("b", RFC_SEED, code_at_offset(0), for_time=T)
    later = T + (totp.MAX_WINDOW + 2) * 30
    assert guard.verify("c", RFC_SEED, totp.at(RFC_SEED, later), for_time=later)
    assert set(guard._entries) == {"c"}  # a and b could not be replayed any more: dropped


def test_replay_guard_bounds_memory_when_all_entries_are_live() -> None:
    guard = totp.ReplayGuard(max_entries=2)
    for user in ("a", "b", "c"):
        assert guard.verify(user, RFC_SEED, code_at_offset(0), for_time=T)
    assert len(guard._entries) == 2 and "c" in guard._entries


# -- recovery codes ---------------------------------------------------------------------


def test_generate_recovery_codes() -> None:
    codes = totp.generate_recovery_codes()
    assert len(codes) == len(set(codes)) == 10
    assert all(re.fullmatch(r"[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}", c) for c in codes)
    assert len(totp.generate_recovery_codes(3)) == 3
    for count in (0, 101):
        with pytest.raises(ValueError):
            totp.generate_recovery_codes(count)


def test_recovery_codes_are_consumed_once() -> None:
    codes = totp.generate_recovery_codes(3)
    hashed = [totp.hash_recovery_code(c) for c in codes]
    assert all(h.startswith("$scrypt$ln=12,") and codes[0] not in h for h in hashed)
    remaining = totp.consume_recovery_code(codes[1], hashed)
    assert remaining == [hashed[0], hashed[2]]
    assert totp.consume_recovery_code(codes[1], remaining) is None  # used up
    assert totp.consume_recovery_code(codes[0], remaining) == [hashed[2]]
    assert totp.consume_recovery_code(codes[0], []) is None


def test_recovery_code_input_is_normalised() -> None:
    hashed = [totp.hash_recovery_code("0a1b2-c3d4e")]
    for typed in ("0A1B2-C3D4E", "0a1b2c3d4e", " 0a1b2 c3d4e ", "oaib2-c3d4e", "OALB2C3D4E"):
        assert totp.consume_recovery_code(typed, hashed) == [], typed


def test_malformed_recovery_codes_are_refused_without_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    hashed = [totp.hash_recovery_code("0a1b2-c3d4e")]
    calls: list[str] = []
    monkeypatch.setattr(totp._recovery_hasher, "verify", lambda *a: calls.append("v") or False)
    for bad in ("", "0a1b2-c3d4", "0a1b2-c3d4ef", "0a1b2-c3d4u", "x" * 10_000, None, 1234567890):
        assert totp.consume_recovery_code(bad, hashed) is None  # type: ignore[arg-type]
    assert calls == []
    with pytest.raises(ValueError, match="recovery code"):
        totp.hash_recovery_code("not-a-code")
