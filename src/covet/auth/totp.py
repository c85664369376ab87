"""One-time passwords for two-factor login: TOTP (RFC 6238) over HOTP (RFC 4226), stdlib only.

Secrets are base32 strings (what authenticator apps take); ``provisioning_uri`` builds the
``otpauth://`` URI a QR code carries. ``verify`` returns the matched *time step*: store it
and pass it back as ``last_step`` so a code cannot be used twice (``ReplayGuard`` does this
in memory for one process). Recovery codes are one-time backup codes stored hashed with
``covet.auth.passwords``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import struct
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from covet.auth.passwords import PasswordHasher

__all__ = (
    "MAX_WINDOW",
    "Algorithm",
    "ReplayGuard",
    "at",
    "consume_recovery_code",
    "generate_recovery_codes",
    "generate_secret",
    "hash_recovery_code",
    "hotp",
    "now",
    "provisioning_uri",
    "time_step",
    "verify",
)

Algorithm = Literal["SHA1", "SHA256", "SHA512"]

_DIGESTS: dict[str, Callable[[], Any]] = {
    "SHA1": hashlib.sha1,
    "SHA256": hashlib.sha256,
    "SHA512": hashlib.sha512,
}
MAX_WINDOW = 10
"""``verify`` refuses wider windows: each step of tolerance is another valid code."""


# -- secrets --------------------------------------------------------------------------


def generate_secret(nbytes: int = 20) -> str:
    """A random base32 secret (unpadded) of ``nbytes`` bytes: 20 (160 bits) as RFC 4226 advises."""
    if nbytes < 16:
        raise ValueError("a TOTP secret needs at least 16 bytes (128 bits, RFC 4226)")
    return base64.b32encode(secrets.token_bytes(nbytes)).decode("ascii").rstrip("=")


def _key(secret: str | bytes) -> bytes:
    """The raw key: ``bytes`` as given, ``str`` decoded as base32 (spaces, case, padding ignored)."""
    if isinstance(secret, bytes):
        key = secret
    elif isinstance(secret, str):
        text = "".join(secret.split()).upper().rstrip("=")
        try:
            key = base64.b32decode(text + "=" * (-len(text) % 8))
        except (binascii.Error, ValueError):
            raise ValueError("the TOTP secret is not valid base32") from None
    else:
        raise TypeError("the TOTP secret must be a base32 str or raw bytes")
    if not key:
        raise ValueError("the TOTP secret is empty")
    return key


def _check(digits: int, algorithm: str) -> Callable[[], Any]:
    if digits not in (6, 7, 8):
        raise ValueError("digits must be 6, 7 or 8")
    try:
        return _DIGESTS[algorithm]
    except KeyError:
        raise ValueError(f"unknown algorithm {algorithm!r}: use SHA1, SHA256 or SHA512") from None


# -- codes ----------------------------------------------------------------------------


def _hotp(key: bytes, counter: int, digits: int, digest: Callable[[], Any]) -> str:
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F  # dynamic truncation, RFC 4226 section 5.3
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def hotp(
    secret: str | bytes, counter: int, *, digits: int = 6, algorithm: Algorithm = "SHA1"
) -> str:
    """The HOTP code (RFC 4226) for ``counter``."""
    digest = _check(digits, algorithm)
    if not 0 <= counter < 2**64:
        raise ValueError("the counter must fit in 8 unsigned bytes")
    return _hotp(_key(secret), counter, digits, digest)


def time_step(
    for_time: float | datetime | None = None, *, period: int = 30, t0: int = 0
) -> int:
    """The RFC 6238 time step ``T = floor((time - t0) / period)`` (now when ``for_time`` is None).

    A ``datetime`` must be timezone-aware (a naive one would be read in local time).
    """
    if period <= 0:
        raise ValueError("period must be positive")
    return int((_seconds(for_time) - t0) // period)


def _seconds(for_time: float | datetime | None) -> float:
    if for_time is None:
        return time.time()
    if isinstance(for_time, datetime):
        if for_time.tzinfo is None:
            raise ValueError("for_time must be a timezone-aware datetime")
        return for_time.timestamp()
    return float(for_time)


def at(
    secret: str | bytes,
    for_time: float | datetime,
    *,
    digits: int = 6,
    algorithm: Algorithm = "SHA1",
    period: int = 30,
    t0: int = 0,
) -> str:
    """The TOTP code valid at ``for_time`` (Unix seconds or an aware ``datetime``)."""
    step = time_step(for_time, period=period, t0=t0)
    return hotp(secret, step, digits=digits, algorithm=algorithm)


def now(
    secret: str | bytes, *, digits: int = 6, algorithm: Algorithm = "SHA1", period: int = 30
) -> str:
    """The TOTP code valid now."""
    return hotp(secret, time_step(period=period), digits=digits, algorithm=algorithm)


def verify(
    secret: str | bytes,
    code: str,
    *,
    window: int = 1,
    last_step: int | None = None,
    for_time: float | datetime | None = None,
    digits: int = 6,
    algorithm: Algorithm = "SHA1",
    period: int = 30,
    t0: int = 0,
) -> int | None:
    """The time step ``code`` is valid for, or None.

    ``window`` steps either side of the current one are accepted (clock skew; 1 = +-30 s).
    Steps at or before ``last_step`` are refused: pass the step returned by the previous
    successful ``verify`` of this user, and store the new one, so a code works once.
    Whitespace in ``code`` is ignored; anything but ``digits`` ASCII digits is refused
    (None, never an exception). Every candidate is compared in constant time, and when
    two steps of the window share the code, the later step is returned.
    """
    digest = _check(digits, algorithm)
    if not 0 <= window <= MAX_WINDOW:
        raise ValueError(f"window must be between 0 and {MAX_WINDOW}")
    key = _key(secret)
    if not isinstance(code, str):
        return None
    given = "".join(code.split())
    if len(given) != digits or not (given.isascii() and given.isdigit()):
        return None
    current = time_step(for_time, period=period, t0=t0)
    given_bytes = given.encode("ascii")
    matched: int | None = None
    for step in range(current - window, current + window + 1):
        if step < 0 or (last_step is not None and step <= last_step):
            continue
        if hmac.compare_digest(_hotp(key, step, digits, digest).encode("ascii"), given_bytes):
            matched = step  # no early exit: the time does not say which step matched
    return matched


def provisioning_uri(
    secret: str | bytes,
    account: str,
    issuer: str,
    *,
    digits: int = 6,
    algorithm: Algorithm = "SHA1",
    period: int = 30,
) -> str:
    """The ``otpauth://totp/Issuer:account?secret=...&issuer=Issuer`` URI for a QR code.

    Parameters at their defaults (SHA1, 6 digits, 30 s) are left out: some authenticator
    apps ignore or mishandle them. Neither ``issuer`` nor ``account`` may contain ``:``.
    """
    _check(digits, algorithm)
    if not account or not issuer:
        raise ValueError("account and issuer are required")
    if ":" in account or ":" in issuer:
        raise ValueError("account and issuer must not contain ':' (it separates them)")
    encoded = base64.b32encode(_key(secret)).decode("ascii").rstrip("=")
    label = f"{quote(issuer, safe='')}:{quote(account, safe='@')}"
    params = [("secret", encoded), ("issuer", issuer)]
    if algorithm != "SHA1":
        params.append(("algorithm", algorithm))
    if digits != 6:
        params.append(("digits", str(digits)))
    if period != 30:
        params.append(("period", str(period)))
    query = "&".join(f"{name}={quote(value, safe='')}" for name, value in params)
    return f"otpauth://totp/{label}?{query}"


class ReplayGuard:
    """Refuses a code already used, per user, in this process (memory only).

    ``guard.verify(user_id, secret, code)`` is ``verify`` with ``last_step`` taken from and
    stored in memory: a second use of the same code (or of an older one) is refused.
    Several processes need the last step stored with the user instead (see docs/auth.md).
    Entries are forgotten once their codes are outside every window.
    """

    __slots__ = ("_entries", "_lock", "max_entries")

    def __init__(self, *, max_entries: int = 100_000) -> None:
        self.max_entries = max_entries
        self._entries: dict[Any, tuple[int, float]] = {}  # key -> (last step, forget after)
        self._lock = threading.Lock()

    def verify(
        self,
        user_key: Any,
        secret: str | bytes,
        code: str,
        *,
        window: int = 1,
        for_time: float | datetime | None = None,
        digits: int = 6,
        algorithm: Algorithm = "SHA1",
        period: int = 30,
        t0: int = 0,
    ) -> bool:
        """Whether ``code`` is valid for ``secret`` and newer than the last code ``user_key`` used."""
        with self._lock:
            entry = self._entries.get(user_key)
            clock = _seconds(for_time)
            if entry is not None and entry[1] <= clock:
                entry = None
            step = verify(
                secret,
                code,
                window=window,
                last_step=None if entry is None else entry[0],
                for_time=for_time,
                digits=digits,
                algorithm=algorithm,
                period=period,
                t0=t0,
            )
            if step is None:
                return False
            if len(self._entries) >= self.max_entries:
                self._forget(clock)
            # past this time even the widest window only reaches steps newer than ``step``
            self._entries[user_key] = (step, t0 + (step + MAX_WINDOW + 1) * period)
            return True

    def _forget(self, clock: float) -> None:
        stale = [key for key, (_, until) in self._entries.items() if until <= clock]
        for key in stale:
            del self._entries[key]
        while len(self._entries) >= self.max_entries:  # all live: drop the oldest entries
            del self._entries[next(iter(self._entries))]


# -- recovery codes -------------------------------------------------------------------

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"  # no i, l, o, u: nothing to misread
_MISREAD = str.maketrans({"o": "0", "i": "1", "l": "1"})
_RECOVERY_LENGTH = 10  # 50 bits
_recovery_hasher = PasswordHasher(ln=12)
"""scrypt with N=2**12 (~10 ms): the codes are random (50 bits), so the slow hash need
not be as slow as for passwords, and verifying a code tries every stored hash."""


def generate_recovery_codes(count: int = 10) -> list[str]:
    """``count`` random one-time codes such as ``"7kq2m-x9d4e"`` (show them once)."""
    if not 1 <= count <= 100:
        raise ValueError("count must be between 1 and 100")
    codes = []
    for _ in range(count):
        raw = "".join(secrets.choice(_CROCKFORD) for _ in range(_RECOVERY_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def _normalize_recovery(code: str) -> str | None:
    if not isinstance(code, str) or len(code) > 64:
        return None
    text = "".join(code.split()).replace("-", "").lower().translate(_MISREAD)
    if len(text) != _RECOVERY_LENGTH or any(c not in _CROCKFORD for c in text):
        return None
    return text


def hash_recovery_code(code: str) -> str:
    """The hash to store for ``code`` (scrypt, see ``covet.auth.passwords``)."""
    normalized = _normalize_recovery(code)
    if normalized is None:
        raise ValueError("not a recovery code")
    return _recovery_hasher.hash(normalized)


def consume_recovery_code(code: str, hashed_codes: Sequence[str]) -> list[str] | None:
    """The stored hashes without the one ``code`` matches, or None when it matches none.

    Store the returned list in place of the old one (conditionally on the old value, so
    two concurrent uses of one code cannot both succeed). A malformed code is refused
    without hashing. CPU-bound (about 10 ms per stored hash): call it in a threadpool.
    """
    normalized = _normalize_recovery(code)
    if normalized is None:
        return None
    for index, hashed in enumerate(hashed_codes):
        if _recovery_hasher.verify(normalized, hashed):
            return [*hashed_codes[:index], *hashed_codes[index + 1 :]]
    return None
